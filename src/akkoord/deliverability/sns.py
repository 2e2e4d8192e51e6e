"""Amazon SES notifications through SNS: signature verification and reading.

SNS signs each message with a certificate it publishes at ``SigningCertURL``;
only certificates served by SNS itself (``https://sns.<region>.amazonaws.com``)
are fetched, and cached per URL. The topic must be one the operator listed in
``AKKOORD_WEBHOOK_SES_TOPICS``. A verified subscription confirmation is
confirmed by visiting its ``SubscribeURL`` (also only on SNS's own host).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.request

from django.conf import settings

from akkoord.deliverability.models import ReportKind
from akkoord.deliverability.providers import ProviderEvent, Refused, _iso, _json

_SNS_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_KEYS = (
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
)  # fmt: skip


@functools.lru_cache(maxsize=16)
def fetch_certificate(url: str) -> bytes:
    """The PEM certificate SNS signs with (an internet call; replaced in tests)."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - checked https SNS URL
        return response.read()


def confirm_subscription(url: str) -> None:
    """Visit the SubscribeURL of a verified confirmation (an internet call; replaced in tests)."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - checked https SNS URL
        response.read()


def signing_string(message: dict) -> bytes:
    keys = _NOTIFICATION_KEYS if message.get("Type") == "Notification" else _SUBSCRIPTION_KEYS
    return "".join(
        f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None
    ).encode()


def verify(message: dict) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    topics = settings.AKKOORD_WEBHOOK_SES_TOPICS
    if not topics:
        raise Refused("This webhook is not configured (AKKOORD_WEBHOOK_SES_TOPICS is empty).", 404)
    if message.get("TopicArn") not in topics:
        raise Refused("The SNS topic is not one of AKKOORD_WEBHOOK_SES_TOPICS.")
    url = str(message.get("SigningCertURL", ""))
    if not _SNS_URL.match(url) or not url.endswith(".pem"):
        raise Refused("The signing certificate is not served by Amazon SNS.")
    # Version 1 is SHA-1 by SNS's own definition; topics can be set to version 2.
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(  # noqa: S303
        str(message.get("SignatureVersion"))
    )
    if algorithm is None:
        raise Refused("Unknown SNS signature version.")
    try:
        certificate = x509.load_pem_x509_certificate(fetch_certificate(url))
        certificate.public_key().verify(
            base64.b64decode(message.get("Signature", "")),
            signing_string(message),
            padding.PKCS1v15(),
            algorithm,
        )
    except (InvalidSignature, ValueError, TypeError):
        raise Refused("Wrong signature for the SNS message.") from None


def read_ses(body: bytes, headers) -> list[ProviderEvent]:
    message = _json(body)
    if not isinstance(message, dict):
        raise Refused("The body is not an SNS message.", status=400)
    verify(message)
    kind = message.get("Type")
    if kind == "SubscriptionConfirmation":
        url = str(message.get("SubscribeURL", ""))
        if not _SNS_URL.match(url):
            raise Refused("The subscription URL is not Amazon SNS's.")
        confirm_subscription(url)
        return []
    if kind != "Notification":
        return []
    try:
        notification = json.loads(message.get("Message", ""))
    except ValueError:
        raise Refused("The SNS message does not hold an SES notification.", status=400) from None
    return _ses_events(notification, message.get("MessageId", ""))


def _ses_events(notification: dict, sns_id: str) -> list[ProviderEvent]:
    name = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    message_id = ((mail.get("commonHeaders") or {}).get("messageId")) or ""
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == "message-id":
            message_id = header.get("value", "")
    common = {"message_id": message_id, "verp_text": f"<{mail.get('source', '')}>"}
    events = []
    if name == "Bounce":
        bounce = notification.get("bounce") or {}
        kind = {"Permanent": ReportKind.HARD, "Transient": ReportKind.SOFT}.get(
            bounce.get("bounceType"), ReportKind.SOFT
        )
        for index, person in enumerate(bounce.get("bouncedRecipients") or []):
            events.append(
                ProviderEvent(
                    kind=kind,
                    event_id=f"ses:{bounce.get('feedbackId') or sns_id}:{index}",
                    email=person.get("emailAddress", ""),
                    status=person.get("status", ""),
                    diagnostic=person.get("diagnosticCode", ""),
                    occurred_at=_iso(bounce.get("timestamp")),
                    **common,
                )
            )
    elif name == "Complaint":
        complaint = notification.get("complaint") or {}
        if complaint.get("complaintFeedbackType") == "not-spam":
            return []
        for index, person in enumerate(complaint.get("complainedRecipients") or []):
            events.append(
                ProviderEvent(
                    kind=ReportKind.COMPLAINT,
                    event_id=f"ses:{complaint.get('feedbackId') or sns_id}:{index}",
                    email=person.get("emailAddress", ""),
                    feedback_type=complaint.get("complaintFeedbackType") or "abuse",
                    occurred_at=_iso(complaint.get("timestamp")),
                    **common,
                )
            )
    return events
