"""Property: whatever mix of good and bad rows a file holds, every bad row is
reported by row (and column), and either everything is imported or nothing."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akkoord.consent.models import ConsentEvent
from akkoord.contacts.models import Contact
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_csv

GOOD = st.tuples(
    st.sampled_from(["", "Anna", "Bram", "de Vries", "Ö zil"]),
    st.sampled_from(["", "2024-01-02 03:04:05", "2023-12-31T23:00:00Z"]),
    st.sampled_from(["", "192.0.2.7", "2001:db8::1"]),
)
BAD = st.sampled_from(
    [
        ("email", "not-an-address"),
        ("email", "a@@example.com"),
        ("first_name", "=SUM(A1:A9)"),
        ("first_name", "+31 6 1234"),
        ("first_name", "@cmd"),
        ("first_name", "line\nbreak"),
        ("first_name", "x" * 300),
        ("optin_time", "31/31/2024"),
        ("optin_time", "2999-01-01 00:00:00"),
        ("optin_ip", "300.1.1.1"),
        ("purposes", "no-such-purpose"),
        ("email", "DUPLICATE"),
    ]
)
COLUMNS = ["email", "first_name", "optin_time", "optin_ip", "purposes"]


@settings(
    max_examples=25,
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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    expected_bad = {}
    imported = []  # addresses of rows that pass validation, in file order
    for index, (kind, spec) in enumerate(plan):
        row_number = index + 2
        email = f"person{index}@example.com"
        row = {"email": email, "first_name": "", "optin_time": "", "optin_ip": "", "purposes": ""}
        if kind == "bad" and spec[1] == "DUPLICATE" and not imported:
            kind, spec = "good", ("Eerste", "", "")
        if kind == "good":
            row["first_name"], row["optin_time"], row["optin_ip"] = spec
            if row["optin_ip"] and not row["optin_time"]:
                row["optin_ip"] = ""
            imported.append(email)
        else:
            column, value = spec
            row[column] = imported[0] if value == "DUPLICATE" else value
            expected_bad[row_number] = column
        writer.writerow([row[c] for c in COLUMNS])
    events_before = ConsentEvent.objects.count()
    source = open_csv(io.BytesIO(out.getvalue().encode()), "prop.csv")
    purpose, mapping, fmt = prepare(source, purpose_key="nieuwsbrief", fmt="csv")
    report = run_import(ImportRun(source, mapping, purpose, format=fmt, valid_only=valid_only))

    reported = {}
    for problem in report.problems:
        reported.setdefault(problem.row, problem.column)
    assert reported == expected_bad
    good_rows = len(imported)
    if expected_bad and not valid_only:
        assert Contact.objects.count() == 0
        assert ConsentEvent.objects.count() == events_before
    else:
        assert Contact.objects.count() == good_rows
