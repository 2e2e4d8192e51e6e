"""The mailbox reader: bounces and complaints from an IMAP mailbox.

For installs whose bounces land in a mailbox instead of the built-in receiver.
It reads messages with ``BODY.PEEK[]`` (so an unrelated message is not even
marked as read) and only touches the ones it recognises — a bounce or
complaint about one of our deliveries, or an automatic reply to our return
path: those are moved to ``AKKOORD_BOUNCE_IMAP_DONE_FOLDER`` (IMAP MOVE, or
COPY plus a UID EXPUNGE of that one message where the server has UIDPLUS;
without either they are only flagged ``\\Seen``). It never deletes mail and
never expunges anything but a message it just copied.

The standard library's ``imaplib`` is used: ``imap-tools`` was not available
to this install. ``Mailbox`` is the narrow interface; tests use a fake of it.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from akkoord.deliverability.models import ReportSource
from akkoord.deliverability.services import Outcome, ingest_mail

logger = logging.getLogger(__name__)


class Mailbox(Protocol):
    def recent_uids(self, since_days: int) -> list[bytes]: ...

    def fetch(self, uid: bytes) -> bytes: ...

    def move_done(self, uid: bytes) -> None: ...

    def close(self) -> None: ...


def parse_imap_url(url: str) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"imaps", "imap+starttls"}:
        raise ImproperlyConfigured(
            "AKKOORD_BOUNCE_IMAP_URL must start with imaps:// or imap+starttls:// "
            "(mail is read encrypted)."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("AKKOORD_BOUNCE_IMAP_URL needs a host name.")
    return {
        "host": parts.hostname,
        "port": parts.port or (993 if scheme == "imaps" else 143),
        "starttls": scheme == "imap+starttls",
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "folder": unquote(parts.path.lstrip("/")) or "INBOX",
    }


class ImapMailbox:
    """One IMAP folder over TLS (``imaplib``)."""

    def __init__(self, url: str, done_folder: str):
        config = parse_imap_url(url)
        context = ssl.create_default_context()
        if config["starttls"]:
            self.imap = imaplib.IMAP4(config["host"], config["port"], timeout=60)
            self.imap.starttls(ssl_context=context)
        else:
            self.imap = imaplib.IMAP4_SSL(
                config["host"], config["port"], ssl_context=context, timeout=60
            )
        self.imap.login(config["username"], config["password"])
        self.imap.select(_quote(config["folder"]))
        self.done_folder = done_folder
        capabilities = set(self.imap.capabilities)
        self.can_move = "MOVE" in capabilities
        self.can_uid_expunge = "UIDPLUS" in capabilities
        self._done_exists = False

    def recent_uids(self, since_days: int) -> list[bytes]:
        since = (timezone.now() - timedelta(days=since_days)).strftime("%d-%b-%Y")
        _status, data = self.imap.uid("SEARCH", None, "SINCE", since)
        return data[0].split() if data and data[0] else []

    def fetch(self, uid: bytes) -> bytes:
        _status, data = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
        for item in data or []:
            if isinstance(item, tuple):
                return item[1]
        return b""

    def _ensure_done_folder(self) -> None:
        if not self._done_exists:
            self.imap.create(_quote(self.done_folder))  # an error when it exists is fine
            self._done_exists = True

    def move_done(self, uid: bytes) -> None:
        self._ensure_done_folder()
        folder = _quote(self.done_folder)
        if self.can_move:
            self.imap.uid("MOVE", uid, folder)
            return
        status, _data = self.imap.uid("COPY", uid, folder)
        if status == "OK" and self.can_uid_expunge:
            self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
            self.imap.uid("EXPUNGE", uid)
        else:
            # No way to remove just this one message: leave it, marked as read.
            self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.imap.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class ReadResult:
    read: int = 0
    moved: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


_RECOGNISED = {Outcome.RECORDED, Outcome.DUPLICATE, Outcome.AUTO_REPLY}


def read_mailbox(mailbox: Mailbox, *, since_days: int = 7) -> ReadResult:
    """One pass over the folder; only recognised messages are moved."""
    result = ReadResult()
    for uid in mailbox.recent_uids(since_days):
        raw = mailbox.fetch(uid)
        if not raw:
            continue
        result.read += 1
        outcome = ingest_mail(raw, source=ReportSource.IMAP)
        if outcome.outcome == Outcome.AUTO_REPLY and not _to_our_return_path(raw):
            # An automatic reply to a person's own mail in a shared mailbox: not ours.
            outcome_name = Outcome.NOT_A_BOUNCE
        else:
            outcome_name = outcome.outcome
        result.outcomes[outcome_name] = result.outcomes.get(outcome_name, 0) + 1
        if outcome_name in _RECOGNISED:
            mailbox.move_done(uid)
            result.moved += 1
    logger.info("mailbox reader: %s read, %s moved, %s", result.read, result.moved, result.outcomes)
    return result


def _to_our_return_path(raw: bytes) -> bool:
    from akkoord.deliverability import verp

    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    return verp.delivery_id_in_text(head) is not None


def open_configured() -> ImapMailbox:
    url = settings.AKKOORD_BOUNCE_IMAP_URL
    if not url:
        raise ImproperlyConfigured("AKKOORD_BOUNCE_IMAP_URL is empty.")
    return ImapMailbox(url, settings.AKKOORD_BOUNCE_IMAP_DONE_FOLDER)
