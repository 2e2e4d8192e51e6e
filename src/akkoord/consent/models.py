"""Purposes, the append-only consent ledger, and its derived current state."""

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from akkoord.consent.rules import ConsentStatus, EventKind


class Purpose(models.Model):
    """One reason for processing (*doel*), e.g. "Nieuwsbrief"."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    consent_text_nl = models.TextField(_("consent text (Dutch)"), max_length=1000)
    consent_text_en = models.TextField(_("consent text (English)"), max_length=1000)
    is_marketing = models.BooleanField(
        _("direct marketing"),
        default=True,
        help_text=_("Marketing purposes need a legal basis per contact; service purposes do not."),
    )
    double_opt_in = models.BooleanField(_("double opt-in required"), default=True)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=730,
        help_text=_("How long data is kept once the basis has ended."),
    )
    retention_reason_nl = models.CharField(
        _("reason for the retention (Dutch)"), max_length=300, blank=True
    )
    retention_reason_en = models.CharField(
        _("reason for the retention (English)"), max_length=300, blank=True
    )
    is_active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("purpose")

    def __str__(self) -> str:
        # In the language of the page being rendered: form choices and lists
        # show the purpose by str(), and showed the English name in Dutch pages.
        return self.name(get_language() or "en")

    def name(self, language: str) -> str:
        return self.name_nl if language.startswith("nl") else self.name_en

    def consent_text(self, language: str) -> str:
        return self.consent_text_nl if language == "nl" else self.consent_text_en


class Channel(models.TextChoices):
    FORM = "form", _("Sign-up form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    STAFF = "staff", _("Staff user (phone or in person)")
    CENTRE = "centre", _("Customer centre")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    REPERMISSION = "repermission", _("Re-permission mail")
    SYSTEM = "system", _("Akkoord (automatic)")


class LedgerHead(models.Model):
    """The tip of the hash chain; its row lock serialises appends."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)


class ConsentEvent(models.Model):
    """One append-only entry of the consent ledger: the record of every consent, withdrawal and objection with its proof.

    The database refuses UPDATE and DELETE of these rows (triggers, see the
    migrations). The row holds no personal data: the person is named by the
    pseudonymous ``subject_key`` and the proof (IP, user agent, text shown) lives
    in ``ConsentProof``, which erasure may delete; ``proof_digest`` keeps the
    chain verifiable after that.
    """

    seq = models.BigIntegerField(unique=True)
    subject_key = models.UUIDField(db_index=True)
    purpose = models.ForeignKey(
        Purpose, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=[(k.value, k.value) for k in EventKind])
    needs_confirmation = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    channel_ref = models.CharField(max_length=200, blank=True)
    privacy_statement_version = models.CharField(max_length=50, blank=True)
    confirms_seq = models.BigIntegerField(null=True, blank=True)
    proof_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_key", "purpose", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class ConsentProof(models.Model):
    """The personal part of an event's proof; deleted when the person is erased."""

    event = models.OneToOneField(ConsentEvent, on_delete=models.PROTECT, related_name="proof")
    subject_key = models.UUIDField(db_index=True)
    data = models.JSONField()


class Erasure(models.Model):
    """A person whose proof was erased: lets `ledger verify` tell erasure from tampering."""

    subject_key = models.UUIDField(unique=True)
    erased_at = models.DateTimeField(default=timezone.now)


class ProofErasure(models.Model):
    """One event whose proof was erased on its own (e.g. an expired, unconfirmed grant).

    Lets `ledger verify` tell this erasure from tampering when the person remains.
    """

    event_seq = models.BigIntegerField(unique=True)
    reason = models.CharField(max_length=30)
    erased_at = models.DateTimeField(default=timezone.now)


class Suppression(models.Model):
    """A keyed hash of an address that must never be brought back into marketing."""

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=30, default="erased")
    created_at = models.DateTimeField(default=timezone.now)


class ConsentState(models.Model):
    """Current consent of one contact for one purpose: what replaying the ledger gives."""

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="consent_states"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="states")
    status = models.CharField(max_length=20, choices=[(s.value, s.value) for s in ConsentStatus])
    changed_at = models.DateTimeField()
    # The grant event that is the basis (or would be, once confirmed).
    grant_seq = models.BigIntegerField(null=True, blank=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.BigIntegerField()
    # When the last event of the fold happened (events count in time order).
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "purpose"], name="one_state_per_purpose"),
        ]
        indexes = [models.Index(fields=["purpose", "status"])]
