"""``ledger.append``: many events at once, with the same rules and fold as one.

A batch takes one lock and inserts in bulk; afterwards the chain verifies and a
full rebuild from the ledger finds no drift, also when a batch brings events
dated before what is already recorded, person-wide events or expiries.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from akkoord.consent.ledger import (
    LedgerError,
    NewEvent,
    append,
    rebuild_state,
    record_complaint,
    record_event,
    verify_ledger,
)
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.contacts.services import register_contact

pytestmark = pytest.mark.django_db


def new(contact, purpose, kind, days_ago, *, now=None, **extra):
    extra.setdefault("channel", "import")
    extra.setdefault("proof", {"file": "old.csv"})
    if kind == EventKind.GRANTED:
        extra.setdefault("needs_confirmation", False)
    return NewEvent(
        contact,
        purpose,
        kind,
        occurred_at=(now or timezone.now()) - timedelta(days=days_ago),
        **extra,
    )


def state(contact, purpose):
    return ConsentState.objects.get(contact=contact, purpose=purpose)


def consistent():
    result = verify_ledger()
    assert result.ok, result.problem
    assert rebuild_state(fix=False).drift == []


def person(n):
    made, _created = register_contact(
        {"email": f"person{n}@example.nl"}, source_kind="staff", actor="test"
    )
    return made


def test_an_old_file_never_overrules_a_later_withdrawal(contact, newsletter):
    record_event(contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_event(contact, newsletter, EventKind.WITHDRAWN, channel="centre")
    [old] = append([new(contact, newsletter, EventKind.GRANTED, 365)])
    assert old.late
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    consistent()


def test_events_of_one_batch_count_in_the_order_they_happened(contact, newsletter):
    # The file lists the unsubscription first, dated after the sign-up.
    withdrawal, grant = append(
        [
            new(contact, newsletter, EventKind.WITHDRAWN, 10),
            new(contact, newsletter, EventKind.GRANTED, 20),
        ]
    )
    assert (withdrawal.late, grant.late) == (False, True)
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    consistent()


def test_a_newer_file_continues_from_the_recorded_state(contact, newsletter):
    append([new(contact, newsletter, EventKind.GRANTED, 20)])
    append([new(contact, newsletter, EventKind.WITHDRAWN, 10)])
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    append([new(contact, newsletter, EventKind.GRANTED, 5)])
    assert state(contact, newsletter).status == ConsentStatus.GRANTED
    consistent()


def test_a_complaint_withdraws_what_an_import_brings_from_before_it(
    contact, newsletter, product_updates
):
    record_complaint(contact, report={"x": 1}, occurred_at=timezone.now() - timedelta(days=3))
    append(
        [
            new(contact, newsletter, EventKind.GRANTED, 30),
            new(contact, product_updates, EventKind.GRANTED, 1),
        ]
    )
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    assert state(contact, product_updates).status == ConsentStatus.GRANTED
    consistent()


def test_a_batch_after_an_expired_grant_counts_the_expiry(contact, newsletter):
    # The expired grant left no state row, but its events still count in the fold.
    grant = record_event(
        contact, newsletter, EventKind.GRANTED, channel="form", occurred_at=timezone.now()
    )
    expiry = record_event(
        contact, newsletter, EventKind.EXPIRED, channel="system", confirms_seq=grant.seq
    )
    assert not ConsentState.objects.filter(contact=contact).exists()
    append([new(contact, newsletter, EventKind.UNPROVEN, 10)])
    row = state(contact, newsletter)
    assert row.status == ConsentStatus.UNPROVEN and row.last_seq == expiry.seq
    consistent()


def test_a_batch_may_carry_person_wide_events_and_expiries(contact, newsletter, product_updates):
    grant = new(contact, newsletter, EventKind.GRANTED, 9, needs_confirmation=True)
    events = append(
        [
            grant,
            new(contact, product_updates, EventKind.GRANTED, 8),
            new(contact, newsletter, EventKind.EXPIRED, 2, channel="system", confirms=grant),
            new(contact, None, EventKind.OBJECTED, 4, channel="staff"),
            new(contact, None, EventKind.COMPLAINED, 3, channel="system"),
        ]
    )
    assert events[2].confirms_seq == events[0].seq
    # The expired grant counts as never given; the complaint withdraws every purpose.
    assert state(contact, newsletter).grant_seq is None
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    assert state(contact, product_updates).status == ConsentStatus.WITHDRAWN
    # The caller's contact is brought up to date too, as by record_event.
    assert contact.has_objected and contact.complained_at == events[4].occurred_at
    contact.refresh_from_db()
    assert contact.objected_at == events[3].occurred_at
    consistent()


def test_proofs_and_timeline_entries_are_written_per_event(contact, newsletter):
    events = append(
        [
            new(contact, newsletter, EventKind.GRANTED, 2, actor="mark@example.com"),
            new(contact, None, EventKind.OBJECTED, 1, channel="staff"),
        ]
    )
    proofs = ConsentProof.objects.filter(event__in=events).order_by("event__seq")
    assert [p.data["file"] for p in proofs] == ["old.csv", "old.csv"]
    assert len({p.data["nonce"] for p in proofs}) == 2
    # 16 random bytes each (hex), so the digest left after erasure cannot be guessed.
    assert all(re.fullmatch(r"[0-9a-f]{32}", p.data["nonce"]) for p in proofs)
    assert events[0].proof.data["file"] == "old.csv"
    timeline = Activity.objects.filter(contact=contact, kind=ActivityKind.CONSENT).order_by("pk")
    assert [(a.summary, a.data["seq"], a.actor) for a in timeline] == [
        ("granted: nieuwsbrief", events[0].seq, "mark@example.com"),
        ("objected: all direct marketing", events[1].seq, ""),
    ]


@pytest.mark.parametrize(
    ("kind", "purpose_given", "days_ago", "channel"),
    [
        (EventKind.GRANTED, True, -1, "import"),  # in the future
        (EventKind.GRANTED, False, 1, "import"),  # a purpose event without a purpose
        (EventKind.OBJECTED, True, 1, "import"),  # a person-wide event with a purpose
        (EventKind.OBJECTION_LIFTED, False, 1, "import"),  # only the person, in the centre
        (EventKind.COMPLAINED, True, 1, "system"),
        (EventKind.EXPIRED, True, 1, "system"),  # names no grant
    ],
)
def test_refused_events_write_nothing(contact, newsletter, kind, purpose_given, days_ago, channel):
    purpose = newsletter if purpose_given else None
    batch = [
        new(contact, newsletter, EventKind.GRANTED, 2),
        new(contact, purpose, kind, days_ago, channel=channel),
    ]
    with pytest.raises(LedgerError):
        append(batch)
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.CONSENT).exists()


def test_naive_times_are_refused(contact, newsletter):
    naive = NewEvent(
        contact,
        newsletter,
        EventKind.GRANTED,
        channel="import",
        occurred_at=timezone.now().replace(tzinfo=None),
    )
    with pytest.raises(LedgerError, match="time zone"):
        append([naive])


def test_a_confirmation_must_come_after_the_grant_it_names(contact, newsletter):
    grant = new(contact, newsletter, EventKind.GRANTED, 3, needs_confirmation=True)
    confirmation = new(contact, newsletter, EventKind.CONFIRMED, 2, confirms=grant)
    with pytest.raises(LedgerError, match="must come after"):
        append([confirmation, grant])
    with pytest.raises(LedgerError, match="must come after"):
        append([confirmation])  # its grant is not in the ledger
    with pytest.raises(LedgerError, match="must come after"):
        record_event(contact, newsletter, EventKind.CONFIRMED, channel="form", confirms_seq=1)
    assert not ConsentEvent.objects.exists()
    grant_event, confirmed = append([grant, confirmation])
    assert confirmed.confirms_seq == grant_event.seq
    assert state(contact, newsletter).status == ConsentStatus.GRANTED
    consistent()


def _history(contact, newsletter, product_updates, now):
    """Events for one person, in arrival order, several of them reported late."""
    grant = new(contact, newsletter, EventKind.GRANTED, 30, needs_confirmation=True, now=now)
    pending = new(contact, product_updates, EventKind.GRANTED, 25, needs_confirmation=True, now=now)
    return [
        grant,
        new(contact, newsletter, EventKind.CONFIRMED, 29, channel="form", confirms=grant, now=now),
        pending,
        new(contact, None, EventKind.OBJECTED, 20, channel="staff", now=now),
        new(contact, newsletter, EventKind.WITHDRAWN, 26, channel="unsubscribe", now=now),  # late
        new(
            contact,
            product_updates,
            EventKind.EXPIRED,
            18,
            channel="system",
            confirms=pending,
            now=now,
        ),
        new(contact, None, EventKind.OBJECTION_LIFTED, 15, channel="centre", now=now),
        new(contact, newsletter, EventKind.GRANTED, 10, now=now),
        new(contact, None, EventKind.COMPLAINED, 12, channel="system", now=now),  # late
        new(contact, product_updates, EventKind.UNPROVEN, 40, now=now),  # late
        new(contact, newsletter, EventKind.UNPROVEN, 5, now=now),
    ]


def _one_by_one(events):
    written = {}
    for event in events:
        confirms = event.confirms
        if isinstance(confirms, NewEvent):
            event.confirms = written[confirms].seq
        written[event] = record_event(
            event.contact,
            event.purpose,
            event.kind,
            channel=event.channel,
            proof=event.proof,
            occurred_at=event.occurred_at,
            needs_confirmation=event.needs_confirmation,
            confirms_seq=event.confirms,
        )
    return list(written.values())


def test_one_batch_or_one_by_one_gives_the_same_state_and_late_flags(newsletter, product_updates):
    batched, single = person(1), person(2)
    now = timezone.now()
    in_batch = append(_history(batched, newsletter, product_updates, now))
    in_turn = _one_by_one(_history(single, newsletter, product_updates, now))
    assert [e.late for e in in_batch] == [e.late for e in in_turn]
    assert [e.late for e in in_batch].count(True) == 3

    def derived(contact):
        contact = Contact.objects.get(pk=contact.pk)
        rows = ConsentState.objects.filter(contact=contact).order_by("purpose_id")
        return (
            [(r.purpose_id, r.status, r.changed_at, r.last_at) for r in rows],
            (contact.objected_at, contact.has_objected, contact.complained_at),
        )

    # Both got events at the same times: the derived facts match (the seqs differ).
    assert derived(batched) == derived(single)
    consistent()


def test_a_batch_costs_the_same_queries_for_five_people_or_thirty(newsletter):
    # (Up to the rows one bulk INSERT takes; SQLite's parameter limit splits larger ones.)
    def queries(people):
        events = [new(p, newsletter, EventKind.GRANTED, 1) for p in people]
        events += [new(p, newsletter, EventKind.WITHDRAWN, 0) for p in people]
        with CaptureQueriesContext(connection) as captured:
            append(events)
        return len(captured)

    queries([person(0)])  # the first append ever also creates the ledger head
    assert queries([person(n) for n in range(1, 6)]) == queries([person(n) for n in range(6, 36)])
    consistent()
