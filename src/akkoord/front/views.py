from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness for load balancers: database reachable, worker seen recently."""
    status = {"status": "ok", "database": "ok", "worker": "unknown"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        status.update(status="error", database="error")
        return JsonResponse(status, status=503)
    status["worker"] = _worker_status()
    return JsonResponse(status)


def _worker_status() -> str:
    from akkoord.front.models import WorkerHeartbeat

    beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if beat is None:
        return "not seen"
    age = (timezone.now() - beat.seen_at).total_seconds()
    return "ok" if age < 120 else "stale"
