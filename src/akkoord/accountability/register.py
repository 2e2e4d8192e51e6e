"""The processing register (GDPR art. 30(1)), built from Akkoord's own configuration.

``prefill()`` creates what Akkoord can know by itself (one activity per purpose,
a customer-relationship activity, hosting and the mail server as processors, a
retention per data category); staff complete it. ``build_register(language)``
turns the live configuration into plain data (JSON-serialisable) that the page,
the exports and the privacy statement all read, so they never disagree.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from akkoord.accountability.models import (
    AccountabilitySettings,
    CategoryRetention,
    LegalBasis,
    ProcessingActivity,
    Processor,
    RegisterVersion,
)
from akkoord.consent.models import Purpose
from akkoord.contacts.models import ContactField, DataCategory
from akkoord.organisation.models import Organisation

# Held for every contact, whatever the configured fields: the address (contact),
# the consent proof (technical: IP, browser) and the mail archive (communication).
CORE_CATEGORIES = [DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.TECHNICAL]
MARKETING_CATEGORIES = [DataCategory.PREFERENCES, DataCategory.COMMUNICATION]
CUSTOMER_CATEGORIES = [DataCategory.PURCHASES, DataCategory.COMMUNICATION]
DEFAULT_CATEGORY_DAYS = 365
CUSTOMER_ACTIVITY_KEY = "customers"

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def _lang(obj, field: str, language: str) -> str:
    return getattr(obj, f"{field}_{'nl' if language == 'nl' else 'en'}")


def _default_processors(storage_country: str) -> None:
    if Processor.objects.exists():
        return
    Processor.objects.create(
        name="Hosting",
        service_nl="Hosting van Akkoord en de database",
        service_en="Hosting of Akkoord and its database",
        country=storage_country,
        position=0,
    )
    host = urlsplit(getattr(settings, "AKKOORD_SMTP_URL", "")).hostname or ""
    local = host in _LOCAL_HOSTS
    Processor.objects.create(
        name=_("Mail server") + (f" ({host})" if host and not local else ""),
        service_nl="Versturen van e-mail",
        service_en="Sending e-mail",
        # A local mail server sits where Akkoord sits; a remote one must be completed.
        country=storage_country if local else "",
        position=1,
    )


def _purpose_activity(purpose: Purpose, position: int) -> ProcessingActivity:
    marketing = purpose.is_marketing
    activity, created = ProcessingActivity.objects.get_or_create(
        purpose=purpose,
        defaults={
            "name_nl": purpose.name_nl,
            "name_en": purpose.name_en,
            **_purpose_description(purpose),
            "legal_basis": LegalBasis.CONSENT if marketing else LegalBasis.CONTRACT,
            "source_nl": "De persoon zelf (aanmeldformulier, klantenpagina), imports, API, "
            "medewerkers",
            "source_en": "The person (sign-up form, customer page), imports, API, staff",
            "retention_reason_nl": "Zodat wij kunnen aantonen dat u toestemming gaf en uw "
            "keuzes kunnen respecteren.",
            "retention_reason_en": "So that we can show that you gave consent and respect "
            "your choices.",
            "position": position,
        },
    )
    if created:
        activity.processors.set(Processor.objects.all())
    elif activity.description_nl == purpose.consent_text_nl:
        # Registers made before purposes had a description of their own copied
        # the checkbox text ("Ja, stuur mij..."), which describes nothing.
        for field, value in _purpose_description(purpose).items():
            setattr(activity, field, value)
        activity.save(update_fields=["description_nl", "description_en"])
    return activity


def _purpose_description(purpose: Purpose) -> dict:
    """What the processing for a purpose is, in the register's words (not the checkbox text)."""
    if purpose.is_marketing:
        return {
            "description_nl": f"Per e-mail versturen van “{purpose.name_nl}” aan mensen die "
            "daarvoor toestemming gaven, en het bijhouden en kunnen aantonen van die toestemming.",
            "description_en": f"Sending “{purpose.name_en}” by e-mail to people who consented "
            "to it, and keeping (and being able to show) that consent.",
        }
    return {
        "description_nl": f"“{purpose.name_nl}”: e-mail die nodig is voor de dienst of "
        "overeenkomst met de persoon.",
        "description_en": f"“{purpose.name_en}”: e-mail needed for the service or the "
        "agreement with the person.",
    }


def _customer_activity() -> None:
    if ProcessingActivity.objects.filter(purpose__isnull=True).exists():
        return
    activity = ProcessingActivity.objects.create(
        name_nl="Klantrelatie en dienstverlenende e-mail",
        name_en="Customer relationship and service e-mail",
        description_nl="Uitvoeren van aankopen, dienstverlenende e-mail (bevestigingen, "
        "antwoorden op verzoeken) en, voor vergelijkbare producten, direct marketing aan "
        "klanten die daartegen geen bezwaar maakten.",
        description_en="Carrying out purchases, service e-mail (confirmations, answers to "
        "requests) and, for similar products, direct marketing to customers who did not object.",
        legal_basis=LegalBasis.CONTRACT,
        persons_nl="Klanten",
        persons_en="Customers",
        source_nl="De persoon zelf bij een aankoop",
        source_en="The person, at a purchase",
        retention_days=730,
        retention_reason_nl="Zolang u klant bent en daarna twee jaar, voor vragen over uw aankoop.",
        retention_reason_en="While you are a customer and two years after, for questions about "
        "your purchase.",
        position=1000,
    )
    activity.processors.set(Processor.objects.all())


def prefill() -> None:
    """Create what Akkoord knows by itself; never overwrite what staff entered."""
    with transaction.atomic():
        config = AccountabilitySettings.current()
        _default_processors(config.storage_country)
        for position, purpose in enumerate(Purpose.objects.filter(is_active=True)):
            _purpose_activity(purpose, position)
        _customer_activity()
        for category in DataCategory:
            CategoryRetention.objects.get_or_create(
                category=category.value,
                defaults={
                    "retention_days": DEFAULT_CATEGORY_DAYS,
                    "reason_nl": "Een jaar na het laatste contact, zodat wij uw vragen "
                    "kunnen beantwoorden.",
                    "reason_en": "One year after the last contact, so that we can answer your "
                    "questions.",
                },
            )


def field_categories() -> list[str]:
    """Data categories of the fields the organisation configured (data minimisation)."""
    used = set(
        ContactField.objects.filter(is_active=True).values_list("category", flat=True).distinct()
    )
    return [c.value for c in DataCategory if c.value in used]


def category_days() -> dict[str, int]:
    """Retention in days per data category (the default where none is recorded)."""
    days = {c.value: DEFAULT_CATEGORY_DAYS for c in DataCategory}
    days.update(dict(CategoryRetention.objects.values_list("category", "retention_days")))
    return days


def _processor_data(processor: Processor, language: str) -> dict:
    return {
        "name": processor.name,
        "service": processor.service(language),
        "country": processor.country.upper(),
        "outside_eea": processor.outside_eea,
        "safeguard": str(processor.get_safeguard_display()) if processor.safeguard else "",
        "safeguard_detail": processor.safeguard_detail,
        "flagged": processor.flagged,
    }


def _activity_data(activity: ProcessingActivity, fields: list[str], language: str) -> dict:
    purpose = activity.purpose
    if purpose is not None:
        categories = [*CORE_CATEGORIES, *MARKETING_CATEGORIES]
        days = purpose.retention_days
        reason = _lang(purpose, "retention_reason", language) or _lang(
            activity, "retention_reason", language
        )
    else:
        categories = [*CORE_CATEGORIES, *CUSTOMER_CATEGORIES]
        days = activity.retention_days
        reason = _lang(activity, "retention_reason", language)
    wanted = {str(c) for c in categories} | set(fields)
    processors = [_processor_data(p, language) for p in activity.processors.all()]
    return {
        "id": activity.pk,
        "purpose_key": purpose.key if purpose else "",
        "name": _lang(activity, "name", language),
        "purposes": _lang(activity, "description", language),
        "legal_basis": str(activity.get_legal_basis_display()),
        "persons": _lang(activity, "persons", language),
        "data_categories": [str(c.label) for c in DataCategory if c.value in wanted],
        "source": _lang(activity, "source", language),
        "recipients": _lang(activity, "recipients", language),
        "processors": processors,
        "transfers": [p for p in processors if p["outside_eea"]],
        "retention_days": days,
        "retention_reason": reason,
    }


def build_register(language: str) -> dict:
    """The register as plain data, in ``language`` ("nl" or "en")."""
    language = "nl" if language == "nl" else "en"
    with translation.override(language):
        organisation = Organisation.current()
        config = AccountabilitySettings.current()
        fields = field_categories()
        activities = (
            ProcessingActivity.objects.select_related("purpose")
            .prefetch_related("processors")
            .exclude(purpose__is_active=False)
        )
        retentions = {r.category: r for r in CategoryRetention.objects.all()}
        return {
            "language": language,
            "generated_at": timezone.now().isoformat(),
            "controller": {
                "name": organisation.name,
                "address": organisation.address,
                "email": organisation.contact_email,
                "phone": organisation.phone,
                "website": organisation.website,
                "chamber_of_commerce": organisation.chamber_of_commerce,
            },
            "dpo": (
                {"name": organisation.dpo_name, "email": organisation.dpo_email}
                if organisation.dpo_name or organisation.dpo_email
                else None
            ),
            "storage": {
                "country": config.storage_country.upper(),
                "location": config.storage_location,
            },
            "security": config.text("security", language),
            "customer_relationship_months": organisation.customer_relationship_months,
            "activities": [_activity_data(a, fields, language) for a in activities],
            "processors": [_processor_data(p, language) for p in Processor.objects.all()],
            "categories": [
                {
                    "category": c.value,
                    "label": str(c.label),
                    "retention_days": (
                        retentions[c.value].retention_days
                        if c.value in retentions
                        else DEFAULT_CATEGORY_DAYS
                    ),
                    "reason": _lang(retentions[c.value], "reason", language)
                    if c.value in retentions
                    else "",
                }
                for c in DataCategory
            ],
        }


# A name that is no name: empty, or the placeholder a fresh installation has.
PLACEHOLDER_NAMES = {"", "Mijn organisatie"}


def missing_items(data: dict) -> list[str]:
    """What the register ``data`` still lacks of GDPR art. 30(1), in its language.

    Empty when every item is there: controller, security measures, data
    location, and per processing activity its purposes, persons, source and
    the reason for its retention; a processor outside the EU needs a safeguard.
    """
    gaps = []
    with translation.override(data["language"]):
        controller = data["controller"]
        if controller["name"].strip() in PLACEHOLDER_NAMES or not controller["address"].strip():
            gaps.append(_("The controller's name and address."))
        if not controller["email"].strip():
            gaps.append(_("The controller's e-mail address."))
        if not data["security"].strip():
            gaps.append(_("The security measures."))
        if not data["storage"]["country"].strip():
            gaps.append(_("The country where the data is stored."))
        if not data["activities"]:
            gaps.append(_("At least one processing activity."))
        needed = [
            ("purposes", _("the description of its purposes")),
            ("persons", _("the categories of persons")),
            ("source", _("the source of the data")),
            ("retention_reason", _("the reason for its retention period")),
        ]
        for activity in data["activities"]:
            for key, what in needed:
                if not str(activity[key]).strip():
                    gaps.append(
                        _("%(activity)s: %(what)s.") % {"activity": activity["name"], "what": what}
                    )
        for processor in data["processors"]:
            if not processor["country"]:
                gaps.append(_("The country of processor %(name)s.") % {"name": processor["name"]})
            elif processor["flagged"]:
                gaps.append(
                    _("A transfer safeguard for processor %(name)s, outside the EU.")
                    % {"name": processor["name"]}
                )
    return gaps


def save_version(user=None) -> RegisterVersion:
    """Freeze the current register (both languages) as the next version."""
    with transaction.atomic():
        last = RegisterVersion.objects.select_for_update().order_by("-number").first()
        return RegisterVersion.objects.create(
            number=(last.number + 1) if last else 1,
            created_by=user if getattr(user, "pk", None) else None,
            content={"nl": build_register("nl"), "en": build_register("en")},
        )
