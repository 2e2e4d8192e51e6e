"""Where rendered messages go: a narrow interface, an SMTP implementation and a fake.

One message, one recipient, always: ``send`` takes exactly one address.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from typing import Protocol

from django.conf import settings

from akkoord.campaigns.models import FailureReason
from akkoord.campaigns.rendering import envelope_address, needs_smtputf8
from akkoord.mail.backends import parse_smtp_url


class DeliveryError(Exception):
    """The server did not take the message. ``temporary`` says whether to retry.

    ``code`` is set only when the server refused the recipient's mailbox (RCPT),
    the only reply that may mark the address as a hard bounce. ``reason`` is
    the ``FailureReason`` stored when the delivery fails for good.
    """

    def __init__(
        self,
        reply: str,
        *,
        temporary: bool,
        code: int | None = None,
        reason: str = FailureReason.REFUSED,
    ):
        super().__init__(reply)
        self.reply = reply[:500]
        self.temporary = temporary
        self.code = code
        self.reason = reason


class Messenger(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> None:
        """Deliver one message to one recipient or raise DeliveryError."""

    def close(self) -> None: ...


def _reply(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


class SmtpMessenger:
    """SMTP over TLS (STARTTLS or implicit), one connection reused for many messages."""

    def __init__(self, url: str | None = None, *, timeout: float = 30):
        self.config = parse_smtp_url(url or settings.AKKOORD_SMTP_URL)
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context()
        if cfg["use_ssl"]:
            connection = smtplib.SMTP_SSL(
                cfg["host"], cfg["port"], timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(cfg["host"], cfg["port"], timeout=self.timeout)
            if cfg["use_tls"]:
                connection.starttls(context=context)
        if cfg["username"]:
            connection.login(cfg["username"], cfg["password"])
        return connection

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        try:
            recipient = envelope_address(recipient)
        except UnicodeError:
            raise DeliveryError(
                "address: domain is not a valid IDNA name",
                temporary=False,
                reason=FailureReason.BAD_ADDRESS,
            ) from None
        options = ["SMTPUTF8"] if needs_smtputf8(recipient) else []
        try:
            if self._connection is None:
                self._connection = self._connect()
            if options:
                self._require_smtputf8()
            refused = self._connection.sendmail(sender, [recipient], message, mail_options=options)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise DeliveryError(
                _reply(code, text), temporary=400 <= code < 500, code=code
            ) from None
        except smtplib.SMTPSenderRefused as error:
            # Our sender address was refused: not the recipient's fault, so no
            # bounce and no final failure; retried with backoff while it is fixed.
            raise DeliveryError(
                "sender refused: " + _reply(error.smtp_code, error.smtp_error), temporary=True
            ) from None
        except smtplib.SMTPDataError as error:
            # Refused after DATA (content, policy): final for this message when
            # 5xx, but it says nothing about the mailbox, so no bounce code.
            code = error.smtp_code
            raise DeliveryError(
                _reply(code, error.smtp_error), temporary=400 <= code < 500
            ) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            code = error.smtp_code
            raise DeliveryError(
                _reply(code, error.smtp_error), temporary=not 500 <= code < 600, code=code
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            # Dropped connection, timeout, TLS failure: retry later on a new connection.
            self.close()
            raise DeliveryError(f"connection: {type(error).__name__}", temporary=True) from None
        if refused:
            code, text = next(iter(refused.values()))
            raise DeliveryError(_reply(code, text), temporary=400 <= code < 500, code=code)

    def _require_smtputf8(self) -> None:
        """Fail this message only (not the connection) when the server cannot take it."""
        self._connection.ehlo_or_helo_if_needed()
        if not self._connection.has_extn("smtputf8"):
            raise DeliveryError(
                "address: non-ASCII local part, and the server does not offer SMTPUTF8",
                temporary=False,
                reason=FailureReason.NO_SMTPUTF8,
            )

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._connection = None


class FakeMessenger:
    """Test double: keeps what it was given; ``fail`` maps an address to a DeliveryError."""

    def __init__(self):
        self.sent: list[tuple[str, str, bytes]] = []
        self.fail: dict[str, DeliveryError] = {}
        self._lock = threading.Lock()

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        error = self.fail.get(recipient)
        if error is not None:
            raise error
        with self._lock:
            self.sent.append((sender, recipient, message))

    def close(self) -> None:
        pass
