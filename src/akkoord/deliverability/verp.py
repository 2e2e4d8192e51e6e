"""The envelope sender of a campaign message: one signed return path per delivery.

``bounces+<token>@<bounce domain>`` (VERP): a bounce comes back to the address
that names its delivery, so no guessing from the report's text is needed. The
token is the delivery's id and a keyed MAC of it, all lower case (mail servers
may change the case of a local part); it carries no address.

With ``AKKOORD_BOUNCE_DOMAIN`` empty the envelope sender stays the campaign's
From address, as before; ``sending`` uses the campaign's sending domain.
"""

from __future__ import annotations

import base64
import hmac
import re

from django.conf import settings
from django.utils.crypto import salted_hmac

_MAC_CHARS = 16
_TOKEN = re.compile(r"^([0-9a-z]{1,13})\.([a-z2-7]{16})$")
# A VERP address anywhere in a report (the returned headers of the original).
VERP_PATTERN = re.compile(r"\+([0-9a-z]{1,13}\.[a-z2-7]{16})@", re.IGNORECASE)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _mac(delivery_id: int) -> str:
    digest = salted_hmac("akkoord.deliverability.verp", str(delivery_id)).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_MAC_CHARS]


def make_token(delivery_id: int) -> str:
    return f"{_base36(delivery_id)}.{_mac(delivery_id)}"


def read_token(token: str) -> int | None:
    """The delivery id a token names, or None when it is malformed or forged."""
    match = _TOKEN.match(token.lower())
    if not match:
        return None
    delivery_id = int(match.group(1), 36)
    if not hmac.compare_digest(_mac(delivery_id), match.group(2)):
        return None
    return delivery_id


def bounce_domain(sending_domain: str) -> str:
    """The domain bounces go to; empty when VERP is off."""
    configured = settings.AKKOORD_BOUNCE_DOMAIN
    if configured == "sending":
        return sending_domain
    return configured


def envelope_sender(campaign, delivery_id: int) -> str:
    """The MAIL FROM (and so the Return-Path) of one campaign message."""
    domain = bounce_domain(campaign.sending_domain.domain)
    if not domain:
        return campaign.from_address
    return f"{settings.AKKOORD_BOUNCE_LOCAL_PART}+{make_token(delivery_id)}@{domain}"


def delivery_id_from_address(address: str) -> int | None:
    """The delivery named by a VERP address (``bounces+token@domain``), else None."""
    local, _at, _domain = address.strip().strip("<>").rpartition("@")
    prefix, plus, token = local.partition("+")
    if not plus or prefix.lower() != settings.AKKOORD_BOUNCE_LOCAL_PART.lower():
        return None
    return read_token(token)


def delivery_id_in_text(text: str) -> int | None:
    """The first valid VERP token found in ``text`` (a report quoting the original)."""
    for match in VERP_PATTERN.finditer(text):
        delivery_id = read_token(match.group(1))
        if delivery_id is not None:
            return delivery_id
    return None
