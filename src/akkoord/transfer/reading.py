"""Reading import files row by row, without loading them into memory.

A source yields the header and then ``SourceRow`` objects: the spreadsheet row
number (the header is row 1), the cells, and problems found while reading
(bytes that are not valid text, a wrong number of columns). CSV files are
decoded line by line so that one badly encoded row is reported by its number
instead of failing the whole file; XLSX files are read with openpyxl's
read-only (streaming) mode.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _

MAX_CELL = 10_000
csv.field_size_limit(MAX_CELL * 10)


class FileProblem(ValueError):
    """The file as a whole cannot be read (the message says why)."""


@dataclass
class SourceRow:
    number: int
    cells: list
    problems: list[str] = field(default_factory=list)
    # Problems of single cells found while reading: (column index, message).
    cell_problems: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Source:
    header: list[str]
    rows: Iterator[SourceRow]
    name: str
    # Bytes read so far and the total, for progress (None when unknown).
    size: int | None = None
    position: callable = lambda: 0
    # Opens the same file again from its first row (None: it can be read once).
    reopen: callable = None


class _CountingBinary(io.RawIOBase):
    """Wraps a binary file and counts the bytes read (for progress)."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.count += len(data)
        buffer[: len(data)] = data
        return len(data)


def _decoded_lines(binary, encoding: str, bad_lines: set[int]) -> Iterator[str]:
    """Lines of text; a line that does not decode is noted and replaced."""
    for number, raw in enumerate(binary, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield raw.decode(encoding, errors="replace")


def _report_undecodable(row: SourceRow, encoding: str) -> None:
    """Name the cells holding bytes that were not ``encoding`` text (now U+FFFD)."""
    message = _("This cell is not %(encoding)s text (wrong encoding or binary data).") % {
        "encoding": encoding
    }
    columns = [index for index, cell in enumerate(row.cells) if "\ufffd" in cell]
    if columns:
        row.cell_problems.extend((index, message) for index in columns)
    else:
        row.problems.append(
            _("This row is not %(encoding)s text (wrong encoding or binary data).")
            % {"encoding": encoding}
        )


def _swallows_rows(cells: list[str], delimiter: str, width: int) -> bool:
    """True when a cell spanning lines holds a line that looks like a row of its own."""
    if width < 2:
        return False
    for cell in cells:
        for line in cell.splitlines()[1:]:
            if line.count(delimiter) >= width - 1:
                return True
    return False


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def open_csv(binary, name: str, *, encoding: str = "utf-8", size: int | None = None) -> Source:
    """A CSV source over an open binary file (comma, semicolon or tab separated)."""
    counting = _CountingBinary(binary)
    buffered = io.BufferedReader(counting, buffer_size=1 << 16)
    sample = buffered.peek(8192)[:8192].decode(encoding, errors="replace").lstrip("\ufeff")
    dialect = _sniff_dialect(sample.split("\n", 1)[0] + "\n")
    bad_lines: set[int] = set()
    reader = csv.reader(_decoded_lines(buffered, encoding, bad_lines), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem(_("The file is empty.")) from None
    except csv.Error as error:
        raise FileProblem(_("The first line cannot be read: %(why)s") % {"why": error}) from None
    header = [h.strip() for h in header]
    if bad_lines:
        raise FileProblem(
            _(
                "The header line is not %(encoding)s text. Save the file as UTF-8 (or choose the "
                "right encoding) and try again."
            )
            % {"encoding": encoding}
        )
    _check_header(header)

    def rows() -> Iterator[SourceRow]:
        try:
            yield from _records()
        finally:
            binary.close()

    def _records() -> Iterator[SourceRow]:
        record = 1
        last_line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # The reader goes on with the next line: report this row, keep
                # reading, so that no later row is dropped without a word.
                record += 1
                bad_lines.difference_update(range(last_line + 1, reader.line_num + 1))
                last_line = reader.line_num
                yield SourceRow(
                    record, [], [_("This row cannot be read: %(why)s") % {"why": error}]
                )
                continue
            record += 1
            row = SourceRow(record, cells)
            lines = range(last_line + 1, reader.line_num + 1)
            if any(line in bad_lines for line in lines):
                _report_undecodable(row, encoding)
                bad_lines.difference_update(lines)
            if len(lines) > 1 and _swallows_rows(cells, dialect.delimiter, len(header)):
                row.problems.append(
                    _(
                        "This row runs from line %(first)d to line %(last)d and holds what look "
                        'like whole rows: a quote (") is probably not closed.'
                    )
                    % {"first": lines[0], "last": lines[-1]}
                )
            last_line = reader.line_num
            if not any(c.strip() for c in cells) and not row.problems and not row.cell_problems:
                continue  # blank line
            yield _sized(row, len(header))

    return Source(header, rows(), name, size, lambda: counting.count)  # noqa: B023


def _sized(row: SourceRow, width: int) -> SourceRow:
    if len(row.cells) != width and not row.problems:
        extra = row.cells[width:]
        if len(row.cells) > width and not any(str(c).strip() for c in extra if c is not None):
            row.cells = row.cells[:width]
        else:
            row.problems.append(
                _("This row has %(n)d columns; the header has %(width)d.")
                % {"n": len(row.cells), "width": width}
            )
    if len(row.cells) < width:
        row.cells = [*row.cells, *[""] * (width - len(row.cells))]
    for cell in row.cells:
        if isinstance(cell, str) and len(cell) > MAX_CELL:
            row.problems.append(
                _("A cell in this row is longer than %(n)d characters.") % {"n": MAX_CELL}
            )
            break
    return row


def _check_header(header: list[str]) -> None:
    if not any(header):
        raise FileProblem(_("The first row must name the columns."))
    seen = set()
    for name in header:
        if name and name.lower() in seen:
            raise FileProblem(_("The column %(name)s appears twice.") % {"name": name[:80]})
        seen.add(name.lower())


def _xlsx_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def open_xlsx(path_or_file, name: str) -> Source:
    """An XLSX source: the first worksheet, streamed (openpyxl read-only mode)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path_or_file, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as error:
        raise FileProblem(_("This is not a readable XLSX file: %(why)s") % {"why": error}) from None
    except Exception as error:  # zipfile.BadZipFile and friends
        raise FileProblem(_("This is not a readable XLSX file: %(why)s") % {"why": error}) from None
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(values)]
    except StopIteration:
        raise FileProblem(_("The file is empty.")) from None
    while header and not header[-1]:
        header.pop()
    _check_header(header)

    def rows() -> Iterator[SourceRow]:
        for number, cells in enumerate(values, start=2):
            cells = [_xlsx_cell(c) for c in cells]
            if not any(c != "" for c in cells):
                continue
            yield _sized(SourceRow(number, cells), len(header))
        book.close()

    return Source(header, rows(), name)


def open_path(path: str | Path, *, encoding: str = "utf-8") -> Source:
    """Open a CSV or XLSX file by its name (the caller closes nothing: generators do)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        source = open_xlsx(str(path), path.name)
    else:
        binary = path.open("rb")
        source = open_csv(binary, path.name, encoding=encoding, size=path.stat().st_size)
    source.reopen = lambda: open_path(path, encoding=encoding)
    return source


def open_upload(upload, *, encoding: str = "utf-8") -> Source:
    """Open an uploaded file (Django ``UploadedFile``)."""
    name = Path(upload.name or "upload.csv").name
    if name.lower().endswith((".xlsx", ".xlsm")):
        return open_xlsx(upload, name)
    upload.seek(0)
    return open_csv(upload, name, encoding=encoding, size=upload.size)
