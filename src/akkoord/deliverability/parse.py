"""Reading bounce and complaint reports: RFC 3464 DSNs, RFC 5965 ARF, and the rest.

Pure: standard library only, no Django, no database. ``parse_report(raw)``
says what a mail is (hard bounce, soft bounce, complaint, an automatic reply
to ignore, or nothing we recognise) and carries what is needed to find the
delivery it is about: the original's Message-ID and any return path quoted in it.

Hard or soft follows the status code: 5.x.x is permanent, 4.x.x temporary
(RFC 3463). A DSN whose Action is ``delayed`` is soft whatever its code;
``delivered``, ``relayed`` and ``expanded`` are success notices, not bounces.
Mail without a report part is read by a small heuristic for the old
"mail delivery software" texts (Exim without DSN, some appliances): it must
come from a mailer daemon and quote an SMTP reply code.

Automatic replies (RFC 3834 ``Auto-Submitted``, out-of-office) are never
bounces, whatever their text says.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Verdict(StrEnum):
    HARD = "hard_bounce"
    SOFT = "soft_bounce"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto_reply"
    NOTICE = "notice"  # a delivery success notice, or ARF "not-spam"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ParsedReport:
    verdict: Verdict
    status: str = ""
    diagnostic: str = ""
    feedback_type: str = ""
    original_message_id: str = ""
    report_message_id: str = ""
    occurred_at: datetime | None = None
    # Any text of the report in which a return path of ours may be quoted.
    searchable: str = ""
    recipient: str = ""  # final/original recipient named by the report (personal data)


_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b([45])\d\d[ -](?:([45]\.\d{1,3}\.\d{1,3})\b)?")
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_MAILER_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (sub)?system", re.IGNORECASE)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matisch)?[- ]?(reply|antwoord|response)|"
    r"afwezig|vacation|abwesenheit|r[ée]ponse automatique)",
    re.IGNORECASE,
)
_NON_DSN_BOUNCE = re.compile(
    r"(delivery (status notification|has failed|failure)|undeliverable|undelivered mail|"
    r"returned mail|mail delivery (failed|system)|failure notice|could not be delivered|"
    r"onbestelbaar)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` without e-mail addresses (a diagnostic often quotes the recipient)."""
    return _ADDRESS.sub("[address]", text)


def _clean(value) -> str:
    return " ".join(str(value or "").split())


def _status_of(text: str) -> str:
    match = _STATUS.search(text or "")
    return ".".join(match.groups()) if match else ""


def _date(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _type_value(value: str) -> str:
    """``rfc822; someone@example.org`` -> ``someone@example.org``."""
    return _clean(value).partition(";")[2].strip() or _clean(value)


def is_auto_reply(message: Message) -> bool:
    """An automatic reply (RFC 3834) or an out-of-office: never a bounce."""
    auto = _clean(message.get("Auto-Submitted")).lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if _clean(message.get("Precedence")).lower() == "auto_reply":
        return True
    if message.get("X-MS-Exchange-Inbox-Rules-Loop") and _AUTO_REPLY_SUBJECT.search(
        _clean(message.get("Subject"))
    ):
        return True
    return bool(_AUTO_REPLY_SUBJECT.search(_clean(message.get("Subject"))))


def _original_headers(message: Message) -> str:
    """The returned original (or its headers) as text, for Message-ID and return path."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if isinstance(inner, Message):
                return "".join(f"{k}: {v}\n" for k, v in inner.items())
        if content_type in ("text/rfc822-headers", "text/global-headers"):
            return part.get_payload(decode=True).decode("utf-8", "replace")
    return ""


def _message_id_in(headers_text: str) -> str:
    match = re.search(r"^message-id:\s*(<[^>\s]+>)", headers_text, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else ""


def _text_of(message: Message, limit: int = 20000) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) or b""
            parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)[:limit]


def _dsn_blocks(message: Message) -> list[Message] | None:
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            blocks = part.get_payload()
            if isinstance(blocks, list):
                return blocks
            # message/global-delivery-status is not parsed into blocks by the stdlib.
            text = part.get_payload(decode=True) or b""
            return [
                email.message_from_bytes(chunk.strip() + b"\n", policy=email.policy.compat32)
                for chunk in re.split(rb"\r?\n\r?\n", text)
                if chunk.strip()
            ]
    return None


def _verdict_of_recipient(block: Message) -> tuple[Verdict, str, str] | None:
    action = _clean(block.get("Action")).lower()
    status = _status_of(_clean(block.get("Status")))
    diagnostic = _type_value(block.get("Diagnostic-Code", ""))
    if not status:
        status = _status_of(diagnostic)
    if action in ("delivered", "relayed", "expanded"):
        return Verdict.NOTICE, status, diagnostic
    if action == "delayed" or status.startswith("4"):
        return Verdict.SOFT, status, diagnostic
    if action == "failed" or status.startswith("5"):
        return Verdict.HARD, status or "5.0.0", diagnostic
    return None


def _from_dsn(message: Message, blocks: list[Message], common: dict) -> ParsedReport:
    per_message = blocks[0] if blocks else Message()
    recipients = blocks[1:] or blocks
    found = [(b, _verdict_of_recipient(b)) for b in recipients]
    found = [(b, v) for b, v in found if v is not None]
    if not found:
        return ParsedReport(Verdict.UNKNOWN, **common)
    # A hard failure outweighs a delay when one report names several recipients
    # (we send one recipient per message, so they are the same person's).
    order = {Verdict.HARD: 0, Verdict.SOFT: 1, Verdict.NOTICE: 2}
    block, (verdict, status, diagnostic) = min(found, key=lambda item: order[item[1][0]])
    recipient = _type_value(block.get("Original-Recipient") or block.get("Final-Recipient", ""))
    occurred = _date(block.get("Last-Attempt-Date")) or _date(per_message.get("Arrival-Date"))
    return ParsedReport(
        verdict,
        status=status,
        diagnostic=redact(diagnostic)[:300],
        recipient=recipient,
        **{**common, "occurred_at": occurred or common["occurred_at"]},
    )


def _from_arf(message: Message, common: dict) -> ParsedReport:
    fields = Message()
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                fields = payload[0]
            else:
                text = part.get_payload(decode=True) or b""
                fields = email.message_from_bytes(text, policy=email.policy.compat32)
            break
    feedback_type = _clean(fields.get("Feedback-Type")).lower() or "abuse"
    verdict = Verdict.NOTICE if feedback_type == "not-spam" else Verdict.COMPLAINT
    occurred = _date(fields.get("Arrival-Date") or fields.get("Received-Date"))
    return ParsedReport(
        verdict,
        feedback_type=feedback_type[:30],
        recipient=_clean(fields.get("Original-Rcpt-To")),
        **{**common, "occurred_at": occurred or common["occurred_at"]},
    )


def _from_plain_text(message: Message, common: dict) -> ParsedReport:
    sender = _clean(message.get("From")) + " " + _clean(message.get("Return-Path"))
    subject = _clean(message.get("Subject"))
    empty_return_path = _clean(message.get("Return-Path")) in ("<>", "")
    if not (
        _MAILER_DAEMON.search(sender) or (empty_return_path and _NON_DSN_BOUNCE.search(subject))
    ):
        return ParsedReport(Verdict.UNKNOWN, **common)
    if not _NON_DSN_BOUNCE.search(subject + "\n" + _text_of(message, 4000)):
        return ParsedReport(Verdict.UNKNOWN, **common)
    body = _text_of(message)
    # The quoted SMTP reply first: a bare x.y.z elsewhere may be a version or an address.
    reply = _SMTP_REPLY.search(body)
    status = (reply.group(2) or f"{reply.group(1)}.0.0") if reply else _status_of(body)
    if not status:
        return ParsedReport(Verdict.UNKNOWN, **common)
    diagnostic = ""
    if reply:
        line_end = body.find("\n", reply.start())
        diagnostic = body[reply.start() : line_end if line_end > 0 else None]
    verdict = Verdict.HARD if status.startswith("5") else Verdict.SOFT
    return ParsedReport(
        verdict, status=status, diagnostic=redact(_clean(diagnostic))[:300], **common
    )


def parse_report(raw: bytes) -> ParsedReport:
    """What ``raw`` (one whole mail) reports; never raises on malformed input."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    # The returned original's headers; a plain-text bounce quotes them in its body.
    original = _original_headers(message) or _text_of(message)
    common = {
        "report_message_id": _clean(message.get("Message-ID"))[:200],
        "original_message_id": _message_id_in(original)[:200],
        "occurred_at": _date(message.get("Date")),
        "searchable": original,
    }
    content_type = message.get_content_type()
    report_type = _clean(message.get_param("report-type", "", header="content-type")).lower()
    if content_type == "multipart/report" and report_type == "feedback-report":
        return _from_arf(message, common)
    if content_type == "multipart/report":
        blocks = _dsn_blocks(message)
        if blocks is not None:
            return _from_dsn(message, blocks, common)
    # After the report checks: bounces themselves say Auto-Submitted (RFC 3834 §5),
    # so a mailer daemon's text is read before the automatic-reply test.
    plain = _from_plain_text(message, common)
    if plain.verdict != Verdict.UNKNOWN:
        return plain
    if is_auto_reply(message):
        return ParsedReport(Verdict.AUTO_REPLY, **common)
    return plain
