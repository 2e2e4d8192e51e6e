"""``POST /api/v1/delivery-reports``: bounces and complaints from anything else.

For a relay or a service without a webhook of its own here. Needs the
``reports:write`` scope. The caller names the message (its Message-ID, or our
return path, or at least the address) and gives its own id for the report,
so that sending the same report twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from akkoord.api.errors import ERRORS, ApiError, need
from akkoord.api.models import Scope
from akkoord.deliverability import services
from akkoord.deliverability.models import ReportKind, ReportSource
from akkoord.deliverability.parse import redact

# Mounted on the REST API by ``api.v1``.
router = Router()


class DeliveryReportIn(Schema):
    kind: Literal["hard_bounce", "soft_bounce", "complaint"]
    report_id: str = Field(
        ..., min_length=1, max_length=200, description="Your id for this report (idempotency)."
    )
    message_id: str = Field("", max_length=200, description="The Message-ID of the mail sent.")
    return_path: str = Field(
        "", max_length=320, description="The envelope sender of the mail sent (bounces+...@...)."
    )
    email: str = Field("", max_length=254, description="The recipient, when nothing else is known.")
    status: str = Field("", max_length=12, description="Enhanced status code, e.g. 5.1.1.")
    diagnostic: str = Field("", max_length=1000)
    feedback_type: str = Field("", max_length=30, description="For complaints: abuse, fraud...")
    occurred_at: datetime | None = Field(None, description="When it happened; never in the future.")
    raw: str = Field("", max_length=200_000, description="The report as received, if any.")


class DeliveryReportOut(Schema):
    outcome: str
    report: int | None = None
    delivery: int | None = None


@router.post(
    "/delivery-reports",
    response={201: DeliveryReportOut, 200: DeliveryReportOut, **ERRORS},
    tags=["deliverability"],
)
def create_delivery_report(request, payload: DeliveryReportIn):
    """Record a bounce or a complaint about a mail Akkoord sent; once per report_id."""
    key = need(request, Scope.REPORTS_WRITE)
    if payload.occurred_at is not None:
        if payload.occurred_at.tzinfo is None:
            raise ApiError(422, "invalid", _("occurred_at needs a time zone."))
        if payload.occurred_at > timezone.now():
            raise ApiError(422, "future", _("occurred_at lies in the future."))
    delivery = services.find_delivery(
        text=f"<{payload.return_path}>" if payload.return_path else "",
        message_id=payload.message_id,
        email=payload.email,
    )
    if delivery is None:
        raise ApiError(
            404,
            "unknown_delivery",
            _("No mail sent by Akkoord matches this message_id, return_path or email."),
        )
    result = services.record_report(
        ReportKind(payload.kind),
        delivery,
        source=ReportSource.API,
        fingerprint=services.fingerprint("api", key.pk, payload.report_id),
        status=payload.status,
        diagnostic=redact(payload.diagnostic),
        feedback_type=payload.feedback_type,
        occurred_at=payload.occurred_at,
        raw=payload.raw,
    )
    body = DeliveryReportOut(
        outcome=result.outcome,
        report=result.report.pk if result.report else None,
        delivery=delivery.pk,
    )
    return Status(201 if result.outcome == services.Outcome.RECORDED else 200, body)
