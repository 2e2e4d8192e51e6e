"""What the accountability app shows on the staff dashboard."""

from __future__ import annotations

from django.utils import timezone

from akkoord.accountability.models import Breach, Processor
from akkoord.accountability.statement import current_statement
from akkoord.contacts.models import Contact
from akkoord.organisation.models import Organisation


def dpo_advice() -> dict | None:
    """Advice to appoint a DPO when the contacts exceed the threshold and none is set."""
    organisation = Organisation.current()
    count = Contact.objects.count()
    if count <= organisation.dpo_advice_threshold:
        return None
    return {
        "count": count,
        "threshold": organisation.dpo_advice_threshold,
        "appointed": bool(organisation.dpo_name or organisation.dpo_email),
    }


def dashboard_panel(request):
    now = timezone.now()
    advice = dpo_advice()
    flagged = [p for p in Processor.objects.all() if p.flagged]
    open_breaches = [b for b in Breach.objects.filter(authority_notified_at__isnull=True)[:20]]
    published = current_statement()
    if not (advice or flagged or open_breaches) and published is not None:
        return None
    return (
        "accountability/panel_dashboard.html",
        {
            "advice": advice,
            "flagged": flagged,
            "open_breaches": [(b, b.is_overdue(now)) for b in open_breaches],
            "published": published,
        },
    )
