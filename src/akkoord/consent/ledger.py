"""Writing, verifying and replaying the consent ledger.

``record_event`` is the only way a consent event is written (imports use its
batch twin, ``transfer.ledger_batch``): it extends the hash chain, stores the
proof, and updates the derived state (``ConsentState`` and the objection and
complaint facts on ``Contact``) and the contact's timeline in one transaction.

Derived state is the fold of the events in the order they happened
(``rules.fold_purpose`` and ``rules.fold_standing``), so an event reported late
is recorded but cannot overrule what happened after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from akkoord.consent import chain
from akkoord.consent.guards import missing_guards
from akkoord.consent.models import (
    ConsentEvent,
    ConsentProof,
    ConsentState,
    Erasure,
    LedgerHead,
    ProofErasure,
    Purpose,
)
from akkoord.consent.rules import (
    PERSON_EVENTS,
    ConsentStatus,
    EventKind,
    LedgerEntry,
    PurposeConsent,
    Standing,
    fold_purpose,
    fold_standing,
    is_late,
)
from akkoord.contacts.models import Activity, ActivityKind, Contact

# Fields a fold needs from a ledger event.
FOLD_FIELDS = (
    "seq",
    "subject_key",
    "purpose_id",
    "kind",
    "occurred_at",
    "needs_confirmation",
    "confirms_seq",
)


class LedgerError(ValueError):
    """An event that the ledger refuses (the message says why)."""


# Only the person can end their own objection, in the customer centre.
OBJECTION_LIFTING_CHANNELS = frozenset({"centre"})


def entry_of(event) -> LedgerEntry:
    """A ``ConsentEvent`` (or any object with its fields) as the folds see it."""
    return LedgerEntry(
        event.seq,
        EventKind(event.kind),
        event.occurred_at,
        bool(event.needs_confirmation),
        event.confirms_seq,
    )


def check_occurred_at(occurred_at: datetime, now: datetime | None = None) -> None:
    """Refuse naive times and times in the future (with a message that says so)."""
    if timezone.is_naive(occurred_at):
        raise LedgerError("Event times must carry a time zone.")
    if occurred_at > (now or timezone.now()):
        raise LedgerError(
            "A consent event cannot be dated in the future: give the time it happened."
        )


def check_kind(kind: EventKind, purpose, channel: str) -> None:
    """Refuse an event whose kind does not fit its purpose or channel."""
    if kind in PERSON_EVENTS:
        if purpose is not None:
            raise LedgerError(
                "Objections and complaints apply to all direct marketing, not to one purpose."
            )
    elif purpose is None:
        raise LedgerError("This consent event needs a purpose.")
    if kind == EventKind.OBJECTION_LIFTED and channel not in OBJECTION_LIFTING_CHANNELS:
        raise LedgerError(
            "Only the person can lift their objection to direct marketing, in the customer centre."
        )


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

    An event dated before one already recorded for its purpose (or before an
    objection or complaint of the person) is recorded, and counts in the order
    it happened; the returned event's ``late`` attribute says so.
    """
    kind = EventKind(kind)
    check_kind(kind, purpose, channel)
    if kind == EventKind.GRANTED and needs_confirmation is None:
        needs_confirmation = purpose.double_opt_in
    occurred_at = occurred_at or timezone.now()
    check_occurred_at(occurred_at)
    if kind == EventKind.EXPIRED:
        _check_expired_grant(contact, purpose, confirms_seq)
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
        event.late = refresh_derived_state(contact, event)
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


def _check_expired_grant(contact: Contact, purpose: Purpose, grant_seq: int | None) -> None:
    grant = ConsentEvent.objects.filter(
        seq=grant_seq or 0, subject_key=contact.ledger_key, purpose=purpose, kind=EventKind.GRANTED
    ).first()
    if grant is None or not grant.needs_confirmation:
        raise LedgerError(
            "An expiry must name an unconfirmed grant of the same person and purpose."
        )


def state_from_row(row: ConsentState | None) -> PurposeConsent:
    if row is None:
        return PurposeConsent()
    return PurposeConsent(
        ConsentStatus(row.status),
        row.grant_seq,
        row.granted_at,
        row.confirmed_at,
        row.changed_at,
        row.last_seq,
        row.last_at,
    )


def refresh_derived_state(contact: Contact, event: ConsentEvent) -> bool:
    """Re-fold what ``event`` touches from the person's events; return whether it was late.

    One person's events are few, so the fold is recomputed rather than applied
    incrementally: that way a late event lands in its place in time.
    """
    kind = EventKind(event.kind)
    events = ConsentEvent.objects.filter(subject_key=contact.ledger_key).only(*FOLD_FIELDS)
    if kind in PERSON_EVENTS:
        relevant = events
    else:
        relevant = events.filter(Q(purpose=event.purpose_id) | Q(kind__in=PERSON_EVENTS))
    entries = [(e.purpose_id, entry_of(e)) for e in relevant]
    new = entry_of(event)
    late = is_late(new, [entry for _purpose, entry in entries if entry.seq != event.seq])
    if kind in PERSON_EVENTS:
        _save_standing(contact, fold_standing(entry for _p, entry in entries))
    if kind == EventKind.COMPLAINED or kind not in PERSON_EVENTS:
        purposes = {p for p, _entry in entries if p is not None}
        if kind not in PERSON_EVENTS:
            purposes = {event.purpose_id}
        for purpose_id in purposes:
            state = fold_purpose(entry for p, entry in entries if p == purpose_id or p is None)
            _save_state(contact, purpose_id, state)
    return late


def _save_standing(contact: Contact, standing: Standing) -> None:
    values = standing_values(standing)
    for name, value in values.items():
        setattr(contact, name, value)
    Contact.objects.filter(pk=contact.pk).update(**values)


def standing_values(standing: Standing) -> dict:
    return {
        "objected_at": standing.objected_at,
        "has_objected": standing.has_objected,
        "complained_at": standing.complained_at,
    }


def standing_of(contact: Contact) -> Standing:
    return Standing(contact.objected_at, contact.has_objected, contact.complained_at)


def _save_state(contact: Contact, purpose_id: int, state: PurposeConsent) -> None:
    if state.status == ConsentStatus.NONE:  # e.g. its only grant expired: no row, as rebuilt
        ConsentState.objects.filter(contact=contact, purpose_id=purpose_id).delete()
        return
    updated = ConsentState.objects.filter(contact=contact, purpose_id=purpose_id).update(
        **row_values(state)
    )
    if not updated:
        ConsentState.objects.create(contact=contact, purpose_id=purpose_id, **row_values(state))


def row_values(state: PurposeConsent) -> dict:
    return {
        "status": state.status.value,
        "grant_seq": state.grant_seq,
        "granted_at": state.granted_at,
        "confirmed_at": state.confirmed_at,
        "changed_at": state.changed_at,
        "last_seq": state.last_seq,
        "last_at": state.last_at,
    }


def erase_event_proof(event: ConsentEvent, reason: str) -> None:
    """Delete the personal proof of one event; ``ledger verify`` keeps passing.

    For a proof that must go while the person stays (an expired, unconfirmed
    grant may have been typed by someone else).
    """
    with transaction.atomic():
        ConsentProof.objects.filter(event=event).delete()
        ProofErasure.objects.get_or_create(event_seq=event.seq, defaults={"reason": reason[:30]})


def record_complaint(contact: Contact, *, report: dict, occurred_at: datetime) -> ConsentEvent:
    """Record a spam complaint: it withdraws every purpose at its time.

    ``report`` (the feedback-loop or sending-service report) is kept as proof.
    """
    return record_event(
        contact,
        None,
        EventKind.COMPLAINED,
        channel="system",
        channel_ref="complaint",
        proof={"report": report},
        occurred_at=occurred_at,
    )


def current_consent(contact: Contact, purpose: Purpose) -> PurposeConsent:
    return state_from_row(ConsentState.objects.filter(contact=contact, purpose=purpose).first())


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
    allowed for an erased person or an event whose proof was erased on its own), the chain head, and that the append-only
    guards are in place.
    """
    result = VerifyResult(ok=True)
    expected_prev = chain.GENESIS_HASH
    expected_seq = 1
    erased = set(Erasure.objects.values_list("subject_key", flat=True))
    erased |= set(ProofErasure.objects.values_list("event_seq", flat=True))
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
        if event.subject_key in erased or event.seq in erased:
            return "erased"
        return "its proof is missing, and neither the person nor this proof was erased"
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
    """Fold events (any order) into per-(subject, purpose) states and per-subject standings.

    A purpose's state includes the person's complaints; a subject with only
    person-wide events has no purpose states.
    """
    by_subject: dict = {}
    for event in events:
        by_subject.setdefault(event.subject_key, []).append((event.purpose_id, entry_of(event)))
    states: dict[tuple, PurposeConsent] = {}
    standings: dict = {}
    for subject_key, entries in by_subject.items():
        states.update(_fold_subject(subject_key, entries))
        person = [entry for purpose_id, entry in entries if purpose_id is None]
        if person:
            standings[subject_key] = fold_standing(person)
    return states, standings


def _fold_subject(subject_key, entries) -> dict[tuple, PurposeConsent]:
    person = [entry for purpose_id, entry in entries if purpose_id is None]
    by_purpose: dict = {}
    for purpose_id, entry in entries:
        if purpose_id is not None:
            by_purpose.setdefault(purpose_id, []).append(entry)
    folded = {
        (subject_key, purpose_id): fold_purpose([*own, *person])
        for purpose_id, own in by_purpose.items()
    }
    # "No consent at all" has no derived row.
    return {key: state for key, state in folded.items() if state.status != ConsentStatus.NONE}


def rebuild_state(*, fix: bool = True) -> RebuildResult:
    """Recompute the derived consent state from the ledger; report (and fix) drift."""
    result = RebuildResult()
    purposes = dict(Purpose.objects.values_list("pk", "key"))
    with transaction.atomic():
        events = ConsentEvent.objects.order_by("seq").only(*FOLD_FIELDS)
        states, standings = replay(events.iterator(chunk_size=5000))
        contacts = Contact.objects.only(
            "pk", "ledger_key", "objected_at", "has_objected", "complained_at"
        ).iterator(chunk_size=5000)
        by_key = {}
        for contact in contacts:
            by_key[contact.ledger_key] = contact
            result.contacts += 1
            expected = standings.get(contact.ledger_key, Standing())
            actual = standing_of(contact)
            if expected != actual:
                result.drift.append(Drift(contact.pk, "*person*", str(expected), str(actual)))
                if fix:
                    Contact.objects.filter(pk=contact.pk).update(**standing_values(expected))
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
            if expected is not None and row is not None and state_from_row(row) == expected:
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
                    contact_id=key[0], purpose_id=key[1], **row_values(expected)
                )
            else:
                ConsentState.objects.filter(pk=row.pk).update(**row_values(expected))
    return result
