"""Contacts (data subjects), their configured fields, purchases and timeline."""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class DataCategory(models.TextChoices):
    """Categories of personal data, as named in the processing register."""

    IDENTITY = "identity", _("Name and identity")
    CONTACT = "contact", _("Contact details")
    DEMOGRAPHIC = "demographic", _("Demographic data")
    PROFESSIONAL = "professional", _("Professional data")
    PREFERENCES = "preferences", _("Preferences and interests")
    PURCHASES = "purchases", _("Purchase history")
    TECHNICAL = "technical", _("Technical data (IP address, browser)")
    COMMUNICATION = "communication", _("Communication history")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    DATE = "date", _("Date")
    NUMBER = "number", _("Number")
    PHONE = "phone", _("Phone number")


class ContactField(models.Model):
    """An optional field the organisation chose to store (data minimisation)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label_nl = models.CharField(_("label (Dutch)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=FieldKind.choices, default=FieldKind.TEXT
    )
    category = models.CharField(_("data category"), max_length=20, choices=DataCategory.choices)
    max_length = models.PositiveIntegerField(_("maximum length"), default=200)
    editable_by_contact = models.BooleanField(_("the person may correct it"), default=True)
    is_active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("contact field")

    def __str__(self) -> str:
        return self.label((get_language() or "nl")[:2])

    def label(self, language: str) -> str:
        return self.label_nl if language == "nl" else self.label_en

    def display(self, value: str) -> str:
        """A stored value as a person reads it: dates in the current language's format."""
        if self.kind == FieldKind.DATE:
            try:
                return date_format(date.fromisoformat(value), "DATE_FORMAT")
            except ValueError:
                return value
        return value


class SourceKind(models.TextChoices):
    FORM = "form", _("Sign-up form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    STAFF = "staff", _("Entered by staff")
    DEMO = "demo", _("Demo data")


class Language(models.TextChoices):
    NL = "nl", "Nederlands"
    EN = "en", "English"


class Contact(models.Model):
    """A person whose data the organisation holds (a *betrokkene*).

    Fields marked *derived* are kept by the services that own them
    (purchases, the consent ledger) in the same transaction as their source.
    """

    email = models.CharField(_("e-mail address"), max_length=254, unique=True)
    # Keyed hash of the normalised address; matches the suppression list.
    email_hash = models.CharField(max_length=64, db_index=True, editable=False)
    # The suppression row of this address, if any: no column, only a join on
    # the hash (unique in the suppression list), so that the audience query
    # reads it in one join instead of a subquery per contact.
    suppression = models.ForeignObject(
        "consent.Suppression",
        on_delete=models.DO_NOTHING,
        from_fields=["email_hash"],
        to_fields=["email_hash"],
        related_name="+",
        null=True,
        editable=False,
        serialize=False,
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.NL
    )
    source_kind = models.CharField(_("source"), max_length=10, choices=SourceKind.choices)
    source_detail = models.CharField(_("source detail"), max_length=200, blank=True)
    collected_from_person = models.BooleanField(
        _("data collected from the person directly"),
        default=True,
        help_text=_("If not, the person must be informed within one month (GDPR art. 14(3))."),
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # Pseudonym that ledger events carry instead of a foreign key: the ledger
    # outlives the person (erasure) without holding anything that names them.
    ledger_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    # Customer relationship (derived from purchases).
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    last_purchase_on = models.DateField(_("last purchase"), null=True, blank=True, db_index=True)
    objection_offered_at_sale = models.BooleanField(
        _("offered the chance to object to marketing at a sale"), default=False
    )
    # Objection to all direct marketing, GDPR art. 21 (derived from the ledger):
    # the time of the objection in force, None once the person lifted it.
    objected_at = models.DateTimeField(_("objected to direct marketing"), null=True, blank=True)
    # Whether the person ever objected, lifted or not (derived from the ledger):
    # the soft opt-in never comes back after an objection.
    has_objected = models.BooleanField(_("has objected to direct marketing"), default=False)
    # Deliverability: set by the sending pipeline.
    hard_bounced_at = models.DateTimeField(_("hard bounce"), null=True, blank=True)
    # The last spam complaint (derived from the ledger).
    complained_at = models.DateTimeField(_("spam complaint"), null=True, blank=True)
    # When the person was sent the privacy confirmation (GDPR art. 14: within a month of getting the data elsewhere).
    informed_at = models.DateTimeField(_("informed (privacy confirmation)"), null=True, blank=True)
    # Set while a worker sends the automatic privacy confirmation: the claim that
    # keeps a second worker from sending it too (notices.send_automatically).
    informing_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact")

    def __str__(self) -> str:
        return self.display_name

    def clean_fields(self, exclude=None):
        # ``suppression`` is for queries only: validating it would read the row
        # (DoesNotExist when there is none) and write back ``email_hash``.
        super().clean_fields(exclude={*(exclude or ()), "suppression"})

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @property
    def is_customer(self) -> bool:
        return self.last_purchase_on is not None


class ContactFieldValue(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(ContactField, on_delete=models.PROTECT, related_name="values")
    value = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "field"], name="one_value_per_field"),
        ]


UNCATEGORISED = "uncategorised"
# A purchase amount: up to 9,999,999,999.99 in the organisation's currency.
AMOUNT_MAX_DIGITS = 12
AMOUNT_DECIMAL_PLACES = 2


class ProductCategory(models.Model):
    """A kind of product or service the organisation sells.

    The soft opt-in covers offers for products *similar* to what the person
    bought: a campaign names its categories, and only purchases in a category
    similar to one of them carry the customer basis. Every category is similar
    to itself; the organisation adds which others are similar (symmetric).
    """

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    similar_to = models.ManyToManyField(
        "self", blank=True, symmetrical=True, verbose_name=_("similar categories")
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name((get_language() or "nl")[:2])

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en

    @classmethod
    def uncategorised(cls) -> "ProductCategory":
        """The category of purchases recorded without one (and of all purchases before categories)."""
        category, _created = cls.objects.get_or_create(
            key=UNCATEGORISED,
            defaults={"name_nl": "Zonder categorie", "name_en": "Uncategorised"},
        )
        return category


def similar_category_keys(keys) -> frozenset[str]:
    """The named categories and every category similar to one of them."""
    keys = set(keys)
    similar = ProductCategory.similar_to.through.objects.filter(
        from_productcategory__key__in=keys
    ).values_list("to_productcategory__key", flat=True)
    return frozenset(keys | set(similar))


class Purchase(models.Model):
    """A sale to the contact: the ground of the customer relationship (soft opt-in)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="purchases")
    purchased_on = models.DateField(_("date of purchase"))
    description = models.CharField(_("what was bought"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        related_name="purchases",
        verbose_name=_("product category"),
    )
    reference = models.CharField(_("order reference"), max_length=100, blank=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text=_("What the purchase cost, in the organisation's currency (optional)."),
    )
    objection_offered = models.BooleanField(
        _("the person was offered the chance to object to marketing at this sale"), default=False
    )
    source_kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.STAFF
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-purchased_on", "-id"]
        # The soft opt-in query asks "a purchase in these categories since the cut-off?".
        indexes = [
            models.Index(
                fields=["contact", "category", "purchased_on"], name="purchase_contact_category"
            )
        ]


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Registered")
    CHANGED = "changed", _("Data changed")
    PURCHASE = "purchase", _("Purchase")
    CONSENT = "consent", _("Consent change")
    MAIL = "mail", _("E-mail sent")
    EXPORT = "export", _("Data exported")
    REQUEST = "request", _("Request")
    NOTE = "note", _("Note")


class Activity(models.Model):
    """One entry of a contact's timeline: what happened to the person's data, for staff and for the person.

    ``data`` holds the details: old and new values of a correction, or the
    archived subject and body of a mail.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = _("activities")


class ErasureLog(models.Model):
    """An anonymous count of erasures: when, why, through which channel. No identity."""

    erased_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(max_length=30)
    via = models.CharField(max_length=30)
