"""Django e-mail backend configured by one URL, refusing plain text outside localhost.

``AKKOORD_SMTP_URL``:
  smtp+starttls://user:password@host:587   STARTTLS (required to succeed)
  smtps://user:password@host:465           implicit TLS
  smtp://127.0.0.1:1025                    plain, only to a local server
"""

import smtplib
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def parse_smtp_url(url: str) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtps", "smtp+starttls"}:
        raise ImproperlyConfigured(
            f"AKKOORD_SMTP_URL must start with smtp+starttls://, smtps:// or smtp:// (got {scheme!r})"
        )
    host = parts.hostname or ""
    if not host:
        raise ImproperlyConfigured("AKKOORD_SMTP_URL needs a host name")
    if scheme == "smtp" and host not in LOCAL_HOSTS:
        raise ImproperlyConfigured(
            "AKKOORD_SMTP_URL uses plain smtp:// to a remote server; mail must travel encrypted. "
            "Use smtp+starttls:// or smtps://."
        )
    default_port = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[scheme]
    return {
        "host": host,
        "port": parts.port or default_port,
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_tls": scheme == "smtp+starttls",
        "use_ssl": scheme == "smtps",
    }


class SmtpUrlBackend(EmailBackend):
    def __init__(self, fail_silently=False, **kwargs):
        config = parse_smtp_url(settings.AKKOORD_SMTP_URL)
        for key, value in config.items():
            kwargs.setdefault(key, value)
        super().__init__(fail_silently=fail_silently, **kwargs)

    def _send(self, email_message) -> bool:
        """Send one message; an address with a non-ASCII local part goes with SMTPUTF8.

        Django writes such an address as an RFC 2047 encoded word
        (``=?utf-8?q?=C3=ABve?=@…``), in the envelope and in To, which delivers
        to an address that does not exist. A local part has no ASCII form
        (unlike a domain, which travels as punycode), so it needs SMTPUTF8
        (RFC 6531): the raw UTF-8 address in MAIL/RCPT and in the To header.
        A server without SMTPUTF8 cannot take it: that is an error, not a
        silent misdelivery.
        """
        recipients = email_message.recipients()
        if all(address.isascii() for address in recipients):
            return super()._send(email_message)
        if not recipients:
            return False
        self.connection.ehlo_or_helo_if_needed()
        if not self.connection.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "the mail server does not offer SMTPUTF8, which an address with a "
                "non-ASCII local part needs"
            )
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        data = _raw_utf8_to(email_message.message().as_bytes(linesep="\r\n"), email_message.to)
        try:
            self.connection.sendmail(from_email, recipients, data, mail_options=["SMTPUTF8"])
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


def _raw_utf8_to(data: bytes, to: list[str]) -> bytes:
    """The message with its To header holding the addresses in UTF-8 (RFC 6532)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    lines, skipping = [], False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue  # a folded continuation of the old To header
        skipping = line.lower().startswith(b"to:")
        lines.append(b"To: " + ", ".join(to).encode("utf-8") if skipping else line)
    return b"\r\n".join(lines) + separator + body
