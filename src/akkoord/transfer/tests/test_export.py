import csv
import io
import json
import zipfile

import pytest
import pyzipper
from django.core.management import call_command
from django.core.management.base import CommandError

from akkoord.accounts.models import AuditEntry
from akkoord.consent.ledger import record_event
from akkoord.contacts.services import register_contact
from akkoord.transfer.exporting import neutralise, write_export

PASSWORD = "a long export password"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+31612345678", "'+31612345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Jan", "Jan"),
        ("", ""),
        (None, ""),
    ],
)
def test_cells_a_spreadsheet_would_execute_are_neutralised(cell, expected):
    assert neutralise(cell) == expected


def _read(path_or_bytes, member):
    with pyzipper.AESZipFile(path_or_bytes) as zf:
        zf.setpassword(PASSWORD.encode())
        return zf.read(member).decode("utf-8-sig")


def test_export_is_encrypted_and_neutralised(newsletter, tmp_path):
    person, _ = register_contact(
        {"email": "evil@example.com", "first_name": "Eva", "organisation_name": "Acme"},
        source_kind="staff",
    )
    from akkoord.contacts.models import Contact

    Contact.objects.filter(pk=person.pk).update(last_name='=HYPERLINK("http://x")')
    record_event(person, newsletter, "granted", channel="staff", proof={"ip": "192.0.2.1"})
    path = tmp_path / "out.zip"
    counts = write_export(str(path), PASSWORD)
    assert counts == {"contacts": 1, "consent_events": 1}

    with zipfile.ZipFile(path) as plain:
        info = plain.getinfo("contacts.csv")
        assert info.flag_bits & 0x1  # encrypted
        with pytest.raises(RuntimeError):
            plain.read("contacts.csv")
    rows = list(csv.DictReader(io.StringIO(_read(path, "contacts.csv"))))
    assert rows[0]["email"] == "evil@example.com"
    assert rows[0]["last_name"] == '\'=HYPERLINK("http://x")'
    consents = json.loads(_read(path, "consents.json"))
    assert consents[0]["proof"] == {"ip": "192.0.2.1"}
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(b"wrong password!!")
        with pytest.raises(RuntimeError):
            zf.read("contacts.csv")


def test_export_command_needs_a_password_and_audits(contact, tmp_path, monkeypatch):
    target = tmp_path / "export.zip"
    monkeypatch.delenv("AKKOORD_EXPORT_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())
    with pytest.raises(CommandError) as usage:
        call_command("export", str(target), no_progress=True)
    assert usage.value.returncode == 2 and not target.exists()
    monkeypatch.setenv("MY_PW", PASSWORD)
    call_command("export", str(target), password_env="MY_PW", no_progress=True)
    assert "jan.jansen@example.nl" in _read(str(target), "contacts.csv")
    assert AuditEntry.objects.filter(action="export", object_type="export").exists()
