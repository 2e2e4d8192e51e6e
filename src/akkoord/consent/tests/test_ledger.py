from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from akkoord.consent.guards import drop_guards, install_guards
from akkoord.consent.ledger import (
    LedgerError,
    rebuild_state,
    record_complaint,
    record_event,
    verify_ledger,
)
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState, Erasure
from akkoord.consent.rules import ConsentStatus, EventKind

pytestmark = pytest.mark.django_db


def grant(contact, purpose, **kwargs):
    kwargs.setdefault("channel", "staff")
    kwargs.setdefault("proof", {"staff_user": "mark@example.com", "text": purpose.consent_text_nl})
    return record_event(contact, purpose, EventKind.GRANTED, **kwargs)


def test_events_form_a_chain_that_verifies(contact, newsletter, product_updates):
    first = grant(contact, newsletter)
    record_event(
        contact,
        newsletter,
        EventKind.CONFIRMED,
        channel="form",
        confirms_seq=first.seq,
        proof={"ip": "192.0.2.1"},
    )
    grant(contact, product_updates)
    record_event(contact, None, EventKind.OBJECTED, channel="centre", proof={"ip": "192.0.2.1"})
    result = verify_ledger()
    assert result.ok, result.problem
    assert result.events_checked == 4


def test_state_follows_the_ledger_in_the_same_transaction(contact, newsletter):
    event = grant(contact, newsletter)
    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert state.status == ConsentStatus.PENDING
    assert state.grant_seq == event.seq
    record_event(contact, newsletter, EventKind.CONFIRMED, channel="form", confirms_seq=event.seq)
    state.refresh_from_db()
    assert state.status == ConsentStatus.GRANTED
    assert state.confirmed_at is not None
    record_event(contact, newsletter, EventKind.WITHDRAWN, channel="unsubscribe")
    state.refresh_from_db()
    assert state.status == ConsentStatus.WITHDRAWN
    assert state.grant_seq is None


def test_objection_applies_to_all_purposes_only(contact, newsletter):
    with pytest.raises(LedgerError):
        record_event(contact, newsletter, EventKind.OBJECTED, channel="centre")
    with pytest.raises(LedgerError):
        record_event(contact, None, EventKind.GRANTED, channel="staff")
    assert ConsentEvent.objects.count() == 0


def test_update_of_a_ledger_row_is_refused_by_the_database(contact, newsletter):
    grant(contact, newsletter)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consent_consentevent SET channel = 'import'")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM consent_consentevent")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consent_consentproof SET data = '{}'")
    assert ConsentEvent.objects.get().channel == "staff"


def _tamper(sql, params=()):
    """What an attacker with database rights does: lift the guard, change a row."""
    drop_guards(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        install_guards(connection)


def test_tampering_with_an_event_names_that_event(contact, newsletter, product_updates):
    grant(contact, newsletter)
    target = grant(contact, product_updates)
    grant(contact, newsletter, channel="form")
    _tamper("UPDATE consent_consentevent SET channel = %s WHERE seq = %s", ["import", target.seq])
    result = verify_ledger()
    assert not result.ok
    assert result.broken_seq == target.seq
    assert "changed" in result.problem


def test_tampering_with_proof_names_the_event(contact, newsletter, product_updates):
    grant(contact, newsletter)
    target = grant(contact, product_updates)
    _tamper(
        "UPDATE consent_consentproof SET data = %s WHERE event_id = %s",
        ['{"ip": "203.0.113.9"}', target.pk],
    )
    result = verify_ledger()
    assert not result.ok and result.broken_seq == target.seq
    assert "proof" in result.problem


def test_deleting_an_event_is_detected(contact, newsletter, product_updates):
    grant(contact, newsletter)
    middle = grant(contact, product_updates)
    grant(contact, newsletter)
    _tamper("DELETE FROM consent_consentproof WHERE event_id = %s", [middle.pk])
    _tamper("DELETE FROM consent_consentevent WHERE seq = %s", [middle.seq])
    result = verify_ledger()
    assert not result.ok and result.broken_seq == middle.seq


def test_deleting_the_last_event_is_detected(contact, newsletter):
    grant(contact, newsletter)
    last = grant(contact, newsletter)
    _tamper("DELETE FROM consent_consentproof WHERE event_id = %s", [last.pk])
    _tamper("DELETE FROM consent_consentevent WHERE seq = %s", [last.seq])
    result = verify_ledger()
    assert not result.ok and "removed" in result.problem


def test_erased_proofs_keep_the_chain_verifiable(contact, newsletter):
    grant(contact, newsletter)
    ConsentProof.objects.filter(subject_key=contact.ledger_key).delete()
    assert not verify_ledger().ok  # a missing proof without an erasure is tampering
    Erasure.objects.create(subject_key=contact.ledger_key)
    result = verify_ledger()
    assert result.ok and result.proofs_erased == 1


def test_missing_guards_fail_verification(contact, newsletter):
    grant(contact, newsletter)
    drop_guards(connection)
    try:
        result = verify_ledger()
    finally:
        install_guards(connection)
    assert not result.ok and "guards" in result.problem


def test_rebuild_reports_and_repairs_drift(contact, newsletter, product_updates):
    grant(contact, newsletter)
    grant(contact, product_updates)
    record_event(contact, None, EventKind.OBJECTED, channel="centre")
    assert rebuild_state(fix=False).drift == []
    ConsentState.objects.filter(purpose=newsletter).update(status="granted")
    ConsentState.objects.filter(purpose=product_updates).delete()
    contact.__class__.objects.filter(pk=contact.pk).update(objected_at=None)
    report = rebuild_state(fix=False)
    assert {d.purpose_key for d in report.drift} == {"nieuwsbrief", "productupdates", "*person*"}
    rebuild_state(fix=True)
    assert rebuild_state(fix=False).drift == []
    assert ConsentState.objects.get(purpose=newsletter).status == ConsentStatus.PENDING


def test_event_times_must_be_aware(contact, newsletter):
    with pytest.raises(LedgerError):
        grant(contact, newsletter, occurred_at=timezone.now().replace(tzinfo=None))
    assert grant(contact, newsletter, occurred_at=timezone.now() - timedelta(days=3)).seq == 1


# --- time order ----------------------------------------------------------------


def test_a_late_grant_is_recorded_but_does_not_undo_a_later_withdrawal(contact, newsletter):
    on_time = grant(contact, newsletter, needs_confirmation=False)
    assert on_time.late is False
    record_event(contact, newsletter, EventKind.WITHDRAWN, channel="staff")
    late = grant(
        contact,
        newsletter,
        needs_confirmation=False,
        occurred_at=timezone.now() - timedelta(days=365),
    )
    assert late.late is True
    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert state.status == ConsentStatus.WITHDRAWN and state.last_seq == 2
    assert rebuild_state(fix=False).drift == []


def test_a_late_withdrawal_counts_at_its_time(contact, newsletter):
    now = timezone.now()
    grant(contact, newsletter, needs_confirmation=False, occurred_at=now - timedelta(days=10))
    grant(contact, newsletter, needs_confirmation=False, occurred_at=now - timedelta(days=1))
    record_event(
        contact, newsletter, EventKind.WITHDRAWN, channel="api", occurred_at=now - timedelta(days=5)
    )
    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert state.status == ConsentStatus.GRANTED and state.grant_seq == 2
    assert rebuild_state(fix=False).drift == []


@pytest.mark.parametrize("kind", [EventKind.GRANTED, EventKind.WITHDRAWN, EventKind.OBJECTED])
def test_events_in_the_future_are_refused_and_nothing_is_written(contact, newsletter, kind):
    purpose = None if kind == EventKind.OBJECTED else newsletter
    with pytest.raises(LedgerError, match="future"):
        record_event(
            contact,
            purpose,
            kind,
            channel="staff",
            occurred_at=timezone.now() + timedelta(seconds=5),
        )
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()


@pytest.mark.parametrize("channel", ["api", "import", "staff", "system", "form"])
def test_only_the_centre_can_lift_an_objection(contact, channel):
    record_event(contact, None, EventKind.OBJECTED, channel="staff")
    with pytest.raises(LedgerError, match="customer centre"):
        record_event(contact, None, EventKind.OBJECTION_LIFTED, channel=channel)
    contact.refresh_from_db()
    assert contact.objected_at is not None and ConsentEvent.objects.count() == 1


def test_objection_facts_follow_the_time_they_happened(contact):
    now = timezone.now()
    record_event(contact, None, EventKind.OBJECTED, channel="staff", occurred_at=now - timedelta(2))
    record_event(contact, None, EventKind.OBJECTION_LIFTED, channel="centre")
    contact.refresh_from_db()
    assert contact.objected_at is None and contact.has_objected
    # An objection reported late, dated before the lifting, is lifted too...
    late = record_event(
        contact, None, EventKind.OBJECTED, channel="staff", occurred_at=now - timedelta(1)
    )
    assert late.late
    contact.refresh_from_db()
    assert contact.objected_at is None
    # ...but a new one is in force.
    newer = record_event(contact, None, EventKind.OBJECTED, channel="staff")
    contact.refresh_from_db()
    assert contact.objected_at == newer.occurred_at
    assert rebuild_state(fix=False).drift == []


def test_a_complaint_withdraws_every_purpose_with_the_report_as_proof(
    contact, newsletter, product_updates
):
    now = timezone.now()
    grant(contact, newsletter, needs_confirmation=False, occurred_at=now - timedelta(days=3))
    grant(contact, product_updates, needs_confirmation=False, occurred_at=now - timedelta(days=3))
    report = {"feedback_type": "abuse", "source": "fbl.example.net"}
    event = record_complaint(contact, report=report, occurred_at=now - timedelta(days=1))
    assert event.kind == EventKind.COMPLAINED and event.purpose is None
    assert event.proof.data["report"] == report
    contact.refresh_from_db()
    assert contact.complained_at == event.occurred_at
    statuses = set(ConsentState.objects.filter(contact=contact).values_list("status", flat=True))
    assert statuses == {ConsentStatus.WITHDRAWN}
    # A grant reported late, dated before the complaint, stays withdrawn.
    grant(contact, newsletter, needs_confirmation=False, occurred_at=now - timedelta(days=2))
    assert ConsentState.objects.get(purpose=newsletter).status == ConsentStatus.WITHDRAWN
    assert rebuild_state(fix=False).drift == []
    assert verify_ledger().ok


def test_an_expiry_must_name_an_unconfirmed_grant_of_the_same_purpose(
    contact, newsletter, product_updates
):
    plain = grant(contact, newsletter, needs_confirmation=False)
    pending = grant(contact, product_updates, needs_confirmation=True)
    for purpose, seq in [(newsletter, plain.seq), (newsletter, pending.seq), (newsletter, None)]:
        with pytest.raises(LedgerError, match="unconfirmed grant"):
            record_event(contact, purpose, EventKind.EXPIRED, channel="system", confirms_seq=seq)
    record_event(
        contact, product_updates, EventKind.EXPIRED, channel="system", confirms_seq=pending.seq
    )
    assert not ConsentState.objects.filter(purpose=product_updates).exists()
    assert rebuild_state(fix=False).drift == []


def test_rebuild_repairs_person_facts(contact, newsletter):
    record_complaint(contact, report={"x": 1}, occurred_at=timezone.now())
    record_event(contact, None, EventKind.OBJECTED, channel="staff")
    contact.__class__.objects.filter(pk=contact.pk).update(
        complained_at=None, has_objected=False, objected_at=None
    )
    assert [d.purpose_key for d in rebuild_state(fix=True).drift] == ["*person*"]
    contact.refresh_from_db()
    assert contact.complained_at and contact.has_objected and contact.objected_at
    assert rebuild_state(fix=False).drift == []
