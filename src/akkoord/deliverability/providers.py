"""Sending services' bounce and complaint webhooks: verifying and reading them.

Each ``read_<provider>(request_body, headers)`` checks the provider's own
signature or shared secret first and raises ``Refused`` with a reason when it
does not hold; then it turns the payload into ``ProviderEvent``s. Nothing here
touches the database: ``webhooks.receive`` finds the delivery and records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from akkoord.deliverability.models import ReportKind

MAX_AGE_SECONDS = 15 * 60


class Refused(Exception):
    """The call is not taken; the message says why (shown to the caller, logged)."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ProviderEvent:
    kind: ReportKind | None  # None: an event we do not act on (delivered, auto-reply)
    event_id: str
    email: str = ""
    message_id: str = ""
    verp_text: str = ""  # where a return path of ours may appear (SES: mail.source)
    status: str = ""
    diagnostic: str = ""
    feedback_type: str = ""
    occurred_at: datetime | None = None


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("The body is not JSON.", status=400) from None


def _secret(name: str) -> str:
    value = getattr(settings, name)
    if not value:
        raise Refused(f"This webhook is not configured ({name} is empty).", status=404)
    return value


def _iso(value) -> datetime | None:
    if not value:
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _basic_or_bearer_ok(headers, secret: str) -> bool:
    auth = headers.get("Authorization", "")
    scheme, _space, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), secret.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded.partition(":")[2].encode(), secret.encode())
    return False


# --- Postmark: HTTP Basic (or Bearer) credentials set on the webhook ----------

_POSTMARK_KINDS = {
    "HardBounce": ReportKind.HARD,
    "BadEmailAddress": ReportKind.HARD,
    "ManuallyDeactivated": None,
    "SoftBounce": ReportKind.SOFT,
    "Transient": ReportKind.SOFT,
    "DnsError": ReportKind.SOFT,
    "SpamComplaint": ReportKind.COMPLAINT,
}


def read_postmark(body: bytes, headers) -> list[ProviderEvent]:
    if not _basic_or_bearer_ok(headers, _secret("AKKOORD_WEBHOOK_POSTMARK_SECRET")):
        raise Refused("Wrong or missing credentials for the Postmark webhook.")
    data = _json(body)
    record = data.get("RecordType")
    kind = (
        ReportKind.COMPLAINT if record == "SpamComplaint" else _POSTMARK_KINDS.get(data.get("Type"))
    )
    return [
        ProviderEvent(
            kind=kind,
            event_id=f"postmark:{record}:{data.get('ID')}",
            email=data.get("Email", ""),
            message_id=_header(data.get("Headers"), "Message-ID") or "",
            diagnostic=data.get("Details", ""),
            occurred_at=_iso(data.get("BouncedAt")),
        )
    ]


def _header(headers, name: str) -> str:
    for item in headers or []:
        if (
            isinstance(item, dict)
            and str(item.get("Name", item.get("name", ""))).lower() == name.lower()
        ):
            return str(item.get("Value", item.get("value", "")))
    return ""


# --- Mailgun: HMAC-SHA256 of timestamp + token with the webhook signing key ---


def read_mailgun(body: bytes, headers) -> list[ProviderEvent]:
    key = _secret("AKKOORD_WEBHOOK_MAILGUN_SIGNING_KEY")
    data = _json(body)
    signature = data.get("signature") or {}
    timestamp, token = str(signature.get("timestamp", "")), str(signature.get("token", ""))
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature.get("signature", ""))):
        raise Refused("Wrong signature for the Mailgun webhook.")
    _fresh(timestamp)
    event = data.get("event-data") or {}
    name = event.get("event")
    status = event.get("delivery-status") or {}
    if name == "complained":
        kind = ReportKind.COMPLAINT
    elif name == "failed":
        kind = ReportKind.HARD if event.get("severity") == "permanent" else ReportKind.SOFT
    else:
        kind = None
    code = status.get("enhanced-code") or ""
    return [
        ProviderEvent(
            kind=kind,
            event_id=f"mailgun:{event.get('id')}",
            email=event.get("recipient", ""),
            message_id=((event.get("message") or {}).get("headers") or {}).get("message-id", ""),
            status=str(code),
            diagnostic=str(status.get("description") or status.get("message") or ""),
            occurred_at=_iso(event.get("timestamp")),
        )
    ]


def _fresh(timestamp: str) -> None:
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        raise Refused("The webhook's timestamp is missing.") from None
    if age > MAX_AGE_SECONDS:
        raise Refused("The webhook's timestamp is too old (a replay?).")


# --- SendGrid: ECDSA P-256 signature over timestamp + body --------------------


def read_sendgrid(body: bytes, headers) -> list[ProviderEvent]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = _secret("AKKOORD_WEBHOOK_SENDGRID_PUBLIC_KEY")
    signature = headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
    timestamp = headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    try:
        key = serialization.load_der_public_key(base64.b64decode(public))
        key.verify(
            base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError, TypeError):
        raise Refused("Wrong signature for the SendGrid webhook.") from None
    _fresh(timestamp)
    events = _json(body)
    if not isinstance(events, list):
        raise Refused("The SendGrid webhook sends a list of events.", status=400)
    kinds = {"spamreport": ReportKind.COMPLAINT, "bounce": ReportKind.HARD}
    out = []
    for event in events:
        if not isinstance(event, dict):
            continue
        kind = kinds.get(event.get("event"))
        status = str(event.get("status", ""))
        if kind == ReportKind.HARD and (event.get("type") == "blocked" or status.startswith("4")):
            kind = ReportKind.SOFT
        out.append(
            ProviderEvent(
                kind=kind,
                event_id=f"sendgrid:{event.get('sg_event_id')}",
                email=event.get("email", ""),
                message_id=event.get("smtp-id", ""),
                status=status,
                diagnostic=str(event.get("reason", "")),
                occurred_at=_iso(event.get("timestamp")),
            )
        )
    return out


# --- Brevo: Bearer token (or Basic) set on the webhook ------------------------

_BREVO_KINDS = {
    "hard_bounce": ReportKind.HARD,
    "hardBounce": ReportKind.HARD,
    "soft_bounce": ReportKind.SOFT,
    "softBounce": ReportKind.SOFT,
    "spam": ReportKind.COMPLAINT,
    "complaint": ReportKind.COMPLAINT,
}


def read_brevo(body: bytes, headers) -> list[ProviderEvent]:
    if not _basic_or_bearer_ok(headers, _secret("AKKOORD_WEBHOOK_BREVO_SECRET")):
        raise Refused("Wrong or missing token for the Brevo webhook.")
    data = _json(body)
    return [
        ProviderEvent(
            kind=_BREVO_KINDS.get(data.get("event")),
            event_id=f"brevo:{data.get('event')}:{data.get('message-id')}:{data.get('ts_event')}",
            email=data.get("email", ""),
            message_id=data.get("message-id", ""),
            diagnostic=str(data.get("reason", "")),
            occurred_at=_iso(data.get("ts_event")),
        )
    ]


READERS = {
    "postmark": read_postmark,
    "mailgun": read_mailgun,
    "sendgrid": read_sendgrid,
    "brevo": read_brevo,
}
