"""Everything held about one person, as one plain structure (GDPR art. 15 and 20).

``person_data`` feeds both the "see" page and the JSON download, so the person
sees exactly what they can take away. The structure is documented by the JSON
Schema in ``schema/export.schema.json`` (served at ``/centre/schema.json``);
``export_csv`` writes the same data as rows of section, record, field and value.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from akkoord.consent import words
from akkoord.consent.explain import BASIS_TEXTS, MAIL_CLASS_TEXTS
from akkoord.consent.models import Channel, ConsentEvent, ConsentProof, ConsentState, Purpose
from akkoord.consent.rules import ConsentStatus
from akkoord.contacts.models import ActivityKind, Contact, ContactFieldValue, DataCategory
from akkoord.lib.text import spreadsheet_safe
from akkoord.organisation.models import Organisation

SCHEMA_VERSION = 1

STATUS_LABELS = {
    ConsentStatus.NONE: _("Not subscribed"),
    ConsentStatus.PENDING: _("Waiting for your confirmation"),
    ConsentStatus.GRANTED: _("Subscribed"),
    ConsentStatus.UNPROVEN: _("Recorded earlier, without proof"),
    ConsentStatus.WITHDRAWN: _("Unsubscribed"),
}


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text(value) -> str:
    return "" if value is None else str(value)


def _proof_items(data: dict | None) -> dict[str, str]:
    if not data:
        return {}
    return {str(k): _text(v) for k, v in data.items() if k != "nonce"}


def consent_history(contact: Contact) -> tuple[list[dict], list[dict]]:
    """Per purpose: current state and every ledger event with its proof; and objections.

    Events are listed in the order they happened (ties by ledger order): that is
    also the order in which they count.
    """
    events = list(
        ConsentEvent.objects.filter(subject_key=contact.ledger_key)
        .select_related("purpose")
        .order_by("occurred_at", "seq")
    )
    proofs = {
        p.event_id: p.data for p in ConsentProof.objects.filter(subject_key=contact.ledger_key)
    }
    states = {s.purpose_id: s for s in ConsentState.objects.filter(contact=contact)}
    purposes = {p.pk: p for p in Purpose.objects.filter(is_active=True, is_marketing=True)}
    for event in events:
        if event.purpose_id is not None:
            purposes.setdefault(event.purpose_id, event.purpose)
    by_purpose: dict[int, list[dict]] = {pk: [] for pk in purposes}
    objections = []
    for event in events:
        entry = {
            "seq": event.seq,
            "kind": event.kind,
            "occurred_at": _iso(event.occurred_at),
            "channel": event.channel,
            "channel_label": _label(Channel, event.channel),
            "needs_confirmation": event.needs_confirmation,
            "privacy_statement_version": event.privacy_statement_version,
            "proof": _proof_items(proofs.get(event.pk)),
        }
        if event.purpose_id is None:
            objections.append(entry)
        else:
            by_purpose[event.purpose_id].append(entry)
    language = translation.get_language() or "nl"
    consents = []
    for pk, purpose in sorted(purposes.items(), key=lambda kv: (kv[1].position, kv[1].key)):
        state = states.get(pk)
        status = state.status if state else ConsentStatus.NONE.value
        consents.append(
            {
                "purpose": {
                    "key": purpose.key,
                    "name": purpose.name(language[:2]),
                    "consent_text": purpose.consent_text(language[:2]),
                    "is_marketing": purpose.is_marketing,
                    "is_active": purpose.is_active,
                },
                "status": status,
                "granted_at": _iso(state.granted_at) if state else None,
                "confirmed_at": _iso(state.confirmed_at) if state else None,
                "changed_at": _iso(state.changed_at) if state else None,
                "history": by_purpose[pk],
            }
        )
    return consents, objections


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _mails(contact: Contact) -> list[dict]:
    mails = []
    for activity in contact.activities.filter(kind=ActivityKind.MAIL).order_by("occurred_at", "id"):
        data = activity.data or {}
        mail_class = _text(data.get("class"))
        basis = _text(data.get("basis"))
        mails.append(
            {
                "sent_at": _iso(activity.occurred_at),
                "subject": _text(data.get("subject") or activity.summary),
                "class": mail_class,
                "class_label": _text(_lookup(MAIL_CLASS_TEXTS, mail_class)),
                "basis": basis,
                "basis_label": _text(_lookup(BASIS_TEXTS, basis)),
                "purpose": _text(data.get("purpose")),
                "language": _text(data.get("language")),
                "text": _text(data.get("text")),
            }
        )
    return mails


def _lookup(texts: dict, value: str):
    for key, text in texts.items():
        if key == value:
            return text
    return value


def _activities(contact: Contact) -> list[dict]:
    items = []
    for activity in contact.activities.exclude(kind=ActivityKind.MAIL).order_by(
        "occurred_at", "id"
    ):
        data = activity.data or {}
        changes = data.get("changes") if activity.kind == ActivityKind.CHANGED else None
        items.append(
            {
                "occurred_at": _iso(activity.occurred_at),
                "kind": activity.kind,
                "kind_label": _label(ActivityKind, activity.kind),
                "summary": activity.summary,
                "description": words.describe(activity),
                "changes": [
                    {"field": key, "old": _text(old), "new": _text(new)}
                    for key, (old, new) in (changes or {}).items()
                ],
            }
        )
    return items


def person_data(contact: Contact) -> dict:
    """All data about ``contact``, in the structure of the published export schema."""
    contact = Contact.objects.get(pk=contact.pk)
    language = (translation.get_language() or "nl")[:2]
    organisation = Organisation.current()
    consents, objections = consent_history(contact)
    values = ContactFieldValue.objects.filter(contact=contact).select_related("field")
    return {
        "$schema": settings.AKKOORD_BASE_URL + reverse("centre:schema"),
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(timezone.now()),
        "controller": {
            "name": organisation.name,
            "contact_email": organisation.contact_email,
        },
        "person": {
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "organisation_name": contact.organisation_name,
            "language": contact.language,
            "registered_at": _iso(contact.created_at),
            "informed_at": _iso(contact.informed_at),
        },
        "fields": [
            {
                "key": value.field.key,
                "label": value.field.label(language),
                "category": value.field.category,
                "category_label": _label(DataCategory, value.field.category),
                "value": value.value,
            }
            for value in values.order_by("field__position", "field__key")
        ],
        "source": {
            "kind": contact.source_kind,
            "label": _label(_source_kinds(), contact.source_kind),
            "detail": contact.source_detail,
            "collected_from_person": contact.collected_from_person,
        },
        "customer": {
            "customer_since": _iso(contact.customer_since),
            "last_purchase_on": _iso(contact.last_purchase_on),
            "objection_offered_at_sale": contact.objection_offered_at_sale,
            "purchases": [
                {
                    "purchased_on": _iso(p.purchased_on),
                    "description": p.description,
                    "category": p.category.key,
                    "amount": None if p.amount is None else str(p.amount),
                    "reference": p.reference,
                    "objection_offered": p.objection_offered,
                }
                for p in contact.purchases.select_related("category").order_by("purchased_on", "id")
            ],
        },
        "objected_at": _iso(contact.objected_at),
        "objections": objections,
        "consents": consents,
        "mails": _mails(contact),
        "activities": _activities(contact),
        "deliverability": {
            "hard_bounced_at": _iso(contact.hard_bounced_at),
            "complained_at": _iso(contact.complained_at),
        },
    }


def _source_kinds():
    from akkoord.contacts.models import SourceKind

    return SourceKind


def _cell(value) -> str:
    return spreadsheet_safe("" if value is None else str(value))


def csv_rows(data: dict) -> list[tuple[str, str, str, str]]:
    """The export as (section, record, field, value) rows: one value per row."""
    rows: list[tuple[str, str, str, str]] = []

    def flat(section: str, record: str, prefix: str, value):
        if isinstance(value, dict):
            for key, item in value.items():
                flat(section, record, f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list):
            for index, item in enumerate(value, start=1):
                flat(section, record, f"{prefix}.{index}" if prefix else str(index), item)
        else:
            rows.append((section, record, prefix, _scalar(value)))

    for section, value in data.items():
        if isinstance(value, list):
            for index, item in enumerate(value, start=1):
                flat(section, str(index), "", item)
        elif isinstance(value, dict):
            flat(section, "", "", value)
        else:
            rows.append(("export", "", section, _scalar(value)))
    return rows


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def export_csv(data: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "record", "field", "value"])
    for row in csv_rows(data):
        writer.writerow([_cell(cell) for cell in row])
    return buffer.getvalue()
