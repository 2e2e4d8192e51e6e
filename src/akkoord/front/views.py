"""The dashboard and /healthz."""

from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_safe

from akkoord.accounts.decorators import staff_required
from akkoord.campaigns.watchdog import any_stalled
from akkoord.consent import words
from akkoord.consent.models import ConsentState, Purpose
from akkoord.consent.rules import ConsentStatus, customer_cutoff
from akkoord.contacts.models import Activity, Contact
from akkoord.front.dashboard import chart_bars, last_months, recent_campaigns
from akkoord.lib.panels import dashboard as dashboard_panels
from akkoord.organisation.models import Organisation


@require_safe
def healthz(request):
    """Liveness for load balancers: database reachable, worker seen recently,
    no sending campaign without a live worker.

    Only a database failure answers 503: the web server itself cannot work.
    A stalled campaign answers 200 with ``"status": "degraded"`` and
    ``"campaigns": "stalled"`` (monitoring alerts on it; a load balancer must
    not take the web server out of service for a dead sending worker).
    """
    status = {"status": "ok", "database": "ok", "worker": "unknown", "campaigns": "unknown"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        status.update(status="error", database="error")
        return JsonResponse(status, status=503)
    status["worker"] = _worker_status()
    status["campaigns"] = "stalled" if any_stalled() else "ok"
    if status["campaigns"] == "stalled":
        status["status"] = "degraded"
    return JsonResponse(status)


def _worker_status() -> str:
    from akkoord.front.models import HEARTBEAT_SECONDS, WorkerHeartbeat

    beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if beat is None:
        return "not seen"
    age = (timezone.now() - beat.seen_at).total_seconds()
    # A live worker beats every HEARTBEAT_SECONDS; four missed beats (a long
    # database stall, a busy machine) before a load balancer is told "stale".
    return "ok" if age < 4 * HEARTBEAT_SECONDS else "stale"


def _recent_activity() -> list:
    recent = list(Activity.objects.select_related("contact").order_by("-occurred_at", "-id")[:15])
    for activity in recent:
        activity.description = words.describe(activity)
        activity.actor_text = words.actor_label(activity.actor)
        activity.lang = words.foreign_language(activity)
    return recent


@require_GET
@staff_required
def dashboard(request):
    """Counts at a glance, recent activity, and the panels other apps register."""
    organisation = Organisation.current()
    cutoff = customer_cutoff(timezone.localdate(), organisation.customer_relationship_months)
    # One grouped query over the (purpose, status) index, not one per purpose.
    counts: dict[int, dict[str, int]] = {}
    for row in ConsentState.objects.values("purpose_id", "status").annotate(n=Count("pk")):
        counts.setdefault(row["purpose_id"], {})[row["status"]] = row["n"]
    purposes = [
        {
            "purpose": purpose,
            "granted": counts.get(purpose.pk, {}).get(ConsentStatus.GRANTED.value, 0),
            "pending": counts.get(purpose.pk, {}).get(ConsentStatus.PENDING.value, 0),
            "unproven": counts.get(purpose.pk, {}).get(ConsentStatus.UNPROVEN.value, 0),
            "withdrawn": counts.get(purpose.pk, {}).get(ConsentStatus.WITHDRAWN.value, 0),
        }
        for purpose in Purpose.objects.filter(is_active=True)
    ]
    months = last_months()
    context = {
        "organisation": organisation,
        "contact_count": Contact.objects.count(),
        "customer_count": Contact.objects.filter(last_purchase_on__gte=cutoff).count(),
        "objected_count": Contact.objects.filter(objected_at__isnull=False).count(),
        "purposes": purposes,
        "recent": _recent_activity(),
        "months": months,
        "chart": chart_bars(months),
        "campaigns": recent_campaigns(),
        "panels": dashboard_panels.render(request),
    }
    return render(request, "front/dashboard.html", context)
