"""Property: whatever mix of good and bad rows a file holds, every bad row is
reported by its row and column, and either everything is imported or nothing
(or, with "import the valid rows", exactly the good rows)."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akkoord.consent.models import ConsentEvent
from akkoord.contacts.models import Contact
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_csv

GOOD = st.tuples(
    st.sampled_from(["", "Anna", "Bram", "de Vries", "Ö zil", "Zoë-Émilie"]),
    st.sampled_from(["", "2024-01-02 03:04:05", "2023-12-31T23:00:00Z", "02-01-2024 10:00"]),
    st.sampled_from(["", "192.0.2.7", "2001:db8::1"]),
)
# Raw bytes put into the file in place of a cell (never a comma, quote or newline).
LATIN1 = "Bj\xf6rn".encode("latin-1")
UTF16 = "Zoë".encode("utf-16-le")
JUNK = b"\x89PNG\x00\xff\xfe\x01\x1a"
BAD = st.sampled_from(
    [
        # invalid e-mail
        ("email", "not-an-address"),
        ("email", "a@@example.com"),
        ("email", ""),  # with a name in the row: not a blank line
        # duplicate of an earlier good row (with other capitals: same address)
        ("email", "DUPLICATE"),
        # unknown purpose
        ("purposes", "no-such-purpose"),
        ("purposes", "nieuwsbrief;bestaat-niet"),
        # malformed or impossible dates
        ("optin_time", "31/31/2024"),
        ("optin_time", "2024-02-30 10:00:00"),
        ("optin_time", "yesterday"),
        ("optin_time", "2999-01-01 00:00:00"),
        ("optin_time", "1899-12-31"),
        # formula cells
        ("first_name", "=SUM(A1:A9)"),
        ("first_name", "+31 6 1234"),
        ("first_name", "-2+3"),
        ("first_name", "@cmd"),
        ("first_name", "\tcmd"),
        # control characters, over-long cells, bad IPs
        ("first_name", "line\nbreak"),
        ("first_name", "x" * 300),
        ("optin_ip", "300.1.1.1"),
        # binary junk and text in the wrong encoding
        ("first_name", JUNK),
        ("first_name", LATIN1),
        ("last_name", UTF16),
    ]
)
COLUMNS = ["email", "first_name", "last_name", "optin_time", "optin_ip", "purposes"]


def _line(cells: list) -> bytes:
    """One CSV line; str cells are UTF-8, bytes cells are written as they are."""
    placeholders = {}
    text_cells = []
    for index, cell in enumerate(cells):
        if isinstance(cell, bytes):
            placeholders[f"\x07{index}\x07"] = cell
            text_cells.append(f"\x07{index}\x07")
        else:
            text_cells.append(cell)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(text_cells)
    line = out.getvalue().encode()
    for placeholder, raw in placeholders.items():
        line = line.replace(placeholder.encode(), raw)
    return line


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(
        st.one_of(GOOD.map(lambda g: ("good", g)), BAD.map(lambda b: ("bad", b))),
        min_size=1,
        max_size=12,
    ),
    valid_only=st.booleans(),
)
def test_bad_rows_are_reported_and_never_half_imported(newsletter, plan, valid_only):
    Contact.objects.all().delete()
    raw = _line(COLUMNS)
    expected_bad = {}
    imported = []  # addresses of rows that pass validation, in file order
    for index, (kind, spec) in enumerate(plan):
        row_number = index + 2
        email = f"person{index}@example.com"
        row = dict.fromkeys(COLUMNS, "")
        row["email"] = email
        if kind == "bad" and spec[1] == "DUPLICATE" and not imported:
            kind, spec = "good", ("Eerste", "", "")
        if kind == "good":
            row["first_name"], row["optin_time"], row["optin_ip"] = spec
            if row["optin_ip"] and not row["optin_time"]:
                row["optin_ip"] = ""
            imported.append(email)
        else:
            column, value = spec
            row[column] = imported[0].upper() if value == "DUPLICATE" else value
            if column == "email" and not value:
                row["first_name"] = "Anna"
            expected_bad[row_number] = column
        raw += _line([row[c] for c in COLUMNS])
    events_before = ConsentEvent.objects.count()
    source = open_csv(io.BytesIO(raw), "prop.csv")
    purpose, mapping, fmt = prepare(source, purpose_key="nieuwsbrief", fmt="csv")
    report = run_import(ImportRun(source, mapping, purpose, format=fmt, valid_only=valid_only))

    reported = {}
    for problem in report.problems:
        assert problem.message
        reported.setdefault(problem.row, set()).add(problem.column)
    assert reported == {row: {column} for row, column in expected_bad.items()}
    assert report.problem_count == len(expected_bad)
    if expected_bad and not valid_only:
        assert not report.committed
        assert Contact.objects.count() == 0
        assert ConsentEvent.objects.count() == events_before
    else:
        assert report.committed
        assert sorted(Contact.objects.values_list("email", flat=True)) == sorted(imported)
        assert ConsentEvent.objects.count() == events_before + len(imported)
