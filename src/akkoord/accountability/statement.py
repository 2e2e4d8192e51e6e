"""The privacy statement (the information GDPR art. 13 and 14 require), generated from the processing register.

The statement has 11 parts, one per item the law asks the controller to tell. ``build_statement`` reads
the register data (``register.build_register``), the organisation's details and
the staff's free texts, and returns the parts with, for each, what is missing.
Publishing freezes both languages as a ``StatementVersion``; it is refused
while any part is missing.

Other apps use ``current_statement_version()`` (recorded in consent proofs)
and ``current_statement_url()`` (linked from forms and marketing mail).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from akkoord.accountability import register
from akkoord.accountability.models import AccountabilitySettings, StatementVersion
from akkoord.lib.periods import describe_days
from akkoord.organisation.models import Organisation

PARTS = [
    ("identity", gettext_lazy("Who we are")),
    ("contact", gettext_lazy("How to reach us")),
    ("purposes", gettext_lazy("Why we process your data")),
    ("recipients", gettext_lazy("Who receives your data")),
    ("retention", gettext_lazy("How long we keep your data, and why")),
    ("rights", gettext_lazy("Your right of access, rectification and erasure")),
    ("objection", gettext_lazy("Your right to object")),
    ("withdrawal", gettext_lazy("Your right to withdraw consent")),
    ("complaint", gettext_lazy("Your right to complain to the Autoriteit Persoonsgegevens")),
    ("required", gettext_lazy("Whether you must give us your data")),
    ("automated", gettext_lazy("Automated processing and cookies")),
]
FREE_TEXT_PARTS = ["rights", "objection", "withdrawal", "complaint", "required", "automated"]
PLACEHOLDER_NAMES = register.PLACEHOLDER_NAMES


class StatementIncomplete(Exception):
    """Publishing was refused; ``missing`` names each gap ("part (language): what")."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("; ".join(missing))


def _identity(data: dict) -> tuple[list[str], list[str]]:
    controller = data["controller"]
    missing = []
    if controller["name"].strip() in PLACEHOLDER_NAMES:
        missing.append(_("the organisation's name"))
    if not controller["address"].strip():
        missing.append(_("the postal address"))
    lines = [controller["name"], *controller["address"].splitlines()]
    if controller["chamber_of_commerce"]:
        lines.append(
            _("Chamber of Commerce number %(number)s")
            % {"number": controller["chamber_of_commerce"]}
        )
    return [line for line in lines if line.strip()], missing


def _contact(data: dict) -> tuple[list[str], list[str]]:
    controller = data["controller"]
    missing = [] if controller["email"] else [_("an e-mail address for privacy questions")]
    lines = []
    if controller["email"]:
        lines.append(_("E-mail: %(email)s") % {"email": controller["email"]})
    if controller["phone"]:
        lines.append(_("Phone: %(phone)s") % {"phone": controller["phone"]})
    if controller["website"]:
        lines.append(_("Website: %(url)s") % {"url": controller["website"]})
    if data["dpo"]:
        lines.append(
            _("Our data protection officer: %(name)s %(email)s")
            % {"name": data["dpo"]["name"], "email": data["dpo"]["email"]}
        )
    return lines, missing


def _purposes(data: dict) -> tuple[list[str], list[str]]:
    lines, missing = [], []
    for activity in data["activities"]:
        if not activity["purposes"].strip():
            missing.append(_("a description of “%(name)s”") % {"name": activity["name"]})
        lines.append(
            _("%(name)s: %(purposes)s Legal basis: %(basis)s. Data: %(categories)s.")
            % {
                "name": activity["name"],
                "purposes": activity["purposes"].strip(),
                "basis": activity["legal_basis"],
                "categories": ", ".join(activity["data_categories"]).lower(),
            }
        )
    if not data["activities"]:
        missing.append(_("at least one purpose"))
    return lines, missing


def _recipients(data: dict) -> tuple[list[str], list[str]]:
    lines, missing = [], []
    for processor in data["processors"]:
        if not processor["country"]:
            missing.append(_("the country of processor “%(name)s”") % {"name": processor["name"]})
            continue
        line = _("%(name)s (%(service)s), in %(country)s.") % processor
        if processor["flagged"]:
            missing.append(
                _("a transfer safeguard for “%(name)s”, outside the EU")
                % {"name": processor["name"]}
            )
        elif processor["outside_eea"]:
            line += " " + _("Outside the EU, under: %(safeguard)s %(detail)s") % {
                "safeguard": processor["safeguard"],
                "detail": processor["safeguard_detail"],
            }
        lines.append(line.strip())
    for activity in data["activities"]:
        if activity["recipients"].strip():
            lines.append(f"{activity['name']}: {activity['recipients'].strip()}")
    if not data["processors"]:
        missing.append(_("at least one processor or recipient"))
    lines.append(
        _("Your data is stored in %(country)s (%(location)s).")
        % {"country": data["storage"]["country"], "location": data["storage"]["location"]}
    )
    return lines, missing


def _retention(data: dict) -> tuple[list[str], list[str]]:
    lines, missing = [], []
    for activity in data["activities"]:
        if not activity["retention_reason"].strip():
            missing.append(
                _("the reason for the retention of “%(name)s”") % {"name": activity["name"]}
            )
        lines.append(
            _("%(name)s: %(period)s after the basis ended. %(reason)s")
            % {
                "name": activity["name"],
                "period": describe_days(activity["retention_days"]),
                "reason": activity["retention_reason"].strip(),
            }
        )
    lines.append(
        _(
            "As a customer you count as a customer for %(months)s months after your last "
            "purchase; within that time we may e-mail you about similar products unless you "
            "object."
        )
        % {"months": data["customer_relationship_months"]}
    )
    return lines, missing


def build_statement(language: str, data: dict | None = None) -> dict:
    """The statement in ``language``: ``{"language", "parts": [...], "missing": [...]}``.

    Each part is ``{"key", "title", "lines", "missing"}``; ``missing`` at the top
    lists ``[part title, what is missing]`` for every gap.
    """
    language = "nl" if language == "nl" else "en"
    data = data or register.build_register(language)
    config = AccountabilitySettings.current()
    builders = {
        "identity": _identity,
        "contact": _contact,
        "purposes": _purposes,
        "recipients": _recipients,
        "retention": _retention,
    }
    parts, all_missing = [], []
    with translation.override(language):
        for key, title in PARTS:
            if key in builders:
                lines, missing = builders[key](data)
            else:
                text = config.text(key, language).strip()
                lines = [p.strip() for p in text.split("\n\n") if p.strip()]
                missing = [] if text else [_("the text")]
            parts.append({"key": key, "title": str(title), "lines": lines, "missing": missing})
            all_missing += [[str(title), what] for what in missing]
        return {
            "language": language,
            "organisation": data["controller"]["name"],
            "parts": parts,
            "missing": all_missing,
        }


def missing_parts(content: dict | None = None) -> list[str]:
    """Every gap, in either language, as "part (language): what"; empty when complete."""
    content = content or {"nl": build_statement("nl"), "en": build_statement("en")}
    gaps = []
    for language in ("nl", "en"):
        for title, what in content[language]["missing"]:
            label = f"{title} ({language}): {what}"
            if label not in gaps:
                gaps.append(label)
    return gaps


def publish(user=None, *, material: bool = False) -> StatementVersion:
    """Publish the statement as generated now; refuse with the list of gaps.

    The register is frozen alongside, so every statement names the register
    version it was made from.
    """
    with transaction.atomic():
        content = {"nl": build_statement("nl"), "en": build_statement("en")}
        gaps = missing_parts(content)
        if gaps:
            raise StatementIncomplete(gaps)
        register_version = register.save_version(user)
        last = StatementVersion.objects.select_for_update().order_by("-number").first()
        return StatementVersion.objects.create(
            number=(last.number + 1) if last else 1,
            published_by=user if getattr(user, "pk", None) else None,
            material=material,
            register_version=register_version,
            content=content,
        )


def current_statement() -> StatementVersion | None:
    return StatementVersion.objects.order_by("-number").first()


def current_statement_version() -> str:
    """The version label of the published statement ("" when none is published)."""
    current = current_statement()
    return current.label if current else ""


def current_statement_url() -> str:
    """Absolute URL of the current statement; the organisation's own URL until one is published."""
    current = current_statement()
    if current is None:
        return Organisation.current().privacy_statement_url
    path = reverse("accountability:statement_version", args=[current.number])
    return settings.AKKOORD_BASE_URL + path


def renewal_needed():
    """Granted consents given under a statement older than the last material version.

    Returns ``(material_version, queryset of ConsentState)``, the queryset
    annotated with ``statement_version``: the version recorded with the grant
    ("" when none was, or a digest of an outside URL: both count as older).
    Nothing is written to the ledger.
    """
    from akkoord.consent.models import ConsentEvent, ConsentState
    from akkoord.consent.rules import ConsentStatus

    material = StatementVersion.objects.filter(material=True).order_by("-number").first()
    if material is None:
        return None, ConsentState.objects.none()
    recent = [
        str(n)
        for n in StatementVersion.objects.filter(number__gte=material.number).values_list(
            "number", flat=True
        )
    ]
    version = ConsentEvent.objects.filter(seq=OuterRef("grant_seq")).values(
        "privacy_statement_version"
    )[:1]
    states = (
        ConsentState.objects.filter(status=ConsentStatus.GRANTED.value)
        .annotate(statement_version=Coalesce(Subquery(version), Value("")))
        .exclude(statement_version__in=recent)
    )
    return material, states.select_related("contact", "purpose").order_by(
        "contact_id", "purpose_id"
    )
