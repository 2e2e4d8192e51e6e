"""The pure retention rule."""

from datetime import UTC, date, datetime, timedelta

from akkoord.accountability.retention_rules import (
    RetentionFacts,
    has_basis,
    is_expired,
    last_sign_of_life,
    retention_days,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CUTOFF = date(2024, 11, 23)


def _expired(facts):
    return is_expired(facts, now=NOW, customer_cutoff=CUTOFF, default_days=730)


def test_a_current_basis_always_keeps_the_contact():
    old = NOW - timedelta(days=5000)
    for status in ("granted", "pending", "unproven"):
        assert not _expired(RetentionFacts(created_at=old, statuses=("withdrawn", status)))
    customer = RetentionFacts(created_at=old, last_purchase_on=CUTOFF)
    assert has_basis(customer, CUTOFF) and not _expired(customer)


def test_the_longest_period_involved_applies():
    facts = RetentionFacts(created_at=NOW, purpose_days=(30, 400), category_days=(365,))
    assert retention_days(facts, 730) == 400
    assert retention_days(RetentionFacts(created_at=NOW), 730) == 730


def test_quiet_for_longer_than_the_period_expires_and_the_boundary_does_not():
    at_boundary = RetentionFacts(created_at=NOW - timedelta(days=365), category_days=(365,))
    assert not _expired(at_boundary)
    past = RetentionFacts(created_at=NOW - timedelta(days=365, seconds=1), category_days=(365,))
    assert _expired(past)


def test_the_latest_sign_of_life_counts():
    facts = RetentionFacts(
        created_at=NOW - timedelta(days=3000),
        statuses=("withdrawn",),
        last_consent_change=NOW - timedelta(days=2000),
        last_purchase_on=date(2024, 1, 1),
        last_activity=NOW - timedelta(days=2500),
        category_days=(365,),
    )
    assert last_sign_of_life(facts).date() == date(2024, 1, 1)
    assert _expired(facts)
    recent = RetentionFacts(
        created_at=NOW - timedelta(days=3000),
        last_activity=NOW - timedelta(days=10),
        category_days=(365,),
    )
    assert not _expired(recent)
