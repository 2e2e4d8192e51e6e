"""Exports of contacts and consents: CSV and JSON inside a password-protected AES zip.

Files with personal data are always encrypted (a lost file must not expose anyone): the zip
uses WinZip AES-256 (``pyzipper``), which 7-Zip, WinZip, macOS Archive Utility
(recent versions) and ``pyzipper`` open; Windows Explorer's built-in zip does
not. Cells that a spreadsheet would execute as a formula (starting with = + -
@, a tab or a carriage return) are prefixed with a single quote. Every export
is written to the audit log by the caller's view or command.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator

import pyzipper
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.consent.models import ConsentEvent, ConsentProof, Purpose
from akkoord.contacts.models import Contact, ContactFieldValue
from akkoord.lib.text import spreadsheet_safe

MIN_PASSWORD = 12
CONTACT_COLUMNS = [
    "id",
    "email",
    "first_name",
    "last_name",
    "organisation_name",
    "language",
    "source_kind",
    "source_detail",
    "created_at",
    "customer_since",
    "last_purchase_on",
    "objection_offered_at_sale",
    "objected_at",
    "informed_at",
]
CONSENT_COLUMNS = [
    "seq",
    "contact_id",
    "email",
    "purpose",
    "kind",
    "occurred_at",
    "channel",
    "channel_ref",
    "needs_confirmation",
    "confirms_seq",
    "proof",
]


class ExportError(ValueError):
    pass


def neutralise(value) -> str:
    """A cell as text that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return spreadsheet_safe(str(value))


def check_password(password: str) -> None:
    if not password or len(password) < MIN_PASSWORD:
        raise ExportError(
            _("The export password must be at least %(n)d characters long.") % {"n": MIN_PASSWORD}
        )


def _contacts(batch: int = 2000) -> Iterator[dict]:
    fields: dict[int, dict] = {}
    queryset = Contact.objects.order_by("pk")
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:batch])
        if not chunk:
            return
        fields = {}
        for value in ContactFieldValue.objects.filter(contact__in=chunk).select_related("field"):
            fields.setdefault(value.contact_id, {})[value.field.key] = value.value
        for contact in chunk:
            row = {name: getattr(contact, name) for name in CONTACT_COLUMNS}
            row["fields"] = fields.get(contact.pk, {})
            yield row
        last = chunk[-1].pk


def _consents(batch: int = 5000) -> Iterator[dict]:
    purposes = dict(Purpose.objects.values_list("pk", "key"))
    last = 0
    while True:
        events = list(ConsentEvent.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not events:
            return
        keys = {e.subject_key for e in events}
        people = {
            c["ledger_key"]: c
            for c in Contact.objects.filter(ledger_key__in=keys).values("ledger_key", "pk", "email")
        }
        proofs = dict(ConsentProof.objects.filter(event__in=events).values_list("event_id", "data"))
        for event in events:
            person = people.get(event.subject_key)
            if person is None:
                continue  # erased: nothing personal may leave
            proof = {k: v for k, v in (proofs.get(event.pk) or {}).items() if k != "nonce"}
            yield {
                "seq": event.seq,
                "contact_id": person["pk"],
                "email": person["email"],
                "purpose": purposes.get(event.purpose_id),
                "kind": event.kind,
                "occurred_at": event.occurred_at,
                "channel": event.channel,
                "channel_ref": event.channel_ref,
                "needs_confirmation": event.needs_confirmation,
                "confirms_seq": event.confirms_seq,
                "proof": proof,
            }
        last = events[-1].seq


def _csv_member(zf, name: str, columns: list[str], rows: Iterator[dict], tick) -> int:
    count = 0
    with zf.open(name, "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        text.write("\ufeff")  # so that spreadsheets read UTF-8
        writer = csv.writer(text)
        writer.writerow(columns)
        for row in rows:
            cells = []
            for column in columns:
                value = row.get(column)
                if isinstance(value, dict):
                    value = json.dumps(value, ensure_ascii=False, sort_keys=True)
                cells.append(neutralise(value))
            writer.writerow(cells)
            count += 1
            tick(count)
        text.flush()
        text.detach()
    return count


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_member(zf, name: str, rows: Iterator[dict]) -> None:
    with zf.open(name, "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8")
        text.write("[\n")
        first = True
        for row in rows:
            if not first:
                text.write(",\n")
            text.write(json.dumps(row, default=_json_default, ensure_ascii=False))
            first = False
        text.write("\n]\n")
        text.flush()
        text.detach()


def write_export(
    target, password: str, *, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the encrypted export zip to ``target`` (a path or a binary file).

    Members: ``contacts.csv``, ``consents.csv``, ``contacts.json``,
    ``consents.json`` and a ``README.txt``. Returns counts.
    """
    check_password(password)
    tick = progress or (lambda n: None)
    with pyzipper.AESZipFile(
        target, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword(password.encode())
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        contacts = _csv_member(zf, "contacts.csv", [*CONTACT_COLUMNS, "fields"], _contacts(), tick)
        consents = _csv_member(zf, "consents.csv", CONSENT_COLUMNS, _consents(), tick)
        _json_member(zf, "contacts.json", _contacts())
        _json_member(zf, "consents.json", _consents())
        zf.writestr(
            "README.txt",
            f"Akkoord export of {timezone.now().isoformat()}\n"
            f"{contacts} contacts, {consents} consent events (erased people are left out).\n"
            "Cells starting with = + - @ tab or CR were prefixed with ' so that spreadsheets\n"
            "do not run them as formulas.\n",
        )
    return {"contacts": contacts, "consent_events": consents}
