"""Appending many consent events at once, for imports.

``append_events`` is the batch twin of ``consent.ledger.record_event``: it
takes the ledger head lock once for the whole batch and then, event by event,
computes the chain exactly as ``record_event`` does (``consent.chain``), stores
the proofs apart from the events, and brings the derived state up to date with
``consent.rules.apply_event`` -- all in one transaction, with bulk inserts.
``tests/test_ledger_batch.py`` proves that ``verify_ledger()`` passes and
``rebuild_state(fix=False)`` finds no drift afterwards.

Objections (which change ``Contact.objected_at``) are not supported here: no
import creates them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from akkoord.consent import chain
from akkoord.consent.ledger import LedgerError
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState, LedgerHead, Purpose
from akkoord.consent.rules import ConsentStatus, EventKind, PurposeConsent, apply_event
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


def _check(pending: PendingEvent) -> None:
    if pending.kind == EventKind.OBJECTED:
        raise LedgerError("Objections cannot be appended in a batch; use record_event.")
    if pending.purpose is None:
        raise LedgerError("This consent event needs a purpose.")
    if timezone.is_naive(pending.occurred_at):
        raise LedgerError("Event times must carry a time zone.")
    if pending.confirms is not None and pending.confirms.seq is None:
        raise LedgerError("A confirmation must come after the grant it confirms.")


def _state(row: ConsentState | None) -> PurposeConsent:
    if row is None:
        return PurposeConsent()
    return PurposeConsent(
        ConsentStatus(row.status),
        row.grant_seq,
        row.granted_at,
        row.confirmed_at,
        row.changed_at,
        row.last_seq,
    )


def append_events(pending: list[PendingEvent]) -> list[ConsentEvent]:
    """Append ``pending`` in order (one lock, bulk writes); returns the saved events."""
    if not pending:
        return []
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
            _check(item)
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
    states: dict[tuple, PurposeConsent] = {}
    for item, event in zip(pending, events, strict=True):
        key = (item.contact.pk, item.purpose.pk)
        current = states.get(key) or _state(rows.get(key))
        states[key] = apply_event(
            current,
            item.kind,
            seq=event.seq,
            at=event.occurred_at,
            needs_confirmation=event.needs_confirmation,
            confirms_seq=event.confirms_seq,
        )
    new_rows, changed = [], []
    for (contact_id, purpose_id), state in states.items():
        values = {
            "status": state.status.value,
            "grant_seq": state.grant_seq,
            "granted_at": state.granted_at,
            "confirmed_at": state.confirmed_at,
            "changed_at": state.changed_at,
            "last_seq": state.last_seq,
        }
        row = rows.get((contact_id, purpose_id))
        if row is None:
            new_rows.append(ConsentState(contact_id=contact_id, purpose_id=purpose_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    insert_rows(ConsentState, new_rows)
    if changed:
        ConsentState.objects.bulk_update(
            changed, ["status", "grant_seq", "granted_at", "confirmed_at", "changed_at", "last_seq"]
        )
