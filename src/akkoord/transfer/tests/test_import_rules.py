from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from akkoord.consent.audiences import facts_for
from akkoord.consent.ledger import rebuild_state, record_event, verify_ledger
from akkoord.consent.models import ConsentEvent, Suppression
from akkoord.consent.rules import Audience, MailClass, Reason, decide
from akkoord.contacts.emails import email_hash
from akkoord.contacts.models import Contact
from akkoord.contacts.services import register_contact
from akkoord.contacts.signals import contacts_registered
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_path

TODAY = date(2026, 11, 23)
HEADER = "email,first_name,optin_time,optin_ip,confirm_time,confirm_ip\n"


def do_import(path, purpose_key="nieuwsbrief", **kwargs):
    source = open_path(path)
    mapping = kwargs.pop("mapping", None)
    purpose, mapping, fmt = prepare(source, purpose_key=purpose_key, fmt="auto", mapping=mapping)
    return run_import(ImportRun(source, mapping, purpose, format=fmt, **kwargs))


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(newsletter, write_csv):
    path = write_csv(
        "list.csv",
        HEADER
        + "good@example.com,Goed,2024-01-01 10:00:00,192.0.2.1,,\n"
        + "not-an-address,X,,,,\n"
        + "good@example.com,Dubbel,,,,\n"
        + "ok@example.com,=HYPERLINK(1),,,,\n"
        + "date@example.com,D,yesterday,,,\n"
        + "ip@example.com,I,2024-01-01,999.1.1.1,,\n",
    )
    report = do_import(path)

    found = {(p.row, p.column) for p in report.problems}
    assert found == {
        (3, "email"),
        (4, "email"),
        (5, "first_name"),
        (6, "optin_time"),
        (7, "optin_ip"),
    }
    assert not report.committed
    assert Contact.objects.count() == 0 and ConsentEvent.objects.count() == 0


def test_valid_only_imports_the_good_rows_and_reports_the_rest(newsletter, write_csv):
    path = write_csv("list.csv", HEADER + "a@example.com,A,,,,\nbroken,B,,,,\n")
    report = do_import(path, valid_only=True)
    assert report.committed and report.created == 1 and report.problem_count == 1
    assert Contact.objects.get().email == "a@example.com"


def test_dry_run_keeps_nothing(newsletter, write_csv):
    report = do_import(write_csv("list.csv", HEADER + "a@example.com,A,,,,\n"), dry_run=True)
    assert report.created == 1 and not report.committed
    assert Contact.objects.count() == 0


def test_wrong_encoding_and_binary_junk_are_reported_per_row(newsletter, write_csv):
    raw = (
        (HEADER + "a@example.com,Anne,,,,\n").encode()
        + "b@example.com,Bj\xf6rn,,,,\n".encode("latin-1")
        + b"c@example.com,\x00\x01\x02,,,,\n"
    )
    report = do_import(write_csv("list.csv", raw))
    assert {(p.row, p.column) for p in report.problems} == {(3, "first_name"), (4, "first_name")}
    assert "utf-8" in report.problems[0].message
    assert Contact.objects.count() == 0


def test_a_latin1_file_read_as_latin1_imports(newsletter, write_csv):
    raw = (HEADER + "b@example.com,Bj\xf6rn,,,,\n").encode("latin-1")
    source = open_path(write_csv("list.csv", raw), encoding="latin-1")
    purpose, mapping, fmt = prepare(source, purpose_key="nieuwsbrief")
    report = run_import(ImportRun(source, mapping, purpose, format=fmt))
    assert report.committed and report.problem_count == 0, report.problems
    assert Contact.objects.get().first_name == "Björn"


def test_suppressed_address_is_not_brought_back(newsletter, write_csv):
    erased_at = timezone.now() - timedelta(days=30)
    Suppression.objects.create(email_hash=email_hash("gone@example.com"), created_at=erased_at)
    later = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    path = write_csv(
        "list.csv", HEADER + f"gone@example.com,G,{later},192.0.2.1,{later},192.0.2.1\n"
    )
    report = do_import(path)
    assert report.suppressed_skipped == 1 and report.created == 0
    assert not Contact.objects.filter(email="gone@example.com").exists()


def test_import_never_creates_a_confirmation_for_a_suppressed_person(newsletter, write_csv):
    # The person was erased, then signed up again (pending, not confirmed).
    Suppression.objects.create(
        email_hash=email_hash("back@example.com"), created_at=timezone.now() - timedelta(days=10)
    )
    person, _ = register_contact({"email": "back@example.com"}, source_kind="form")
    record_event(person, newsletter, "granted", channel="form", needs_confirmation=True)
    old = "2020-01-01 10:00:00"
    report = do_import(
        write_csv("list.csv", HEADER + f"back@example.com,B,{old},192.0.2.1,{old},192.0.2.1\n")
    )
    assert report.suppressed_skipped == 1
    decision = decide(
        facts_for(person, newsletter),
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=TODAY,
        customer_months=24,
    )
    assert decision.reason == Reason.SUPPRESSED


def test_existing_contact_with_history_keeps_its_consent(newsletter, contact, write_csv):
    record_event(contact, newsletter, "withdrawn", channel="centre")
    path = write_csv("list.csv", HEADER + f"{contact.email},J,2020-01-01 10:00:00,,,\n")
    report = do_import(path)
    assert report.existing_unchanged == 1 and report.events == 0
    decision = decide(
        facts_for(contact, newsletter),
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=TODAY,
        customer_months=24,
    )
    assert decision.reason == Reason.WITHDRAWN


def test_new_contacts_are_announced_after_commit(
    newsletter, write_csv, django_capture_on_commit_callbacks
):
    seen = []

    def listener(sender, contact_ids, channel, **kwargs):
        seen.extend(
            (email, channel)
            for email in Contact.objects.filter(pk__in=contact_ids).values_list("email", flat=True)
        )

    contacts_registered.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            do_import(write_csv("list.csv", HEADER + "a@example.com,A,,,,\nb@example.com,B,,,,\n"))
            assert seen == [], "announced before the import committed"
    finally:
        contacts_registered.disconnect(listener)
    assert sorted(seen) == [("a@example.com", "import"), ("b@example.com", "import")]


def test_listmonk_export_with_blocklisted_status_withdraws(newsletter, write_csv):
    path = write_csv(
        "subscribers.csv",
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        '1,l1@example.com,Lies Maas,"{""city"": ""Delft""}",enabled,2023-01-02 10:00:00,\n'
        "2,l2@example.com,Piet,{},blocklisted,2023-01-02 10:00:00,\n",
    )
    report = do_import(path)
    assert report.format == "listmonk" and report.problem_count == 0, report.problems
    lies = Contact.objects.get(email="l1@example.com")
    assert (lies.first_name, lies.last_name) == ("Lies", "Maas")
    # created_at says when the record was made, not that the person opted in.
    (event,) = ConsentEvent.objects.filter(subject_key=lies.ledger_key)
    assert event.kind == "unproven" and report.proven == 0
    reason = decide(
        facts_for(lies, newsletter),
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=TODAY,
        customer_months=24,
    ).reason
    assert reason == Reason.UNPROVEN_ONLY
    piet = Contact.objects.get(email="l2@example.com")
    kinds = list(
        ConsentEvent.objects.filter(subject_key=piet.ledger_key).values_list("kind", flat=True)
    )
    assert kinds == ["unproven", "withdrawn"]
    assert not decide(
        facts_for(piet, newsletter), MailClass.REPERMISSION, None, today=TODAY, customer_months=24
    ).allowed


def test_laposta_export_in_dutch(newsletter, write_csv):
    path = write_csv(
        "laposta.csv",
        "E-mailadres,Voornaam,Status,Aanmelddatum,IP-adres\n"
        "lp@example.nl,Sanne,actief,2022-05-06 07:08:09,198.51.100.4\n",
    )
    report = do_import(path)
    assert report.format == "laposta" and report.proven == 1, report.problems
    event = ConsentEvent.objects.get()
    assert event.occurred_at == datetime(2022, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_xlsx_with_mapping(newsletter, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Adres", "Naam", "Ingeschreven"])
    sheet.append(["x@example.com", "Xander", datetime(2023, 2, 3, 4, 5, 6)])
    path = tmp_path / "lijst.xlsx"
    book.save(path)
    report = do_import(
        path, mapping={"Adres": "email", "Naam": "name", "Ingeschreven": "optin_time"}
    )
    assert report.committed and report.proven == 1, report.problems
    assert ConsentEvent.objects.get().occurred_at == datetime(2023, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_bulk_import_keeps_ledger_verifiable(newsletter, product_updates, write_csv):
    lines = [f"p{n}@example.com,P,{'2024-01-01 10:00:00' if n % 2 else ''},,,\n" for n in range(25)]
    do_import(write_csv("a.csv", HEADER + "".join(lines)), chunk_size=7)
    do_import(
        write_csv("b.csv", HEADER + "".join(lines)), purpose_key="productupdates", chunk_size=4
    )
    assert ConsentEvent.objects.count() == 50
    result = verify_ledger()
    assert result.ok, result.problem
    assert rebuild_state(fix=False).drift == []


def test_cli_exit_codes(newsletter, write_csv):
    good = write_csv("good.csv", HEADER + "a@example.com,A,,,,\n")
    bad = write_csv("bad.csv", HEADER + "nope,A,,,,\n")
    call_command("import", str(good), purpose="nieuwsbrief", no_progress=True)
    assert Contact.objects.count() == 1
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", str(bad), purpose="nieuwsbrief", no_progress=True)
    assert exit_info.value.code == 1
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as usage:
        call_command("import", str(good), purpose="unknown", no_progress=True)
    assert usage.value.returncode == 2
    with pytest.raises(CommandError) as usage:
        call_command("import", str(good), purpose="nieuwsbrief", mapping="nope", no_progress=True)
    assert usage.value.returncode == 2


def test_cli_shows_progress_on_stderr_and_a_summary_on_stdout(newsletter, write_csv):
    import io

    lines = "".join(f"p{n}@example.com,P,,,,\n" for n in range(30))
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import",
        str(write_csv("list.csv", HEADER + lines)),
        purpose="nieuwsbrief",
        stdout=out,
        stderr=err,
    )
    assert "30 rows" in err.getvalue() and "100%" in err.getvalue()
    assert "New contacts: 30" in out.getvalue() and "imported" in out.getvalue()


def test_an_unclosed_quote_is_reported_and_rows_after_it_are_not_lost(newsletter, write_csv):
    raw = (
        HEADER + "a@example.com,Anna,,,,\n"
        'b@example.com,"Bram,,,,\n'
        "c@example.com,Carla,,,,\n"
        "d@example.com,Dirk,,,,\n"
    )
    report = do_import(write_csv("list.csv", raw), valid_only=True)
    (problem, *_rest) = [p for p in report.problems if p.row == 3]
    assert "line 3 to line 5" in problem.message or "regel 3 tot regel 5" in problem.message
    assert list(Contact.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_a_row_the_reader_rejects_does_not_stop_the_file(newsletter, write_csv, monkeypatch):
    import csv

    limit = csv.field_size_limit()
    csv.field_size_limit(200)
    try:
        raw = HEADER + "a@example.com,Anna,,,,\n" + "b@example.com," + "x" * 300 + ",,,,\n"
        raw += "c@example.com,Carla,,,,\n"
        report = do_import(write_csv("list.csv", raw), valid_only=True)
    finally:
        csv.field_size_limit(limit)
    assert [p.row for p in report.problems] == [3]
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "a@example.com",
        "c@example.com",
    ]


def test_imported_people_get_the_privacy_confirmation_once_each(
    newsletter, write_csv, django_capture_on_commit_callbacks
):
    rows = "".join(f"p{i}@example.com,P{i},,,,\n" for i in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        report = do_import(write_csv("list.csv", HEADER + rows))
    assert report.created == 3
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{i}@example.com" for i in range(3)]
    assert not Contact.objects.filter(informed_at__isnull=True).exists()
    # A second import of the same file registers no one and sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        do_import(write_csv("again.csv", HEADER + rows))
    assert len(mail.outbox) == 3
