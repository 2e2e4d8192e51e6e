"""Appending many consent events at once, for imports.

``append_events`` is the batch twin of ``consent.ledger.record_event``: it
takes the ledger head lock once for the whole batch and then, event by event,
computes the chain exactly as ``record_event`` does (``consent.chain``), stores
the proofs apart from the events, and brings the derived state up to date with
the same time-ordered fold (``consent.rules.fold_purpose``) -- all in one
transaction, with bulk inserts. ``tests/test_ledger_batch.py`` proves that
``verify_ledger()`` passes and ``rebuild_state(fix=False)`` finds no drift
afterwards.

For speed, a purpose's fold continues from its derived row when every new
event happened after the row's last event (the usual case); otherwise (an old
file, or a person who complained) that purpose is folded again from the
person's events, so an old file never overrules what happened after it.

Person-wide events (objections, complaints) and expiries are not supported
here: no import creates them, and an import may not lift an objection.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from akkoord.consent import chain
from akkoord.consent.ledger import (
    FOLD_FIELDS,
    LedgerError,
    check_occurred_at,
    entry_of,
    row_values,
    state_from_row,
)
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState, LedgerHead, Purpose
from akkoord.consent.rules import (
    PERSON_EVENTS,
    ConsentStatus,
    EventKind,
    LedgerEntry,
    PurposeConsent,
    fold_purpose,
)
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.transfer.bulk import insert_rows


@dataclass
class PendingEvent:
    """One event to append; ``confirms`` names an earlier grant of the same batch."""

    contact: Contact
    purpose: Purpose
    kind: EventKind
    occurred_at: datetime
    proof: dict
    channel: str
    channel_ref: str = ""
    needs_confirmation: bool = False
    confirms: PendingEvent | None = None
    actor: str = ""
    seq: int | None = None


def _locked_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1)
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def _check(pending: PendingEvent, now: datetime) -> None:
    if pending.kind in PERSON_EVENTS or pending.kind == EventKind.EXPIRED:
        raise LedgerError(
            "Objections, their lifting, complaints and expiries cannot be appended in a batch."
        )
    if pending.purpose is None:
        raise LedgerError("This consent event needs a purpose.")
    check_occurred_at(pending.occurred_at, now)
    if pending.confirms is not None and pending.confirms.seq is None:
        raise LedgerError("A confirmation must come after the grant it confirms.")


def append_events(pending: list[PendingEvent]) -> list[ConsentEvent]:
    """Append ``pending`` in order (one lock, bulk writes); returns the saved events."""
    if not pending:
        return []
    now = timezone.now()
    with transaction.atomic():
        head = _locked_head()
        seq, prev_hash = head.seq, head.last_hash
        events, proofs = [], []
        for item in pending:
            item.kind = EventKind(item.kind)
            item.seq = None
            _check_order = item.confirms
            seq += 1
            item.seq = seq
            if _check_order is not None and (_check_order.seq is None or _check_order.seq >= seq):
                raise LedgerError("A confirmation must come after the grant it confirms.")
            _check(item, now)
            proof_data = {**item.proof, "nonce": secrets.token_hex(16)}
            event = ConsentEvent(
                seq=seq,
                subject_key=item.contact.ledger_key,
                purpose=item.purpose,
                kind=item.kind.value,
                needs_confirmation=bool(item.needs_confirmation) and item.kind == EventKind.GRANTED,
                occurred_at=item.occurred_at,
                channel=item.channel,
                channel_ref=item.channel_ref[:200],
                privacy_statement_version="",
                confirms_seq=item.confirms.seq if item.confirms is not None else None,
                proof_digest=chain.proof_digest(proof_data),
                prev_hash=prev_hash,
            )
            event.hash = chain.event_hash(prev_hash, chain.hashed_fields(event))
            prev_hash = event.hash
            events.append(event)
            proofs.append((event, proof_data))
        insert_rows(ConsentEvent, events)
        if any(e.pk is None for e in events):  # backends without RETURNING
            by_seq = dict(
                ConsentEvent.objects.filter(seq__in=[e.seq for e in events]).values_list(
                    "seq", "pk"
                )
            )
            for event in events:
                event.pk = by_seq[event.seq]
        insert_rows(
            ConsentProof,
            [
                ConsentProof(event_id=e.pk, subject_key=e.subject_key, data=data)
                for e, data in proofs
            ],
        )
        head.seq, head.last_hash = seq, prev_hash
        head.save(update_fields=["seq", "last_hash"])
        _update_derived_state(pending, events)
        insert_rows(
            Activity,
            [
                Activity(
                    contact=item.contact,
                    kind=ActivityKind.CONSENT,
                    occurred_at=item.occurred_at,
                    actor=item.actor[:200],
                    summary=f"{item.kind.value}: {item.purpose.key}",
                    data={
                        "seq": event.seq,
                        "event": item.kind.value,
                        "purpose": item.purpose.key,
                        "channel": item.channel,
                    },
                )
                for item, event in zip(pending, events, strict=True)
            ],
        )
    return events


def _update_derived_state(pending: list[PendingEvent], events: list[ConsentEvent]) -> None:
    contact_ids = {item.contact.pk for item in pending}
    purpose_ids = {item.purpose.pk for item in pending}
    rows = {
        (row.contact_id, row.purpose_id): row
        for row in ConsentState.objects.filter(
            contact_id__in=contact_ids, purpose_id__in=purpose_ids
        )
    }
    complained = set(
        Contact.objects.filter(pk__in=contact_ids, complained_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    new_entries: dict[tuple, list[LedgerEntry]] = {}
    for item, event in zip(pending, events, strict=True):
        new_entries.setdefault((item.contact.pk, item.purpose.pk), []).append(entry_of(event))
    subjects = {item.contact.pk: item.contact.ledger_key for item in pending}
    states: dict[tuple, PurposeConsent] = {}
    refold = []
    for key, entries in new_entries.items():
        row = rows.get(key)
        earliest = min(entry.at for entry in entries)
        if (
            key[0] in complained
            or (row is not None and row.last_at is None)
            or row is not None
            and earliest < row.last_at
        ):
            refold.append(key)
        else:
            states[key] = fold_purpose(entries, start=state_from_row(row))
    states.update(_refolded(refold, subjects))
    _write_states(states, rows)


def _refolded(keys: list[tuple], subjects: dict) -> dict[tuple, PurposeConsent]:
    """Fold the named (contact, purpose) pairs again from the whole ledger."""
    if not keys:
        return {}
    contact_of = {subjects[contact_id]: contact_id for contact_id, _purpose in keys}
    wanted = set(keys)
    entries: dict = {}
    events = ConsentEvent.objects.filter(subject_key__in=list(contact_of)).only(*FOLD_FIELDS)
    for event in events:
        entries.setdefault(contact_of[event.subject_key], []).append(
            (event.purpose_id, entry_of(event))
        )
    return {
        (contact_id, purpose_id): fold_purpose(
            entry for p, entry in entries.get(contact_id, []) if p in (purpose_id, None)
        )
        for contact_id, purpose_id in wanted
    }


def _write_states(states: dict[tuple, PurposeConsent], rows: dict) -> None:
    new_rows, changed, gone = [], [], []
    for (contact_id, purpose_id), state in states.items():
        values = row_values(state)
        row = rows.get((contact_id, purpose_id))
        if state.status == ConsentStatus.NONE:  # "no consent at all" has no derived row
            if row is not None:
                gone.append(row.pk)
        elif row is None:
            new_rows.append(ConsentState(contact_id=contact_id, purpose_id=purpose_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    insert_rows(ConsentState, new_rows)
    ConsentState.objects.filter(pk__in=gone).delete()
    if changed:
        ConsentState.objects.bulk_update(changed, list(row_values(PurposeConsent())))
