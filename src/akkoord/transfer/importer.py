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
* The file is streamed, so memory stays flat for any number of rows. It is
  read and checked once; the valid rows wait for the write pass in an
  anonymous temporary file (``transfer.spool``), so what is written is exactly
  what was checked.
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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from akkoord.consent.models import Purpose
from akkoord.contacts.models import ContactField
from akkoord.notices.tasks import schedule_delivery
from akkoord.transfer import formats
from akkoord.transfer.parsing import ParsedRow, Problem, RowParser
from akkoord.transfer.reading import Source
from akkoord.transfer.report import ImportReport
from akkoord.transfer.spool import RowSpool
from akkoord.transfer.writing import ChunkWriter

__all__ = ["ImportError_", "ImportProgress", "ImportReport", "ImportRun", "prepare", "run_import"]


class ImportError_(ValueError):
    """The import cannot start (bad purpose, bad mapping): a usage problem."""


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
    purposes = {p.pk: p for p in [*purposes_by_key.values(), *filter(None, [run.purpose])]}
    categories = {c.pk: c for c in parser.categories_by_key.values()}
    with RowSpool(purposes, categories) as checked:
        _check_file(run, parser, report, checked)
        keep = not run.dry_run and (run.valid_only or report.problem_count == 0)
        if keep or run.dry_run:
            writer = ChunkWriter(report, label=run.source.name, fmt=run.format, actor=run.actor)
            try:
                for chunk in _chunks(checked.rows(), run.chunk_size):
                    writer.write_chunk(chunk, keep=keep)
                    _progress(run, report, "writing")
            finally:
                if keep and writer.queued_notices:
                    transaction.on_commit(schedule_delivery)
            report.committed = keep
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _check_file(run: ImportRun, parser: RowParser, report: ImportReport, checked: RowSpool) -> None:
    """Read and check every row, record its problems, and spool the valid rows."""
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
        if not problems:
            report.rows_to_write += 1
            checked.add(row)
        if report.rows % run.chunk_size == 0:
            _progress(run, report, "checking")
    _progress(run, report, "checking")


def _chunks(rows, size: int) -> Iterator[list[ParsedRow]]:
    chunk: list[ParsedRow] = []
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
