"""The accountability documents: processing register, privacy statement, breaches, retention.

Live configuration (activities, processors, texts) is edited by staff; what was
shown to the outside world is frozen in versions (``RegisterVersion``,
``StatementVersion``) that are never changed afterwards.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.accountability.defaults import DEFAULT_TEXTS, INFORMAL_NL
from akkoord.contacts.models import DataCategory
from akkoord.organisation import address
from akkoord.organisation.models import FormOfAddress

# EU member states plus the other EEA countries: transfers within need no safeguard.
EEA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
NOTIFY_AUTHORITY_WITHIN = timedelta(hours=72)


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent (GDPR art. 6(1)(a))")
    CONTRACT = "contract", _("Performance of a contract (art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (art. 6(1)(c))")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest (art. 6(1)(f))")


class Safeguard(models.TextChoices):
    NONE = "", _("None recorded")
    ADEQUACY = "adequacy", _("Adequacy decision of the European Commission")
    SCC = "scc", _("Standard contractual clauses")
    BCR = "bcr", _("Binding corporate rules")
    OTHER = "other", _("Other safeguard (see details)")


class Processor(models.Model):
    """A party that processes personal data for the organisation (art. 28)."""

    name = models.CharField(_("name"), max_length=200)
    service_nl = models.CharField(_("what they do (Dutch)"), max_length=300)
    service_en = models.CharField(_("what they do (English)"), max_length=300)
    country = models.CharField(
        _("country (ISO code)"), max_length=2, help_text=_("Where the data is stored, e.g. NL.")
    )
    safeguard = models.CharField(
        _("transfer safeguard"), max_length=20, choices=Safeguard.choices, blank=True
    )
    safeguard_detail = models.CharField(_("safeguard details"), max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("processor")

    def __str__(self) -> str:
        return self.name

    def service(self, language: str) -> str:
        return self.service_nl if language == "nl" else self.service_en

    @property
    def outside_eea(self) -> bool:
        return self.country.upper() not in EEA_COUNTRIES

    @property
    def flagged(self) -> bool:
        """Outside the EU/EEA without a recorded transfer safeguard."""
        return self.outside_eea and not self.safeguard


class AccountabilitySettings(models.Model):
    """The organisation's answers the register and statement need (a singleton)."""

    storage_country = models.CharField(
        _("country where the data is stored (ISO code)"), max_length=2, default="NL"
    )
    storage_location = models.CharField(
        _("where the data is stored"),
        max_length=300,
        default="Akkoord (self-hosted)",
        help_text=_("Data centre, city or hosting company."),
    )
    security_nl = models.TextField(_("security measures (Dutch)"), blank=True)
    security_en = models.TextField(_("security measures (English)"), blank=True)
    rights_nl = models.TextField(
        _("right of access, rectification and erasure (Dutch)"), blank=True
    )
    rights_en = models.TextField(
        _("right of access, rectification and erasure (English)"), blank=True
    )
    objection_nl = models.TextField(_("right to object (Dutch)"), blank=True)
    objection_en = models.TextField(_("right to object (English)"), blank=True)
    withdrawal_nl = models.TextField(_("right to withdraw consent (Dutch)"), blank=True)
    withdrawal_en = models.TextField(_("right to withdraw consent (English)"), blank=True)
    complaint_nl = models.TextField(_("right to complain (Dutch)"), blank=True)
    complaint_en = models.TextField(_("right to complain (English)"), blank=True)
    required_nl = models.TextField(
        _("whether the data is required by law or contract (Dutch)"), blank=True
    )
    required_en = models.TextField(
        _("whether the data is required by law or contract (English)"), blank=True
    )
    automated_nl = models.TextField(_("automated processing and cookies (Dutch)"), blank=True)
    automated_en = models.TextField(_("automated processing and cookies (English)"), blank=True)
    audit_log_days = models.PositiveIntegerField(_("days audit log entries are kept"), default=730)
    caught_mail_days = models.PositiveIntegerField(
        _("days mail in the local mail catcher is kept"), default=30
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("accountability settings")

    def __str__(self) -> str:
        return "accountability settings"

    @classmethod
    def current(cls) -> AccountabilitySettings:
        row = cls.objects.order_by("pk").first()
        if row is None:
            row = cls.objects.create(**DEFAULT_TEXTS)
        return row

    def text(self, part: str, language: str) -> str:
        """The text of one part in ``language``; an unedited Dutch standard text in the
        organisation's form of address."""
        field = f"{part}_{'nl' if language == 'nl' else 'en'}"
        value = getattr(self, field)
        if (
            field in INFORMAL_NL
            and value == DEFAULT_TEXTS[field]
            and address.current() == FormOfAddress.INFORMAL
        ):
            return INFORMAL_NL[field]
        return value


class ProcessingActivity(models.Model):
    """One line of the processing register, usually one purpose (art. 30(1))."""

    purpose = models.OneToOneField(
        "consent.Purpose",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="processing_activity",
    )
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_nl = models.TextField(_("purpose of the processing (Dutch)"), blank=True)
    description_en = models.TextField(_("purpose of the processing (English)"), blank=True)
    legal_basis = models.CharField(
        _("legal basis"), max_length=30, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    persons_nl = models.CharField(
        _("categories of persons (Dutch)"), max_length=300, default="Klanten en geïnteresseerden"
    )
    persons_en = models.CharField(
        _("categories of persons (English)"),
        max_length=300,
        default="Customers and interested people",
    )
    source_nl = models.CharField(_("source of the data (Dutch)"), max_length=300, blank=True)
    source_en = models.CharField(_("source of the data (English)"), max_length=300, blank=True)
    recipients_nl = models.CharField(_("recipients (Dutch)"), max_length=300, blank=True)
    recipients_en = models.CharField(_("recipients (English)"), max_length=300, blank=True)
    processors = models.ManyToManyField(Processor, blank=True, verbose_name=_("processors"))
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=730,
        help_text=_("Only for activities without a purpose; otherwise the purpose's retention."),
    )
    retention_reason_nl = models.CharField(
        _("reason for the retention (Dutch)"), max_length=300, blank=True
    )
    retention_reason_en = models.CharField(
        _("reason for the retention (English)"), max_length=300, blank=True
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")

    def __str__(self) -> str:
        return self.name_en


class CategoryRetention(models.Model):
    """How long data of one category (``contacts.DataCategory``) is kept, and why."""

    category = models.CharField(
        _("data category"), max_length=20, choices=DataCategory.choices, unique=True
    )
    retention_days = models.PositiveIntegerField(_("retention (days)"), default=365)
    reason_nl = models.CharField(_("reason (Dutch)"), max_length=300, blank=True)
    reason_en = models.CharField(_("reason (English)"), max_length=300, blank=True)

    class Meta:
        ordering = ["category"]
        verbose_name = _("retention of a data category")

    def __str__(self) -> str:
        return f"{self.category}: {self.retention_days}"


class RegisterVersion(models.Model):
    """A frozen copy of the processing register in both languages."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"nl": register, "en": register}: see ``register.build_register``.
    content = models.JSONField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return str(self.number)


class StatementVersion(models.Model):
    """A published privacy statement; never changed after publishing."""

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("Consents given under older versions should be renewed."),
    )
    register_version = models.ForeignKey(
        RegisterVersion, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # {"nl": statement, "en": statement}: see ``statement.build_statement``.
    content = models.JSONField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return str(self.number)

    @property
    def label(self) -> str:
        return str(self.number)


class Breach(models.Model):
    """A personal data breach (art. 33, 34) and what was done about it."""

    title = models.CharField(_("short title"), max_length=200)
    aware_at = models.DateTimeField(_("moment the organisation became aware"), default=timezone.now)
    nature = models.TextField(_("nature of the breach"), max_length=5000)
    categories_of_persons = models.CharField(
        _("categories of persons affected"), max_length=300, blank=True
    )
    categories_of_data = models.CharField(
        _("categories of data affected"), max_length=300, blank=True
    )
    approx_persons = models.PositiveIntegerField(_("approximate number of persons"), default=0)
    approx_records = models.PositiveIntegerField(_("approximate number of records"), default=0)
    consequences = models.TextField(_("likely consequences"), max_length=5000, blank=True)
    measures = models.TextField(_("measures taken or proposed"), max_length=5000, blank=True)
    authority_text = models.TextField(
        _("notification to the Autoriteit Persoonsgegevens"), max_length=10000, blank=True
    )
    authority_notified_at = models.DateTimeField(
        _("notified to the Autoriteit Persoonsgegevens at"), null=True, blank=True
    )
    affected_purpose = models.ForeignKey(
        "consent.Purpose",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("affected: contacts of this purpose"),
    )
    affected_all = models.BooleanField(_("affected: all contacts"), default=False)
    person_subject_nl = models.CharField(
        _("subject to persons (Dutch)"), max_length=200, blank=True
    )
    person_subject_en = models.CharField(
        _("subject to persons (English)"), max_length=200, blank=True
    )
    person_text_nl = models.TextField(_("message to persons (Dutch)"), max_length=10000, blank=True)
    person_text_en = models.TextField(
        _("message to persons (English)"), max_length=10000, blank=True
    )
    persons_notified = models.PositiveIntegerField(default=0)
    notification_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-aware_at", "-pk"]
        verbose_name = _("data breach")

    def __str__(self) -> str:
        return self.title

    @property
    def deadline(self):
        """Art. 33(1): notify the authority within 72 hours of becoming aware."""
        return self.aware_at + NOTIFY_AUTHORITY_WITHIN

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.authority_notified_at is None and now > self.deadline

    def time_left(self, now=None) -> timedelta:
        return self.deadline - (now or timezone.now())


class BreachNotice(models.Model):
    """One affected person was sent the breach notification (no double sending)."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="notices")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["breach", "contact"], name="one_notice_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.breach_id}:{self.contact_id}"


class RetentionRun(models.Model):
    """What one run of the retention job did (or, dry, would do): counts only."""

    started_at = models.DateTimeField(default=timezone.now)
    dry_run = models.BooleanField(default=False)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"
