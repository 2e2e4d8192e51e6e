"""Sign-up forms, their immutable versions, and sign-ups waiting for confirmation."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.contacts.models import Language


def _public_key() -> str:
    return secrets.token_urlsafe(9)


class SignupForm(models.Model):
    """A sign-up form. What the public sees is its ``current_version``.

    Editing a form makes a new ``FormVersion``; versions never change, so a
    consent proof can point at the exact text the person saw.
    """

    name = models.CharField(_("name (for staff)"), max_length=100)
    public_key = models.CharField(max_length=20, unique=True, default=_public_key, editable=False)
    is_published = models.BooleanField(_("published"), default=False)
    current_version = models.ForeignKey(
        "FormVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("sign-up form")

    def __str__(self) -> str:
        return self.name


class FormVersion(models.Model):
    """One frozen state of a form: fields, purposes with their exact texts, links."""

    form = models.ForeignKey(SignupForm, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    language = models.CharField(_("language"), max_length=5, choices=Language.choices)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), max_length=2000, blank=True)
    # [{"key": "first_name", "required": false}, ...]: core fields and ContactField keys.
    fields = models.JSONField(default=list)
    # [{"id": 3, "key": "nieuwsbrief", "name": "...", "text": "..."}]: snapshots.
    purposes = models.JSONField(default=list)
    privacy_statement_url = models.URLField(
        _("privacy statement URL"),
        blank=True,
        help_text=_("Leave empty to use the organisation's privacy statement."),
    )
    thank_you_text = models.TextField(_("thank-you text"), max_length=2000)
    confirmed_text = models.TextField(_("text after confirming"), max_length=2000)
    expiry_days = models.PositiveIntegerField(_("days an unconfirmed sign-up is kept"), default=30)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set once the version has been public: only such versions accept sign-ups.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="one_number_per_form_version"),
        ]

    def __str__(self) -> str:
        return f"{self.form.name} v{self.number}"

    @property
    def channel_ref(self) -> str:
        return f"form:{self.form_id}:v{self.number}"

    def effective_privacy_url(self) -> str:
        return self.privacy_statement()[0]

    def privacy_statement(self) -> tuple[str, str]:
        """(URL, version) of the privacy statement this form links to now.

        A URL set on the form wins; otherwise the latest statement Akkoord
        published (``accountability``); otherwise the organisation's URL. A
        URL's version is a digest of it, so a changed link shows in the proof.
        """
        import hashlib

        from akkoord.organisation.models import Organisation

        def by_url(url: str) -> tuple[str, str]:
            return url, ("url:" + hashlib.sha256(url.encode()).hexdigest()[:16]) if url else ""

        if self.privacy_statement_url:
            return by_url(self.privacy_statement_url)
        try:
            from akkoord.accountability.models import StatementVersion

            latest = StatementVersion.objects.order_by("-number").first()
        except (ImportError, LookupError):  # pragma: no cover - accountability not installed
            latest = None
        if latest is not None:
            from django.urls import reverse

            path = reverse("accountability:statement_version", args=[latest.number])
            return settings.AKKOORD_BASE_URL + path, str(latest.number)
        return by_url(Organisation.current().privacy_statement_url)

    def purpose_by_key(self) -> dict[str, dict]:
        return {p["key"]: p for p in self.purposes}


class PendingSignup(models.Model):
    """A sign-up waiting for its double opt-in: the single-use link and the expiry.

    The link's token is stored only as a SHA-256 digest. ``grants`` names the
    ledger events (``[{"purpose": id, "seq": n}]``) the confirmation confirms.
    """

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="pending_signups"
    )
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, default="form")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    grants = models.JSONField(default=list)
    created_contact = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    mail_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"pending sign-up {self.pk}"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.confirmed_at is None and self.expires_at > now
