"""What the customer centre shows on staff pages of other apps (``akkoord.lib.panels``)."""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from akkoord.centre.models import ErasureRequest, RequestStatus
from akkoord.consent.explain import REASON_TEXTS
from akkoord.consent.models import Suppression
from akkoord.consent.rules import Reason
from akkoord.contacts.models import ActivityKind, ContactField

_OPEN = [RequestStatus.OPEN, RequestStatus.EXTENDED]


CORE_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "organisation_name": _("Organisation"),
    "language": _("Language"),
    "email": _("E-mail address"),
}


def corrections(contact, limit: int = 20) -> list[dict]:
    """The person's own corrections in the centre (art. 16): field, old and new value."""
    language = (translation.get_language() or "nl")[:2]
    labels = {f"fields.{f.key}": f.label(language) for f in ContactField.objects.all()}
    rows = []
    activities = contact.activities.filter(kind=ActivityKind.CHANGED, data__via="centre").order_by(
        "-occurred_at", "-id"
    )[:limit]
    for activity in activities:
        for key, (old, new) in sorted((activity.data.get("changes") or {}).items()):
            rows.append(
                {
                    "when": activity.occurred_at,
                    "field": CORE_LABELS.get(key) or labels.get(key, key),
                    "old": old,
                    "new": new,
                }
            )
    return rows


def contact_panel(request, contact):
    """Why a contact cannot be mailed (suppression list), any open erasure request,
    and what the person corrected themselves."""
    suppression = Suppression.objects.filter(email_hash=contact.email_hash).first()
    open_request = contact.erasure_requests.filter(status__in=_OPEN).first()
    changes = corrections(contact)
    if suppression is None and open_request is None and not changes:
        return None
    return (
        "centre/panel_contact.html",
        {
            "suppression": suppression,
            "suppression_text": REASON_TEXTS[Reason.SUPPRESSED],
            "open_request": open_request,
            "corrections": changes,
        },
    )


def dashboard_panel(request):
    """Open erasure requests and the nearest deadline."""
    open_requests = list(ErasureRequest.objects.filter(status__in=_OPEN).order_by("deadline"))
    if not open_requests:
        return None
    now = timezone.now()
    return (
        "centre/panel_dashboard.html",
        {
            "count": len(open_requests),
            "overdue": sum(1 for r in open_requests if r.due < now),
            "next_due": min(r.due for r in open_requests),
        },
    )
