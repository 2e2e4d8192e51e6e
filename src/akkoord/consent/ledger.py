"""Writing, verifying and replaying the consent ledger.

``record_event`` is the only way a consent event is written: it extends the
hash chain, stores the proof, and updates the derived state (``ConsentState``
and ``Contact.objected_at``) and the contact's timeline in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from akkoord.consent import chain
from akkoord.consent.guards import missing_guards
from akkoord.consent.models import (
    ConsentEvent,
    ConsentProof,
    ConsentState,
    Erasure,
    LedgerHead,
    Purpose,
)
from akkoord.consent.rules import ConsentStatus, EventKind, PurposeConsent, apply_event
from akkoord.contacts.models import Activity, ActivityKind, Contact


class LedgerError(ValueError):
    """An event that the ledger refuses (the message says why)."""


def _locked_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1)
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def record_event(
    contact: Contact,
    purpose: Purpose | None,
    kind: EventKind,
    *,
    channel: str,
    channel_ref: str = "",
    proof: dict | None = None,
    occurred_at: datetime | None = None,
    needs_confirmation: bool | None = None,
    confirms_seq: int | None = None,
    privacy_statement_version: str = "",
    actor: str = "",
) -> ConsentEvent:
    """Append one event for ``contact`` and bring the derived state up to date.

    ``proof`` holds what shows the event happened (IP, user agent, exact text
    shown, form version, staff user, file name, ...). It is stored apart from
    the event so that erasure can remove it without breaking the chain.
    """
    kind = EventKind(kind)
    if kind == EventKind.OBJECTED:
        if purpose is not None:
            raise LedgerError("An objection to direct marketing applies to all purposes.")
    elif purpose is None:
        raise LedgerError("This consent event needs a purpose.")
    if kind == EventKind.GRANTED and needs_confirmation is None:
        needs_confirmation = purpose.double_opt_in
    occurred_at = occurred_at or timezone.now()
    if timezone.is_naive(occurred_at):
        raise LedgerError("Event times must carry a time zone.")
    proof_data = {**(proof or {}), "nonce": secrets.token_hex(16)}

    with transaction.atomic():
        head = _locked_head()
        event = ConsentEvent(
            seq=head.seq + 1,
            subject_key=contact.ledger_key,
            purpose=purpose,
            kind=kind.value,
            needs_confirmation=bool(needs_confirmation) and kind == EventKind.GRANTED,
            occurred_at=occurred_at,
            channel=channel,
            channel_ref=channel_ref[:200],
            privacy_statement_version=privacy_statement_version[:50],
            confirms_seq=confirms_seq,
            proof_digest=chain.proof_digest(proof_data),
            prev_hash=head.last_hash,
        )
        event.hash = chain.event_hash(head.last_hash, chain.hashed_fields(event))
        event.save()
        ConsentProof.objects.create(event=event, subject_key=contact.ledger_key, data=proof_data)
        head.seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["seq", "last_hash"])
        _apply_to_derived_state(contact, event)
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.CONSENT,
            occurred_at=occurred_at,
            actor=actor[:200],
            summary=f"{kind.value}: {purpose.key if purpose else 'all direct marketing'}",
            data={
                "seq": event.seq,
                "event": kind.value,
                "purpose": purpose.key if purpose else None,
                "channel": channel,
            },
        )
    return event


def _state_from_row(row: ConsentState | None) -> PurposeConsent:
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


def _apply_to_derived_state(contact: Contact, event: ConsentEvent) -> None:
    if event.kind == EventKind.OBJECTED:
        contact.objected_at = event.occurred_at
        Contact.objects.filter(pk=contact.pk).update(objected_at=event.occurred_at)
        return
    row = ConsentState.objects.filter(contact=contact, purpose=event.purpose).first()
    new = apply_event(
        _state_from_row(row),
        EventKind(event.kind),
        seq=event.seq,
        at=event.occurred_at,
        needs_confirmation=event.needs_confirmation,
        confirms_seq=event.confirms_seq,
    )
    values = _row_values(new)
    if row is None:
        ConsentState.objects.create(contact=contact, purpose=event.purpose, **values)
    else:
        ConsentState.objects.filter(pk=row.pk).update(**values)


def _row_values(state: PurposeConsent) -> dict:
    return {
        "status": state.status.value,
        "grant_seq": state.grant_seq,
        "granted_at": state.granted_at,
        "confirmed_at": state.confirmed_at,
        "changed_at": state.changed_at,
        "last_seq": state.last_seq,
    }


def current_consent(contact: Contact, purpose: Purpose) -> PurposeConsent:
    return _state_from_row(ConsentState.objects.filter(contact=contact, purpose=purpose).first())


# --- verification -----------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    events_checked: int = 0
    proofs_erased: int = 0
    broken_seq: int | None = None
    problem: str = ""


def _events_in_order(batch_size: int = 5000) -> Iterator[list[ConsentEvent]]:
    last = 0
    while True:
        batch = list(ConsentEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1].seq


def verify_ledger(progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk the chain from the start; name the first event that does not hold.

    ``progress``, if given, is called with the number of events checked so far
    after each batch (the command line shows it: a million events take minutes).

    Checks: sequence without gaps, each event's link to the one before, each
    event's own hash, each proof against its digest (a missing proof is only
    allowed for an erased person), the chain head, and that the append-only
    guards are in place.
    """
    result = VerifyResult(ok=True)
    expected_prev = chain.GENESIS_HASH
    expected_seq = 1
    erased = set(Erasure.objects.values_list("subject_key", flat=True))
    for batch in _events_in_order():
        proofs = {
            p.event_id: p for p in ConsentProof.objects.filter(event_id__in=[e.pk for e in batch])
        }
        for event in batch:
            problem = _event_problem(
                event, expected_seq, expected_prev, proofs.get(event.pk), erased
            )
            if problem == "erased":
                result.proofs_erased += 1
            elif problem:
                # A gap names the missing event; anything else the event itself.
                broken = expected_seq if event.seq != expected_seq else event.seq
                return VerifyResult(
                    False, result.events_checked, result.proofs_erased, broken, problem
                )
            result.events_checked += 1
            expected_prev = event.hash
            expected_seq = event.seq + 1
        if progress is not None:
            progress(result.events_checked)
    head = LedgerHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, chain.GENESIS_HASH)
    if head_seq != expected_seq - 1 or head_hash != expected_prev:
        return VerifyResult(
            False,
            result.events_checked,
            result.proofs_erased,
            expected_seq,
            f"the ledger ends at event {expected_seq - 1} but its head records event {head_seq}: "
            "events were removed from the end",
        )
    missing = missing_guards(connection)
    if missing:
        result.ok = False
        result.problem = "append-only guards are missing: " + ", ".join(sorted(missing))
    return result


def _event_problem(event, expected_seq, expected_prev, proof, erased) -> str:
    if event.seq != expected_seq:
        return f"event {expected_seq} is missing (the next event is {event.seq})"
    if event.prev_hash != expected_prev:
        return "its link to the previous event does not match"
    if event.hash != chain.event_hash(event.prev_hash, chain.hashed_fields(event)):
        return "its contents do not match its hash (the row was changed)"
    if proof is None:
        if event.subject_key in erased:
            return "erased"
        return "its proof is missing, and the person was not erased"
    if chain.proof_digest(proof.data) != event.proof_digest:
        return "its proof does not match the digest in the ledger (the proof was changed)"
    return ""


# --- replay -----------------------------------------------------------------


@dataclass
class Drift:
    contact_id: int
    purpose_key: str
    expected: str
    actual: str


@dataclass
class RebuildResult:
    contacts: int = 0
    states: int = 0
    drift: list[Drift] = field(default_factory=list)


def replay(events) -> tuple[dict[tuple, PurposeConsent], dict]:
    """Replay events (in seq order) into per-(subject, purpose) states and objections."""
    states: dict[tuple, PurposeConsent] = {}
    objections: dict = {}
    for event in events:
        if event.kind == EventKind.OBJECTED:
            objections[event.subject_key] = event.occurred_at
            continue
        key = (event.subject_key, event.purpose_id)
        states[key] = apply_event(
            states.get(key, PurposeConsent()),
            EventKind(event.kind),
            seq=event.seq,
            at=event.occurred_at,
            needs_confirmation=event.needs_confirmation,
            confirms_seq=event.confirms_seq,
        )
    return states, objections


def rebuild_state(*, fix: bool = True) -> RebuildResult:
    """Recompute the derived consent state from the ledger; report (and fix) drift."""
    result = RebuildResult()
    purposes = dict(Purpose.objects.values_list("pk", "key"))
    with transaction.atomic():
        events = ConsentEvent.objects.order_by("seq").only(
            "seq",
            "subject_key",
            "purpose_id",
            "kind",
            "occurred_at",
            "needs_confirmation",
            "confirms_seq",
        )
        states, objections = replay(events.iterator(chunk_size=5000))
        contacts = Contact.objects.only("pk", "ledger_key", "objected_at").iterator(chunk_size=5000)
        by_key = {}
        for contact in contacts:
            by_key[contact.ledger_key] = contact
            result.contacts += 1
            expected_objection = objections.get(contact.ledger_key)
            if expected_objection != contact.objected_at:
                result.drift.append(
                    Drift(
                        contact.pk, "*objection*", str(expected_objection), str(contact.objected_at)
                    )
                )
                if fix:
                    Contact.objects.filter(pk=contact.pk).update(objected_at=expected_objection)
        actual = {
            (row.contact_id, row.purpose_id): row
            for row in ConsentState.objects.all().iterator(chunk_size=5000)
        }
        expected_rows = {}
        for (subject_key, purpose_id), state in states.items():
            contact = by_key.get(subject_key)
            if contact is not None:  # erased people have no derived state
                expected_rows[(contact.pk, purpose_id)] = state
        result.states = len(expected_rows)
        for key in expected_rows.keys() | actual.keys():
            expected = expected_rows.get(key)
            row = actual.get(key)
            if expected is not None and row is not None and _state_from_row(row) == expected:
                continue
            result.drift.append(
                Drift(
                    key[0],
                    purposes.get(key[1], str(key[1])),
                    expected.status.value if expected else "(none)",
                    row.status if row else "(none)",
                )
            )
            if not fix:
                continue
            if expected is None:
                ConsentState.objects.filter(pk=row.pk).delete()
            elif row is None:
                ConsentState.objects.create(
                    contact_id=key[0], purpose_id=key[1], **_row_values(expected)
                )
            else:
                ConsentState.objects.filter(pk=row.pk).update(**_row_values(expected))
    return result
