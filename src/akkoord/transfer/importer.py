"""Importing contacts with their consent proof from CSV or XLSX files.

How a row becomes ledger events (purpose chosen for the import, or the row's
``purposes`` column):

* opt-in time (and IP) in the file -> ``GRANTED`` with proof
  ``{file, row, optin_time, optin_ip, confirm_time, confirm_ip}``, occurring at
  the opt-in time; a confirm time -> a ``CONFIRMED`` event at that time.
* no proof in the file -> ``UNPROVEN``: recorded, but only a re-permission mail
  may be sent on it (unproven consent: only a re-permission mail).
* status unsubscribed / blocklisted -> ``WITHDRAWN``; cleaned / bounced -> the
  contact is marked hard-bounced.

Safety rules:

* The whole file is validated first, writing nothing; each problem is reported
  by row and column (an address that appears twice is a problem of the later
  row). With problems, nothing is written unless the staff user chose "import
  the valid rows, report the rest" (``valid_only``).
* Then the rows are written in chunks of ``chunk_size`` (2,000) rows, each
  chunk its own transaction, so that no import holds the database (on SQLite:
  its only write lock) or the ledger head for longer than one chunk: an
  unsubscribe, a sign-up or a campaign worker gets in between chunks. A dry
  run writes each chunk and rolls it back.
* All or nothing holds for the check, not for a crash while writing: if the
  process dies (or the database fails) half way, the chunks committed so far
  stay -- each row complete with its consent events, activities and queued
  privacy confirmation, the ledger valid -- and the report says how many rows
  were written. Running the same file again is safe: rows already imported
  are existing contacts with consent history for the purpose, so they are
  left unchanged, and the rest is imported.
* Addresses on the suppression list (erased people) are skipped: an import
  never brings them back, and never records a confirmation for them.
* Existing contacts are left as they are; they get the import's consent only
  if they have no consent history for that purpose yet and did not object
  (the ledger is ordered by arrival, so an old file must not overrule a later
  withdrawal).
* The file is streamed in chunks, so memory stays flat for any number of rows
  (it is read twice: once to check, once to write; a source that cannot be
  opened again keeps its valid rows in memory between the two).
* Purchases and tags (optional columns) are checked with the rest of the
  row: an unknown product category key, a bad amount or date, or purchase
  details without a date or description make the row a problem, and nothing
  of that row is written. They are added to new and existing contacts alike
  (a purchase is a fact, a tag a label; neither overrules consent). A
  purchase the contact already has (same date, description, category,
  reference and amount) is not recorded twice, so importing a file again adds
  nothing. Tags are added to the ones a contact has, never removed; a tag
  that does not exist yet is created.
* Each new contact's privacy confirmation is queued durably in its chunk's
  transaction (``notices.services.queue_notices``); delivery is asked for once
  the import ends, and ``contacts_registered`` is sent after each chunk commits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.consent import ledger
from akkoord.consent.ledger import NewEvent
from akkoord.consent.models import Channel, ConsentState, Purpose, Suppression
from akkoord.consent.rules import EventKind
from akkoord.contacts.emails import email_hash, normalise_email
from akkoord.contacts.models import (
    Activity,
    ActivityKind,
    Contact,
    ContactField,
    ContactFieldValue,
    FieldKind,
    Language,
    ProductCategory,
    Purchase,
    SourceKind,
)
from akkoord.contacts.services import CORE_FIELDS, clean_amount, clean_field_value
from akkoord.contacts.signals import contacts_registered
from akkoord.lib.bulk import insert_rows
from akkoord.lib.db import retry_when_locked
from akkoord.lib.text import FORMULA_START, has_control_characters
from akkoord.notices.services import queue_notices
from akkoord.notices.tasks import schedule_delivery
from akkoord.segments.models import Tag
from akkoord.segments.services import MAX_TAG_LENGTH
from akkoord.transfer import formats
from akkoord.transfer.reading import Source, SourceRow

MAX_REPORTED = 1000
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%d",
)


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("row %(row)d") % {"row": self.row}
        if self.column:
            where += ", " + _("column %(column)s") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    file: str
    format: str
    purpose_key: str
    valid_only: bool = False
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    consent_added_to_existing: int = 0
    existing_unchanged: int = 0
    suppressed_skipped: int = 0
    events: int = 0
    unproven: int = 0
    proven: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Purchases recorded, purchases skipped because the contact already had
    # them, and contacts that got at least one new tag.
    purchases: int = 0
    purchases_known: int = 0
    tagged: int = 0
    committed: bool = False
    # Rows written so far (valid rows in committed chunks); equals the valid
    # rows when the import completed.
    rows_written: int = 0
    rows_to_write: int = 0
    seconds: float = 0.0
    # Of which: after each chunk's commit, announcing new contacts (``contacts_registered``).
    announce_seconds: float = 0.0

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    @property
    def rows_with_problems(self) -> int:
        return len({p.row for p in self.problems})

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "problems"}
        data["problems"] = [p.__dict__ for p in self.problems]
        return data


@dataclass
class _Row:
    number: int
    email: str
    data: dict
    fields: dict
    purposes: list[Purpose]
    optin_time: datetime | None = None
    optin_ip: str = ""
    confirm_time: datetime | None = None
    confirm_ip: str = ""
    status: str = ""
    unsub_time: datetime | None = None
    # purchased_on, description, category, amount, reference, objection_offered
    purchase: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


class ImportError_(ValueError):
    """The import cannot start (bad purpose, bad mapping): a usage problem."""


# --- parsing one row ----------------------------------------------------------


def parse_time(value) -> datetime:
    """A time from a file: ISO 8601 or the formats the known exports use; naive = UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        moment = None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for pattern in _DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(
                _("%(value)s is not a date and time (use YYYY-MM-DD HH:MM:SS).")
                % {"value": text[:40]}
            )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now() + timedelta(days=1):
        raise ValueError(_("This time lies in the future."))
    if moment.year < 1990:
        raise ValueError(_("This time is implausibly early."))
    return moment


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _clean_text(value, max_length: int) -> str:
    """A text cell: no control characters, no formulas, not too long."""
    raw = _text(value)
    if raw.startswith(FORMULA_START) and raw.strip():
        raise ValueError(
            _("This cell starts with %(char)r and would run as a formula in a spreadsheet.")
            % {"char": raw[0]}
        )
    text = raw.strip()
    if has_control_characters(text):
        raise ValueError(_("Must not contain line breaks, tabs or control characters."))
    if len(text) > max_length:
        raise ValueError(
            _("At most %(max)d characters (this has %(n)d).") % {"max": max_length, "n": len(text)}
        )
    return text


def _clean_language(value) -> str:
    text = _text(value).strip().lower().replace("-", "_")
    if not text:
        return Language.NL
    code = text.split("_")[0]
    aliases = {"dutch": "nl", "nederlands": "nl", "english": "en", "engels": "en"}
    code = aliases.get(code, code)
    if code not in Language.values:
        raise ValueError(
            _("Unknown language %(value)s; Akkoord knows: %(choices)s.")
            % {"value": text[:20], "choices": ", ".join(Language.values)}
        )
    return code


def _clean_ip(value) -> str:
    text = _text(value).strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(_("%(value)s is not an IP address.") % {"value": text[:45]}) from None


_YES = {"yes", "y", "ja", "j", "true", "waar", "1"}
_NO = {"no", "n", "nee", "false", "onwaar", "0"}


def _clean_day(value) -> date:
    """A purchase date: a date cell, YYYY-MM-DD or DD-MM-YYYY; not in the future."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = _text(value).strip()
        for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
            try:
                day = datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
        else:
            raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD).") % {"value": text[:40]})
    if day > timezone.localdate():
        raise ValueError(_("A purchase cannot be in the future."))
    if day.year < 1990:
        raise ValueError(_("This date is implausibly early."))
    return day


def _clean_amount(value) -> Decimal | None:
    """A purchase amount: a number cell, or text with a decimal point or comma (12.50, 12,50)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("Give the amount as a number, e.g. 12.50."))
        value = repr(value)  # a spreadsheet's number: 12.5 reads as "12.5"
    elif not isinstance(value, int) or isinstance(value, bool):
        value = _text(value).strip()
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")  # the Dutch decimal comma
    return clean_amount(value)  # ValidationError on "amount" with the reason


def _clean_yes_no(value) -> bool:
    text = _text(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(_("Write yes or no (or ja, nee)."))


def _clean_tags(value) -> list[str]:
    """Comma-separated tag names (quotes around a name are dropped)."""
    text = _clean_text(value, 2000)
    names = {name.strip().strip('"').strip() for name in text.split(",")}
    names.discard("")
    too_long = sorted(name for name in names if len(name) > MAX_TAG_LENGTH)
    if too_long:
        raise ValueError(
            _("A tag has at most %(max)d characters: %(name)s")
            % {"max": MAX_TAG_LENGTH, "name": too_long[0][:60]}
        )
    return sorted(names)


class RowParser:
    """Turns the cells of one row into a validated ``_Row`` or problems."""

    def __init__(self, header, mapping, purpose, purposes_by_key, fields_by_key):
        self.columns = [
            (index, column, mapping.get(column, "ignore")) for index, column in enumerate(header)
        ]
        self.columns = [c for c in self.columns if c[2] != "ignore"]
        self.header = list(header)
        self.purpose = purpose
        self.purposes_by_key = purposes_by_key
        self.fields_by_key = fields_by_key
        self.categories_by_key = (
            {c.key: c for c in ProductCategory.objects.all()}
            if any(target == "purchase_category" for _i, _c, target in self.columns)
            else {}
        )

    def _column_name(self, index: int) -> str:
        return self.header[index] if index < len(self.header) else str(index + 1)

    def parse(self, source_row: SourceRow) -> tuple[_Row | None, list[Problem]]:
        number = source_row.number
        problems = [Problem(number, "", message) for message in source_row.problems]
        problems += [
            Problem(number, self._column_name(index), message)
            for index, message in source_row.cell_problems
        ]
        if problems:
            return None, problems
        row = _Row(number, "", {}, {}, [self.purpose] if self.purpose else [])
        cells = source_row.cells
        for index, column, target in self.columns:
            value = cells[index] if index < len(cells) else ""
            try:
                self._apply(row, target, value)
            except ValidationError as error:
                problems.append(Problem(number, column, " ".join(error.messages)))
            except ValueError as error:
                problems.append(Problem(number, column, str(error)))
        if not problems:
            problems.extend(self._cross_checks(row))
        if not row.purposes and not problems:
            problems.append(Problem(number, "", _("No purpose for this row.")))
        return (None if problems else row), problems

    def _apply(self, row: _Row, target: str, value) -> None:
        if target == "email":
            row.email = normalise_email(_text(value))
        elif target in CORE_FIELDS:
            row.data[target] = _clean_text(value, CORE_FIELDS[target])
        elif target == "name":
            first, _sep, last = _clean_text(value, 250).partition(" ")
            row.data["first_name"] = _clean_text(first, CORE_FIELDS["first_name"])
            row.data["last_name"] = _clean_text(last.strip(), CORE_FIELDS["last_name"])
        elif target == "language":
            row.data["language"] = _clean_language(value)
        elif target.startswith("fields."):
            contact_field = self.fields_by_key[target.removeprefix("fields.")]
            if contact_field.kind == FieldKind.TEXT:
                text = _clean_text(value, contact_field.max_length)
            else:
                text = value
            cleaned = clean_field_value(contact_field, text)
            if cleaned:
                row.fields[contact_field.key] = cleaned
        elif target in ("optin_time", "confirm_time", "unsub_time"):
            if _text(value).strip():
                setattr(row, target, parse_time(value))
        elif target == "clean_time":
            # Mailchimp's "cleaned" export: the address bounced.
            if _text(value).strip():
                row.unsub_time = parse_time(value)
                row.status = "cleaned"
        elif target in ("optin_ip", "confirm_ip"):
            setattr(row, target, _clean_ip(value))
        elif target == "status":
            status = _text(value).strip().lower()
            if status not in formats.SUBSCRIBED | formats.UNSUBSCRIBED | formats.BOUNCED:
                raise ValueError(
                    _("Unknown subscription status %(value)s.") % {"value": status[:30]}
                )
            row.status = status
        elif target == "purposes":
            keys = [k.strip() for k in re.split(r"[,;|]", _text(value)) if k.strip()]
            unknown = [k for k in keys if k not in self.purposes_by_key]
            if unknown:
                raise ValueError(
                    _("Unknown purpose %(keys)s; known purposes: %(choices)s.")
                    % {"keys": ", ".join(unknown)[:100], "choices": ", ".join(self.purposes_by_key)}
                )
            if keys:
                row.purposes = [self.purposes_by_key[k] for k in keys]
        elif target == "purchase_date":
            if _text(value).strip():
                row.purchase["purchased_on"] = _clean_day(value)
        elif target in ("purchase_description", "purchase_reference"):
            text = _clean_text(value, 200 if target == "purchase_description" else 100)
            if text:
                row.purchase[target.removeprefix("purchase_")] = text
        elif target == "purchase_category":
            key = _clean_text(value, 50)
            if key:
                if key not in self.categories_by_key:
                    raise ValueError(
                        _("There is no product category with the key %(key)s; known: %(known)s.")
                        % {
                            "key": key,
                            "known": ", ".join(sorted(self.categories_by_key))[:300] or "-",
                        }
                    )
                row.purchase["category"] = self.categories_by_key[key]
        elif target == "purchase_amount":
            amount = _clean_amount(value)
            if amount is not None:
                row.purchase["amount"] = amount
        elif target == "purchase_objection_offered":
            if _text(value).strip():
                row.purchase["objection_offered"] = _clean_yes_no(value)
        elif target == "tags":
            row.tags = _clean_tags(value)

    def _cross_checks(self, row: _Row) -> list[Problem]:
        problems = []
        if row.unsub_time is not None and row.status in formats.SUBSCRIBED:
            # An unsubscribe time without a status (Mailchimp's "unsubscribed"
            # export) means the person unsubscribed: never import it as consent.
            row.status = "unsubscribed"
        column_of = {target: column for _i, column, target in self.columns}
        if row.optin_time and row.confirm_time and row.confirm_time < row.optin_time:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("confirm_time", ""),
                    _("The confirmation lies before the opt-in."),
                )
            )
        if row.optin_ip and not (row.optin_time or row.confirm_time):
            problems.append(
                Problem(
                    row.number,
                    column_of.get("optin_time", column_of.get("optin_ip", "")),
                    _("An opt-in IP address without an opt-in time is no proof; add the time."),
                )
            )
        details = set(row.purchase) - {"objection_offered"}
        if details and "purchased_on" not in details:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("purchase_date", ""),
                    _("This row has purchase details but no date of purchase."),
                )
            )
        elif details and "description" not in details:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("purchase_description", ""),
                    _("Say what was bought."),
                )
            )
        if not details:
            row.purchase = {}  # "offered the chance to object" alone is no purchase
        return problems


# --- writing ------------------------------------------------------------------


@dataclass
class ImportRun:
    """One import: options, caches, and the state that spans chunks."""

    source: Source
    mapping: dict[str, str]
    purpose: Purpose | None
    format: str = "csv"
    valid_only: bool = False
    dry_run: bool = False
    actor: str = ""
    chunk_size: int = 2000
    progress: Callable[[ImportProgress], None] | None = None


def prepare(
    source: Source,
    *,
    purpose_key: str | None,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
) -> tuple[Purpose | None, dict[str, str], str]:
    """Check the purpose and the mapping before anything is read; ImportError_ if unusable."""
    purpose = None
    if purpose_key:
        purpose = Purpose.objects.filter(key=purpose_key, is_active=True).first()
        if purpose is None:
            known = ", ".join(Purpose.objects.filter(is_active=True).values_list("key", flat=True))
            raise ImportError_(
                _("There is no purpose %(key)s. Known purposes: %(known)s.")
                % {"key": purpose_key[:50], "known": known or "-"}
            )
    if fmt not in formats.FORMATS:
        raise ImportError_(_("Unknown format %(fmt)s.") % {"fmt": fmt[:20]})
    if fmt == "auto":
        fmt = formats.detect_format(source.header)
    field_keys = list(ContactField.objects.filter(is_active=True).values_list("key", flat=True))
    full = formats.suggest_mapping(source.header, fmt, field_keys)
    if mapping:
        full.update(mapping)
    try:
        formats.check_mapping(full, source.header, field_keys)
    except formats.MappingError as error:
        raise ImportError_(str(error)) from None
    if purpose is None and "purposes" not in full.values():
        raise ImportError_(_("Choose a purpose for the import (or map a purposes column)."))
    return purpose, full, fmt


@dataclass
class ImportProgress:
    """Where an import stands, for progress lines and pages."""

    phase: str  # "checking" or "writing"
    rows_checked: int
    rows_written: int
    rows_to_write: int
    bytes_read: int
    bytes_total: int | None


def run_import(run: ImportRun) -> ImportReport:
    """Check the whole file, then write it in chunks; see the module docstring."""
    started = time.monotonic()
    report = ImportReport(
        file=run.source.name,
        format=run.format,
        purpose_key=run.purpose.key if run.purpose else "",
        valid_only=run.valid_only,
        dry_run=run.dry_run,
    )
    purposes_by_key = {p.key: p for p in Purpose.objects.filter(is_active=True)}
    fields_by_key = {f.key: f for f in ContactField.objects.filter(is_active=True)}
    parser = RowParser(run.source.header, run.mapping, run.purpose, purposes_by_key, fields_by_key)
    kept = None if run.source.reopen else []
    refused = _check_file(run, parser, report, kept)
    keep = not run.dry_run and (run.valid_only or report.problem_count == 0)
    if keep or run.dry_run:
        rows = kept if kept is not None else _valid_rows(run, parser, refused)
        writer = _ChunkWriter(run, report)
        try:
            for chunk in _chunks(rows, run.chunk_size):
                writer.write_chunk(chunk, keep=keep)
                _progress(run, report, "writing")
        finally:
            if keep and writer.queued_notices:
                transaction.on_commit(schedule_delivery)
        report.committed = keep
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _check_file(run: ImportRun, parser: RowParser, report: ImportReport, kept) -> set[int]:
    """Read every row, record its problems; return the numbers of the rows not to write."""
    refused: set[int] = set()
    seen: set[bytes] = set()
    email_column = next((c for c, t in run.mapping.items() if t == "email"), "")
    for source_row in run.source.rows:
        report.rows += 1
        row, problems = parser.parse(source_row)
        if row is not None:
            # A short digest per address: memory stays small for any number of rows.
            digest = hashlib.blake2b(row.email.encode(), digest_size=12).digest()
            if digest in seen:
                problems.append(
                    Problem(
                        row.number, email_column, _("This address appears earlier in the file.")
                    )
                )
            seen.add(digest)
        for problem in problems:
            report.add_problem(problem)
        if problems:
            refused.add(source_row.number)
        else:
            report.rows_to_write += 1
            if kept is not None:
                kept.append(row)
        if report.rows % run.chunk_size == 0:
            _progress(run, report, "checking")
    _progress(run, report, "checking")
    return refused


def _valid_rows(run: ImportRun, parser: RowParser, refused: set[int]) -> Iterator[_Row]:
    """The file again, row by row, without the rows the check refused."""
    source = run.source.reopen()
    for source_row in source.rows:
        if source_row.number in refused:
            continue
        row, problems = parser.parse(source_row)
        if row is None or problems:  # the file changed between the two readings
            raise ImportError_(
                _("The file changed while it was imported (row %(row)d); import it again.")
                % {"row": source_row.number}
            )
        yield row


def _chunks(rows, size: int) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress(run: ImportRun, report: ImportReport, phase: str) -> None:
    if run.progress is not None:
        run.progress(
            ImportProgress(
                phase,
                report.rows,
                report.rows_written,
                report.rows_to_write,
                run.source.position(),
                run.source.size,
            )
        )


_COUNTS = (
    "created",
    "consent_added_to_existing",
    "existing_unchanged",
    "suppressed_skipped",
    "events",
    "unproven",
    "proven",
    "purchases",
    "purchases_known",
    "tagged",
)


class _ChunkWriter:
    def __init__(self, run: ImportRun, report: ImportReport):
        self.run = run
        self.report = report
        self.label = run.source.name[:200]
        self.actor = run.actor[:200]
        self.queued_notices = 0

    def write_chunk(self, rows: list[_Row], *, keep: bool) -> None:
        """Write ``rows`` in one transaction (rolled back unless ``keep``).

        A chunk that finds SQLite busy (another writer past the connection's
        timeout) is tried again as a whole; the report's counts are those of
        the attempt that committed.
        """
        before = {name: getattr(self.report, name) for name in _COUNTS}

        def attempt() -> list[int]:
            for name, value in before.items():
                setattr(self.report, name, value)
            with transaction.atomic():
                new_ids = self._write(rows)
                if keep:
                    self.queued_notices += queue_notices(new_ids, str(SourceKind.IMPORT))
                else:
                    transaction.set_rollback(True)
            return new_ids

        new_ids = retry_when_locked(attempt)
        self.report.rows_written += len(rows) if keep else 0
        if keep and new_ids:
            # Right away, unless a caller's transaction is still open around the import.
            transaction.on_commit(lambda: self._announce(new_ids))

    def _announce(self, new_ids: list[int]) -> None:
        started = time.monotonic()
        contacts_registered.send(Contact, contact_ids=new_ids, channel=str(SourceKind.IMPORT))
        self.report.announce_seconds += round(time.monotonic() - started, 3)

    def _write(self, rows: list[_Row]) -> list[int]:
        """Write one chunk's contacts and events; return the new contacts' ids."""
        by_email = {row.email: row for row in rows}
        hashes = {email: email_hash(email) for email in by_email}
        suppressed = set(
            Suppression.objects.filter(email_hash__in=hashes.values()).values_list(
                "email_hash", flat=True
            )
        )
        existing = {
            c.email: c
            for c in Contact.objects.filter(email__in=list(by_email)).only(
                "pk", "email", "ledger_key", "objected_at", "source_kind", "source_detail"
            )
        }
        new_rows, pending_for_existing = [], []
        for row in rows:
            if hashes[row.email] in suppressed:
                self.report.suppressed_skipped += 1
                continue
            contact = existing.get(row.email)
            if contact is None:
                new_rows.append(row)
            else:
                pending_for_existing.append((contact, row))
        contacts = self._create_contacts(new_rows, hashes)
        pending: list[NewEvent] = []
        for contact, row in zip(contacts, new_rows, strict=True):
            pending.extend(self._events(contact, row, row.purposes))
        pending.extend(self._events_for_existing(pending_for_existing))
        ledger.append(pending)
        self.report.events += len(pending)
        everyone = [*zip(contacts, new_rows, strict=True), *pending_for_existing]
        self._write_purchases([(contact, row) for contact, row in everyone if row.purchase])
        self._write_tags([(contact, row) for contact, row in everyone if row.tags])
        return [contact.pk for contact in contacts]

    def _write_purchases(self, pairs: list[tuple[Contact, _Row]]) -> None:
        """Record each row's purchase (unless the contact has it already) and
        recompute the customer relationship of the contacts that got one."""
        if not pairs:
            return
        ids = [contact.pk for contact, _row in pairs]
        known = set(
            Purchase.objects.filter(contact_id__in=ids).values_list(
                "contact_id", "purchased_on", "description", "category_id", "reference", "amount"
            )
        )
        uncategorised = None
        now = timezone.now()
        purchases, rows = [], []
        for contact, row in pairs:
            data = row.purchase
            category = data.get("category")
            if category is None:
                uncategorised = uncategorised or ProductCategory.uncategorised()
                category = uncategorised
            same = (
                contact.pk,
                data["purchased_on"],
                data["description"],
                category.pk,
                data.get("reference", ""),
                data.get("amount"),
            )
            if same in known:
                self.report.purchases_known += 1
                continue
            known.add(same)
            purchases.append(
                Purchase(
                    contact=contact,
                    purchased_on=data["purchased_on"],
                    description=data["description"],
                    reference=data.get("reference", ""),
                    amount=data.get("amount"),
                    objection_offered=data.get("objection_offered", False),
                    category=category,
                    source_kind=SourceKind.IMPORT,
                    created_at=now,
                )
            )
            rows.append(row)
        insert_rows(Purchase, purchases)
        self.report.purchases += len(purchases)
        insert_rows(
            Activity,
            [
                Activity(
                    contact=purchase.contact,
                    kind=ActivityKind.PURCHASE,
                    occurred_at=now,
                    actor=self.actor,
                    summary=f"purchase on {purchase.purchased_on.isoformat()}",
                    data={
                        "purchase": purchase.pk,
                        "purchased_on": purchase.purchased_on.isoformat(),
                        "description": purchase.description,
                        "category": purchase.category.key,
                        "amount": None if purchase.amount is None else str(purchase.amount),
                        "objection_offered": purchase.objection_offered,
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
                for purchase, row in zip(purchases, rows, strict=True)
            ],
        )
        # The customer relationship as ``refresh_customer_relationship`` computes it.
        customers = (
            Purchase.objects.filter(contact_id__in={p.contact.pk for p in purchases})
            .values("contact_id")
            .annotate(
                first=Min("purchased_on"),
                last=Max("purchased_on"),
                offered=Count("id", filter=Q(objection_offered=True)),
            )
        )
        Contact.objects.bulk_update(
            [
                Contact(
                    pk=c["contact_id"],
                    customer_since=c["first"],
                    last_purchase_on=c["last"],
                    objection_offered_at_sale=c["offered"] > 0,
                )
                for c in customers
            ],
            ["customer_since", "last_purchase_on", "objection_offered_at_sale"],
        )

    def _write_tags(self, pairs: list[tuple[Contact, _Row]]) -> None:
        """Add each row's tags to its contact (creating new tag names), on the timeline."""
        if not pairs:
            return
        names = sorted({name for _contact, row in pairs for name in row.tags})
        Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        through = Tag.contacts.through
        before: dict[int, set[str]] = defaultdict(set)
        for contact_id, name in through.objects.filter(
            contact_id__in=[contact.pk for contact, _row in pairs]
        ).values_list("contact_id", "tag__name"):
            before[contact_id].add(name)
        now = timezone.now()
        links, activities = [], []
        for contact, row in pairs:
            had = before[contact.pk]
            new = [name for name in row.tags if name not in had]
            if not new:
                continue
            links += [through(contact_id=contact.pk, tag_id=tag_ids[name]) for name in new]
            activities.append(
                Activity(
                    contact=contact,
                    kind=ActivityKind.CHANGED,
                    occurred_at=now,
                    actor=self.actor,
                    summary="tags changed",
                    data={
                        "changes": {"tags": [sorted(had), sorted(had | set(new))]},
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
            )
        through.objects.bulk_create(links)
        insert_rows(Activity, activities)
        self.report.tagged += len(activities)

    def _create_contacts(self, rows: list[_Row], hashes: dict) -> list[Contact]:
        now = timezone.now()
        contacts = [
            Contact(
                email=row.email,
                email_hash=hashes[row.email],
                first_name=row.data.get("first_name", ""),
                last_name=row.data.get("last_name", ""),
                organisation_name=row.data.get("organisation_name", ""),
                language=row.data.get("language", Language.NL),
                source_kind=SourceKind.IMPORT,
                source_detail=self.label,
                collected_from_person=False,
                created_at=now,
                hard_bounced_at=(row.unsub_time or now) if row.status in formats.BOUNCED else None,
            )
            for row in rows
        ]
        insert_rows(Contact, contacts)
        if contacts and contacts[0].pk is None:  # backends without RETURNING
            pks = dict(
                Contact.objects.filter(email__in=[c.email for c in contacts]).values_list(
                    "email", "pk"
                )
            )
            for contact in contacts:
                contact.pk = pks[contact.email]
        self.report.created += len(contacts)
        insert_rows(
            Activity,
            [
                Activity(
                    contact=contact,
                    kind=ActivityKind.CREATED,
                    occurred_at=now,
                    actor=self.actor,
                    summary="registered",
                    data={
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
                for contact, row in zip(contacts, rows, strict=True)
            ],
        )
        fields = {f.key: f for f in ContactField.objects.filter(is_active=True)}
        insert_rows(
            ContactFieldValue,
            [
                ContactFieldValue(contact=contact, field=fields[key], value=value)
                for contact, row in zip(contacts, rows, strict=True)
                for key, value in row.fields.items()
            ],
        )
        return contacts

    def _events_for_existing(self, pairs) -> list[NewEvent]:
        if not pairs:
            return []
        states = set(
            ConsentState.objects.filter(contact__in=[c for c, _r in pairs]).values_list(
                "contact_id", "purpose_id"
            )
        )
        pending = []
        for contact, row in pairs:
            purposes = [p for p in row.purposes if (contact.pk, p.pk) not in states]
            if contact.objected_at is not None or not purposes:
                self.report.existing_unchanged += 1
                continue
            self.report.consent_added_to_existing += 1
            pending.extend(self._events(contact, row, purposes))
        return pending

    def _events(self, contact: Contact, row: _Row, purposes: list[Purpose]) -> list[NewEvent]:
        events = []
        optin_time = row.optin_time or row.confirm_time
        common = {
            "channel": Channel.IMPORT.value,
            "channel_ref": self.label,
            "actor": self.actor,
        }
        for purpose in purposes:
            if optin_time is None:
                self.report.unproven += 1
                events.append(
                    NewEvent(
                        contact,
                        purpose,
                        EventKind.UNPROVEN,
                        occurred_at=timezone.now(),
                        proof={"file": self.label, "row": row.number, "format": self.run.format},
                        **common,
                    )
                )
            else:
                self.report.proven += 1
                proof = {
                    "file": self.label,
                    "row": row.number,
                    "format": self.run.format,
                    "optin_time": optin_time.isoformat(),
                    "optin_ip": row.optin_ip,
                    "confirm_time": row.confirm_time.isoformat() if row.confirm_time else "",
                    "confirm_ip": row.confirm_ip,
                }
                grant = NewEvent(
                    contact,
                    purpose,
                    EventKind.GRANTED,
                    occurred_at=optin_time,
                    proof=proof,
                    needs_confirmation=purpose.double_opt_in or row.confirm_time is not None,
                    **common,
                )
                events.append(grant)
                if row.confirm_time is not None:
                    events.append(
                        NewEvent(
                            contact,
                            purpose,
                            EventKind.CONFIRMED,
                            occurred_at=row.confirm_time,
                            proof={
                                "file": self.label,
                                "row": row.number,
                                "confirm_time": row.confirm_time.isoformat(),
                                "confirm_ip": row.confirm_ip,
                            },
                            confirms=grant,
                            **common,
                        )
                    )
            if row.status in formats.UNSUBSCRIBED:
                events.append(
                    NewEvent(
                        contact,
                        purpose,
                        EventKind.WITHDRAWN,
                        occurred_at=row.unsub_time or timezone.now(),
                        proof={"file": self.label, "row": row.number, "status": row.status},
                        **common,
                    )
                )
        return events
