"""Open and click measurement, only for recipients who consented to it.

The Dutch regulator treats a tracking pixel and tracked links in mail like
cookies: reading them needs the person's consent. So measuring is off unless
``AKKOORD_TRACKING_PURPOSE`` names a purpose (e.g. "measure my reading"), and
then only messages to recipients whose consent for that purpose is granted
*when the message is sent* get a pixel and rewritten links; everyone else's
message is byte for byte what it would be without this module. A withdrawal
takes effect at the next message (the pipeline asks per batch, and again when
the ledger moves), and a hit after a withdrawal is not recorded.

Links to Akkoord itself (unsubscribe, privacy statement, answers) are never
rewritten. A click link carries its target signed, so it cannot be used as an
open redirect.
"""

from __future__ import annotations

import html as html_lib
import re

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from akkoord.consent.models import ConsentState
from akkoord.consent.rules import ConsentStatus

_OPEN_SALT = "akkoord.tracking.open"
_CLICK_SALT = "akkoord.tracking.click"
_HREF = re.compile(r'(href\s*=\s*")(https?://[^"]+)(")', re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def enabled() -> bool:
    return bool(settings.AKKOORD_TRACKING_PURPOSE)


def consenting(contact_ids) -> set[int]:
    """Those of ``contact_ids`` whose consent to be measured is granted now."""
    if not enabled() or not contact_ids:
        return set()
    return set(
        ConsentState.objects.filter(
            contact_id__in=list(contact_ids),
            purpose__key=settings.AKKOORD_TRACKING_PURPOSE,
            status=ConsentStatus.GRANTED,
        ).values_list("contact_id", flat=True)
    )


def still_consenting(contact_id: int | None) -> bool:
    return contact_id is not None and contact_id in consenting([contact_id])


def _ours(url: str) -> bool:
    return url.startswith(settings.AKKOORD_BASE_URL + "/")


def open_url(delivery_id: int) -> str:
    return f"{settings.AKKOORD_BASE_URL}/t/o/{signing.dumps(delivery_id, salt=_OPEN_SALT)}"


def click_url(delivery_id: int, target: str) -> str:
    token = signing.dumps([delivery_id, target], salt=_CLICK_SALT, compress=True)
    return f"{settings.AKKOORD_BASE_URL}/t/c/{token}"


def read_open(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=_OPEN_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def read_click(token: str) -> tuple[int, str] | None:
    try:
        value = signing.loads(token, salt=_CLICK_SALT)
    except signing.BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
        and value[1].lower().startswith(("http://", "https://"))
    ):
        return value[0], value[1]
    return None


def instrument(delivery_id: int, text: str, html: str | None) -> tuple[str, str | None]:
    """The text and HTML parts with links rewritten and, in HTML, a pixel."""

    def text_link(match):
        url = match.group(0)
        return url if _ours(url) else click_url(delivery_id, url)

    def html_link(match):
        url = html_lib.unescape(match.group(2))
        if _ours(url):
            return match.group(0)
        return match.group(1) + html_lib.escape(click_url(delivery_id, url)) + match.group(3)

    text = _TEXT_URL.sub(text_link, text)
    if html is not None:
        html = _HREF.sub(html_link, html)
        pixel = f'<img src="{html_lib.escape(open_url(delivery_id))}" width="1" height="1" alt="">'
        index = html.lower().rfind("</body>")
        html = html + pixel if index < 0 else html[:index] + pixel + html[index:]
    return text, html


def mark_tracked(delivery_ids: list[int]) -> None:
    """Called by the pipeline when tracked messages were accepted by the server."""
    from akkoord.deliverability.models import TrackedDelivery

    if delivery_ids:
        TrackedDelivery.objects.bulk_create(
            [TrackedDelivery(delivery_id=pk) for pk in delivery_ids], ignore_conflicts=True
        )


def record(delivery_id: int, kind: str, url: str = "") -> bool:
    """Record the first open, or the first click on ``url``, of a tracked message
    whose recipient still consents; False when nothing was recorded."""
    from akkoord.campaigns.models import Delivery
    from akkoord.deliverability.models import TrackedDelivery, TrackingEvent

    if not TrackedDelivery.objects.filter(delivery_id=delivery_id).exists():
        return False
    contact_id = (
        Delivery.objects.filter(pk=delivery_id).values_list("contact_id", flat=True).first()
    )
    if not still_consenting(contact_id):
        return False
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(delivery_id=delivery_id, kind=kind, url=url[:2000])
    except IntegrityError:
        return False
    return True
