"""Small template helpers for the staff pages: texts kept per language on models."""

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from akkoord.consent.rules import ConsentStatus

register = template.Library()

STATUS_LABELS = {
    ConsentStatus.NONE: _("no consent"),
    ConsentStatus.PENDING: _("pending confirmation"),
    ConsentStatus.GRANTED: _("consent given"),
    ConsentStatus.UNPROVEN: _("unproven consent"),
    ConsentStatus.WITHDRAWN: _("withdrawn"),
}

STATUS_BADGES = {
    ConsentStatus.GRANTED: "ok",
    ConsentStatus.PENDING: "warn",
    ConsentStatus.UNPROVEN: "warn",
    ConsentStatus.WITHDRAWN: "bad",
}


def current_language() -> str:
    return "nl" if (get_language() or "nl").startswith("nl") else "en"


@register.filter
def in_language(obj, attribute: str) -> str:
    """``{{ purpose|in_language:"name" }}`` reads ``name_nl`` or ``name_en``."""
    if obj is None:
        return ""
    return getattr(obj, f"{attribute}_{current_language()}", "") or getattr(
        obj, f"{attribute}_en", ""
    )


@register.filter
def status_label(status) -> str:
    try:
        return str(STATUS_LABELS[ConsentStatus(status)])
    except ValueError:
        return str(status)


@register.filter
def status_badge(status) -> str:
    try:
        return STATUS_BADGES.get(ConsentStatus(status), "")
    except ValueError:
        return ""
