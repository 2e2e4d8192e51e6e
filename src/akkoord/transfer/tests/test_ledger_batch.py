"""The import's batch writer derives the same state as the ledger's own fold.

Events are appended in batches (one lock, bulk inserts); afterwards the chain
verifies and a full rebuild from the ledger finds no drift, also when a batch
brings events dated before what is already recorded.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.consent.ledger import (
    LedgerError,
    rebuild_state,
    record_complaint,
    record_event,
    verify_ledger,
)
from akkoord.consent.models import ConsentEvent, ConsentState
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.transfer.ledger_batch import PendingEvent, append_events

pytestmark = pytest.mark.django_db


def pending(contact, purpose, kind, days_ago, **extra):
    return PendingEvent(
        contact,
        purpose,
        kind,
        timezone.now() - timedelta(days=days_ago),
        {"file": "old.csv"},
        channel="import",
        **extra,
    )


def state(contact, purpose):
    return ConsentState.objects.get(contact=contact, purpose=purpose)


def consistent():
    assert verify_ledger().ok
    assert rebuild_state(fix=False).drift == []


def test_an_old_file_never_overrules_a_later_withdrawal(contact, newsletter):
    record_event(contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_event(contact, newsletter, EventKind.WITHDRAWN, channel="centre")
    append_events([pending(contact, newsletter, EventKind.GRANTED, 365)])
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    consistent()


def test_events_of_one_batch_count_in_the_order_they_happened(contact, newsletter):
    # The file lists the unsubscription first, dated after the sign-up.
    append_events(
        [
            pending(contact, newsletter, EventKind.WITHDRAWN, 10),
            pending(contact, newsletter, EventKind.GRANTED, 20),
        ]
    )
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    consistent()


def test_a_newer_file_continues_from_the_recorded_state(contact, newsletter):
    append_events([pending(contact, newsletter, EventKind.GRANTED, 20)])
    append_events([pending(contact, newsletter, EventKind.WITHDRAWN, 10)])
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    append_events([pending(contact, newsletter, EventKind.GRANTED, 5)])
    assert state(contact, newsletter).status == ConsentStatus.GRANTED
    consistent()


def test_a_complaint_withdraws_what_an_import_brings_from_before_it(
    contact, newsletter, product_updates
):
    record_complaint(contact, report={"x": 1}, occurred_at=timezone.now() - timedelta(days=3))
    append_events(
        [
            pending(contact, newsletter, EventKind.GRANTED, 30),
            pending(contact, product_updates, EventKind.GRANTED, 1),
        ]
    )
    assert state(contact, newsletter).status == ConsentStatus.WITHDRAWN
    assert state(contact, product_updates).status == ConsentStatus.GRANTED
    consistent()


@pytest.mark.parametrize(
    ("kind", "purpose_given", "days_ago"),
    [
        (EventKind.GRANTED, True, -1),  # in the future
        (EventKind.OBJECTED, False, 1),
        (EventKind.OBJECTION_LIFTED, False, 1),
        (EventKind.COMPLAINED, False, 1),
    ],
)
def test_refused_events_write_nothing(contact, newsletter, kind, purpose_given, days_ago):
    purpose = newsletter if purpose_given else None
    batch = [
        pending(contact, newsletter, EventKind.GRANTED, 2),
        pending(contact, purpose, kind, days_ago),
    ]
    with pytest.raises(LedgerError):
        append_events(batch)
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()
