"""The local mail catcher: an in-process SMTP server that stores what it receives.

``akkoord serve`` runs it so that a newcomer sees every mail Akkoord sends in
the staff app (Mail catcher) without configuring a mail server.
"""

import email
import email.policy
import logging

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)
# aiosmtpd logs every connection with the peer's address at INFO; keep
# addresses out of the logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _StoreHandler:
    async def handle_DATA(self, server, session, envelope):
        from asgiref.sync import sync_to_async

        await sync_to_async(_store, thread_sensitive=False)(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.original_content or envelope.content,
        )
        return "250 Message accepted for delivery"


def _store(mail_from: str, recipients: list[str], raw: bytes) -> None:
    from django.db import connection

    from akkoord.mail.models import CaughtMessage

    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        CaughtMessage.objects.create(
            mail_from=mail_from[:300],
            recipients="\n".join(recipients),
            subject=str(message.get("Subject", ""))[:500],
            raw=raw,
        )
    finally:
        # This runs on a pool thread that nothing else closes: a connection
        # kept open there would outlive the catcher (and block dropping a
        # test database on PostgreSQL). Local mail is rare; reconnecting is cheap.
        connection.close()


def start_catcher(port: int, host: str = "127.0.0.1") -> Controller:
    # SMTPUTF8: addresses with a non-ASCII local part (ëve@…) arrive as they are.
    controller = Controller(_StoreHandler(), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    logger.info("mail catcher listening on %s:%s", host, port)
    return controller
