"""Django e-mail backend configured by one URL, refusing plain text outside localhost.

``AKKOORD_SMTP_URL``:
  smtp+starttls://user:password@host:587   STARTTLS (required to succeed)
  smtps://user:password@host:465           implicit TLS
  smtp://127.0.0.1:1025                    plain, only to a local server
"""

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend

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
