"""The public webhook endpoint of the sending services: ``/hooks/bounces/<provider>``.

Verified first (``providers``, ``sns``), then each event lands on its delivery
and is recorded once (``services.record_report``). Answers: 200 with counts
when taken, 403/404/400 with a reason when refused. An event whose delivery is
unknown is counted as such and answered 200, so the service does not retry it
for days; nothing is acted on twice.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from akkoord.deliverability import services
from akkoord.deliverability.parse import redact
from akkoord.deliverability.providers import READERS, ProviderEvent, Refused
from akkoord.deliverability.sns import read_ses

logger = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
_READERS = {**READERS, "ses": read_ses}


def record_events(events: list[ProviderEvent], *, source: str, raw: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        outcome = _record(event, source=source, raw=raw)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _record(event: ProviderEvent, *, source: str, raw: str) -> str:
    if event.kind is None:
        return services.Outcome.NOT_A_BOUNCE
    delivery = services.find_delivery(
        text=event.verp_text, message_id=event.message_id, email=event.email
    )
    if delivery is None:
        return services.Outcome.UNKNOWN_DELIVERY
    result = services.record_report(
        event.kind,
        delivery,
        source=source,
        fingerprint=services.fingerprint(source, event.event_id),
        status=event.status,
        diagnostic=redact(event.diagnostic),
        feedback_type=event.feedback_type,
        occurred_at=event.occurred_at,
        raw=raw,
    )
    return result.outcome


@csrf_exempt
@require_POST
def receive(request, provider: str):
    reader = _READERS.get(provider)
    if reader is None:
        return JsonResponse({"error": "Unknown provider."}, status=404)
    body = request.body[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return JsonResponse({"error": "The body is too large."}, status=413)
    try:
        events = reader(body, request.headers)
    except Refused as refused:
        logger.warning("webhook %s refused: %s", provider, refused)
        return JsonResponse({"error": str(refused)}, status=refused.status)
    counts = record_events(events, source=provider, raw=body.decode("utf-8", "replace"))
    return JsonResponse({"ok": True, "events": counts})
