"""What the customer centre shows on staff pages of other apps (``akkoord.lib.panels``)."""

from __future__ import annotations

from django.utils import timezone

from akkoord.centre.models import ErasureRequest, RequestStatus
from akkoord.consent.explain import REASON_TEXTS
from akkoord.consent.models import Suppression
from akkoord.consent.rules import Reason

_OPEN = [RequestStatus.OPEN, RequestStatus.EXTENDED]


def contact_panel(request, contact):
    """Why a contact cannot be mailed (suppression list), and any open erasure request."""
    suppression = Suppression.objects.filter(email_hash=contact.email_hash).first()
    open_request = contact.erasure_requests.filter(status__in=_OPEN).first()
    if suppression is None and open_request is None:
        return None
    return (
        "centre/panel_contact.html",
        {
            "suppression": suppression,
            "suppression_text": REASON_TEXTS[Reason.SUPPRESSED],
            "open_request": open_request,
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
