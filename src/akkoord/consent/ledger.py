"""Writing, verifying and replaying the consent ledger.

``append`` is the only way consent events are written: one event
(``record_event``, ``record_complaint``) or thousands (an import) alike. It
checks the events, extends the hash chain, stores the proofs, and updates the
derived state (``ConsentState`` and the objection and complaint facts on
``Contact``) and the contacts' timelines in one transaction.

Derived state is the fold of the events in the order they happened
(``rules.fold_purpose`` and ``rules.fold_standing``), so an event reported late
is recorded but cannot overrule what happened after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
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
from akkoord.lib.bulk import insert_rows, unsaved

# The fields of a ledger event that make its ``LedgerEntry``, in that order.
LEDGER_ENTRY_FIELDS = ("seq", "kind", "occurred_at", "needs_confirmation", "confirms_seq")
# Fields a fold needs from a ledger event.
FOLD_FIELDS = ("subject_key", "purpose_id", *LEDGER_ENTRY_FIELDS)


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


@dataclass(eq=False)  # compared by identity: a confirmation names its grant object
class NewEvent:
    """One event for ``append``.

    ``occurred_at`` defaults to now; ``needs_confirmation`` of a grant defaults
    to the purpose's double opt-in. ``confirms`` names the grant a confirmation
    confirms or an expiry expires: an earlier ``NewEvent`` of the same batch,
    or the ``seq`` of a recorded event.
    """

    contact: Contact
    purpose: Purpose | None
    kind: EventKind
    channel: str
    channel_ref: str = ""
    proof: dict | None = None
    occurred_at: datetime | None = None
    needs_confirmation: bool | None = None
    confirms: NewEvent | int | None = None
    privacy_statement_version: str = ""
    actor: str = ""


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
    event = NewEvent(
        contact,
        purpose,
        kind,
        channel=channel,
        channel_ref=channel_ref,
        proof=proof,
        occurred_at=occurred_at,
        needs_confirmation=needs_confirmation,
        confirms=confirms_seq,
        privacy_statement_version=privacy_statement_version,
        actor=actor,
    )
    return append([event])[0]


def append(events: Sequence[NewEvent]) -> list[ConsentEvent]:
    """Append ``events`` in their order and bring the derived state up to date.

    Everything happens in one transaction under one lock of the ledger head:
    the events (each linked to the one before by its hash), their proofs, the
    derived ``ConsentState`` rows and objection and complaint facts of every
    person and purpose the events touch, and one timeline entry per event. Rows
    are inserted in bulk, so an import of thousands of events costs a handful
    of queries; one event is simply a batch of one.

    A refused event (see ``LedgerError``) refuses the whole batch: nothing is
    written. Each returned event's ``late`` attribute says whether it happened
    before an event already recorded for its purpose or person (earlier events
    of the same batch count as recorded).
    """
    if not events:
        return []
    now = timezone.now()
    checked = [_checked(new, now) for new in events]
    position = {new: index for index, new in enumerate(events)}
    with transaction.atomic():
        head = _locked_head()
        # Read under the lock: nothing can be appended for these people meanwhile.
        history = _history({new.contact.ledger_key for new in events})
        known = {
            entry.seq: (subject_key, purpose_id, entry)
            for subject_key, entries in history.items()
            for purpose_id, entry in entries
        }
        seq, prev_hash = head.seq, head.last_hash
        written: list[ConsentEvent] = []
        proofs: list[dict] = []
        proof_texts: list[str] = []
        # Each proof's random nonce (16 bytes from the OS's CSPRNG, as
        # token_hex(16) gives), drawn for the whole batch in one call.
        nonces = secrets.token_bytes(16 * len(events)).hex()
        for index, (new, (kind, occurred_at, needs_confirmation)) in enumerate(
            zip(events, checked, strict=True)
        ):
            seq += 1
            confirms_seq = _confirms_seq(new, index, position, written, seq)
            if kind == EventKind.EXPIRED:
                _check_expired_grant(new, confirms_seq, known)
            proof_data = {**(new.proof or {}), "nonce": nonces[32 * index : 32 * index + 32]}
            proof_text, proof_digest = chain.canonical_proof(proof_data)
            event = unsaved(
                ConsentEvent,
                {"purpose": new.purpose},
                seq=seq,
                subject_key=new.contact.ledger_key,
                purpose_id=new.purpose.pk if new.purpose else None,
                kind=kind.value,
                needs_confirmation=needs_confirmation,
                occurred_at=occurred_at,
                channel=new.channel,
                channel_ref=new.channel_ref[:200],
                privacy_statement_version=new.privacy_statement_version[:50],
                confirms_seq=confirms_seq,
                proof_digest=proof_digest,
                prev_hash=prev_hash,
            )
            event.hash = chain.event_hash(prev_hash, chain.hashed_fields(event))
            prev_hash = event.hash
            known[seq] = (event.subject_key, event.purpose_id, entry_of(event))
            written.append(event)
            proofs.append(proof_data)
            proof_texts.append(proof_text)
        insert_rows(ConsentEvent, written)
        if any(event.pk is None for event in written):  # backends without RETURNING
            pks = dict(
                ConsentEvent.objects.filter(seq__in=[e.seq for e in written]).values_list(
                    "seq", "pk"
                )
            )
            for event in written:
                event.pk = pks[event.seq]
        insert_rows(
            ConsentProof,
            [
                unsaved(
                    ConsentProof,
                    {"event": event},
                    event_id=event.pk,
                    subject_key=event.subject_key,
                    data=data,
                )
                for event, data in zip(written, proofs, strict=True)
            ],
            encoded_json={"data": proof_texts},  # the text the digest was taken of
        )
        head.seq, head.last_hash = seq, prev_hash
        head.save(update_fields=["seq", "last_hash"])
        _update_derived_state(events, written, history)
        insert_rows(
            Activity, [_activity(new, event) for new, event in zip(events, written, strict=True)]
        )
    return written


def _checked(new: NewEvent, now: datetime) -> tuple[EventKind, datetime, bool]:
    """The checks that need no database; returns the kind, time and confirmation need."""
    kind = EventKind(new.kind)
    check_kind(kind, new.purpose, new.channel)
    occurred_at = new.occurred_at or now
    check_occurred_at(occurred_at, now)
    needs_confirmation = new.needs_confirmation
    if kind == EventKind.GRANTED and needs_confirmation is None:
        needs_confirmation = new.purpose.double_opt_in
    return kind, occurred_at, bool(needs_confirmation) and kind == EventKind.GRANTED


def _confirms_seq(new: NewEvent, index: int, position: dict, written: list, seq: int) -> int | None:
    """The seq ``new.confirms`` names; it must be an event recorded before ``new``."""
    confirms = new.confirms
    if confirms is None:
        return None
    if isinstance(confirms, NewEvent):
        earlier = position.get(confirms)
        if earlier is None or earlier >= index:
            raise LedgerError("A confirmation or expiry must come after the grant it names.")
        return written[earlier].seq
    if not 0 < confirms < seq:
        raise LedgerError("A confirmation or expiry must come after the grant it names.")
    return confirms


def _check_expired_grant(new: NewEvent, grant_seq: int | None, known: dict) -> None:
    subject_key, purpose_id, grant = known.get(grant_seq, (None, None, None))
    if (
        grant is None
        or subject_key != new.contact.ledger_key
        or purpose_id != new.purpose.pk
        or grant.kind != EventKind.GRANTED
        or not grant.needs_confirmation
    ):
        raise LedgerError(
            "An expiry must name an unconfirmed grant of the same person and purpose."
        )


def _history(subject_keys: set) -> dict:
    """The recorded events of these people, as ``{subject_key: [(purpose_id, entry)]}``."""
    history: dict = {}
    rows = ConsentEvent.objects.filter(subject_key__in_many=list(subject_keys)).values_list(
        "subject_key", "purpose_id", *LEDGER_ENTRY_FIELDS
    )
    for subject_key, purpose_id, seq, kind, at, needs_confirmation, confirms_seq in rows:
        entry = LedgerEntry(seq, EventKind(kind), at, needs_confirmation, confirms_seq)
        history.setdefault(subject_key, []).append((purpose_id, entry))
    return history


def _activity(new: NewEvent, event: ConsentEvent) -> Activity:
    purpose_key = new.purpose.key if new.purpose else None
    return unsaved(
        Activity,
        {"contact": new.contact},
        contact_id=new.contact.pk,
        kind=ActivityKind.CONSENT,
        occurred_at=event.occurred_at,
        actor=new.actor[:200],
        summary=f"{event.kind}: {purpose_key or 'all direct marketing'}",
        data={
            "seq": event.seq,
            "event": event.kind,
            "purpose": purpose_key,
            "channel": new.channel,
        },
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


def _update_derived_state(
    batch: Sequence[NewEvent], written: list[ConsentEvent], history: dict
) -> None:
    """Re-fold what the new events touch from the people's events, and mark late events.

    One person's events are few, so each touched purpose (and standing) is
    folded again from all of them rather than continued: that way an event
    dated before what is recorded lands in its place in time. For a person new
    to the ledger (the usual import) the history is empty and the fold is just
    the batch's own events.
    """
    entries = {key: list(events) for key, events in history.items()}
    contact_of: dict = {}
    touched: set[tuple] = set()  # (subject_key, purpose_id)
    standing_touched: set = set()
    complained: set = set()
    for new, event in zip(batch, written, strict=True):
        subject = event.subject_key
        contact_of.setdefault(subject, []).append(new.contact)
        entry = entry_of(event)
        recorded = entries.setdefault(subject, [])
        if entry.kind in PERSON_EVENTS:
            relevant = [e for _p, e in recorded]
            standing_touched.add(subject)
            if entry.kind == EventKind.COMPLAINED:
                complained.add(subject)
        else:
            relevant = [e for p, e in recorded if p == event.purpose_id or p is None]
            touched.add((subject, event.purpose_id))
        event.late = is_late(entry, relevant)
        recorded.append((event.purpose_id, entry))
    for subject in complained:  # a complaint withdraws every purpose the person has events for
        touched.update((subject, p) for p, _entry in entries[subject] if p is not None)

    for subject in standing_touched:
        standing = fold_standing(e for p, e in entries[subject] if p is None)
        values = standing_values(standing)
        contacts = contact_of[subject]
        Contact.objects.filter(pk=contacts[0].pk).update(**values)
        for contact in contacts:
            for name, value in values.items():
                setattr(contact, name, value)

    states = {
        (contact_of[subject][0].pk, purpose_id): fold_purpose(
            e for p, e in entries[subject] if p == purpose_id or p is None
        )
        for subject, purpose_id in touched
    }
    # A person without recorded events has no derived state yet: only the
    # others can have rows to update (for an import of new people: none).
    with_history = {contact_of[subject][0].pk for subject in history if subject in contact_of}
    _write_states(states, with_history)


def _write_states(states: dict[tuple, PurposeConsent], with_history: set) -> None:
    """Store ``{(contact_id, purpose_id): state}``; "no consent at all" has no row.

    Existing rows are looked up only for the contacts in ``with_history``.
    """
    if not states:
        return
    stored = {contact_id for contact_id, _p in states if contact_id in with_history}
    rows = (
        {
            (row.contact_id, row.purpose_id): row
            for row in ConsentState.objects.filter(
                contact_id__in_many=stored,
                purpose_id__in={purpose_id for _c, purpose_id in states},
            )
        }
        if stored
        else {}
    )
    new_rows, changed, gone = [], [], []
    for (contact_id, purpose_id), state in states.items():
        values = row_values(state)
        row = rows.get((contact_id, purpose_id))
        if state.status == ConsentStatus.NONE:  # e.g. its only grant expired
            if row is not None:
                gone.append(row.pk)
        elif row is None:
            new_rows.append(
                unsaved(ConsentState, contact_id=contact_id, purpose_id=purpose_id, **values)
            )
        else:
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    insert_rows(ConsentState, new_rows)
    if gone:
        ConsentState.objects.filter(pk__in=gone).delete()
    if changed:
        ConsentState.objects.bulk_update(changed, list(row_values(PurposeConsent())))


def standing_values(standing: Standing) -> dict:
    return {
        "objected_at": standing.objected_at,
        "has_objected": standing.has_objected,
        "complained_at": standing.complained_at,
    }


def standing_of(contact: Contact) -> Standing:
    return Standing(contact.objected_at, contact.has_objected, contact.complained_at)


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
            p.event_id: p
            for p in ConsentProof.objects.filter(event_id__in_many=[e.pk for e in batch])
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
