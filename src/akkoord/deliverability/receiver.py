"""The built-in bounce receiver: an SMTP (or LMTP) server for the bounce domain.

It accepts mail only for addresses it can use: ``bounces+<valid token>@...``
(a bounce naming its delivery) and the plain ``bounces@...`` (a complaint
loop or a bounce that lost its return path; matched by what it quotes).
Anything else is refused at RCPT, so the receiver cannot be used as a relay
or a spam trap. Every accepted mail is handed to ``services.ingest_mail``;
an error there answers 451 so the sending server retries: nothing is lost.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from akkoord.deliverability import verp
from akkoord.deliverability.models import ReportSource

logger = logging.getLogger(__name__)
logging.getLogger("mail.log").setLevel(logging.WARNING)

MAX_REPORT_BYTES = 10 * 1024 * 1024


def _ours(address: str) -> bool:
    local = address.strip("<>").rpartition("@")[0].lower()
    prefix = settings.AKKOORD_BOUNCE_LOCAL_PART.lower()
    if local == prefix:
        return True
    return verp.delivery_id_from_address(address) is not None


class BounceHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not _ours(address):
            return "550 5.1.1 No such bounce address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        from asgiref.sync import sync_to_async

        raw = envelope.original_content or envelope.content
        try:
            await sync_to_async(_ingest, thread_sensitive=False)(raw, list(envelope.rcpt_tos))
        except Exception as error:  # noqa: BLE001 - the sender keeps it and retries
            logger.warning("bounce receiver: could not record a report (%s)", type(error).__name__)
            return "451 4.3.0 Could not record the report now; try again later"
        return "250 2.0.0 Report received"


def _ingest(raw: bytes, recipients: list[str]) -> None:
    from django.db import connection

    from akkoord.deliverability.services import ingest_mail

    try:
        for recipient in recipients:
            result = ingest_mail(raw, source=ReportSource.RECEIVER, envelope_recipient=recipient)
            logger.info("bounce receiver: %s", result.outcome)
    finally:
        # A pool thread that nothing else closes (as in the mail catcher).
        connection.close()


class _LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def parse_listen(value: str) -> tuple[str, int]:
    host, _colon, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not host or not 0 < number < 65536:
        raise ImproperlyConfigured(
            f"AKKOORD_BOUNCE_RECEIVER must be host:port such as 127.0.0.1:2525, not {value!r}"
        )
    return host.strip("[]"), number


def start_receiver(host: str, port: int, *, lmtp: bool = False) -> Controller:
    """Start the receiver on a thread of its own; ``.stop()`` the returned controller."""
    cls = _LmtpController if lmtp else Controller
    controller = cls(BounceHandler(), hostname=host, port=port, data_size_limit=MAX_REPORT_BYTES)
    controller.start()
    logger.info("bounce receiver (%s) listening on %s:%s", "LMTP" if lmtp else "SMTP", host, port)
    return controller
