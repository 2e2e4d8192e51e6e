from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from akkoord.consent.guards import drop_guards, install_guards
from akkoord.consent.ledger import LedgerError, rebuild_state, record_event, verify_ledger
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
    assert {d.purpose_key for d in report.drift} == {"nieuwsbrief", "productupdates", "*objection*"}
    rebuild_state(fix=True)
    assert rebuild_state(fix=False).drift == []
    assert ConsentState.objects.get(purpose=newsletter).status == ConsentStatus.PENDING


def test_event_times_must_be_aware(contact, newsletter):
    with pytest.raises(LedgerError):
        grant(contact, newsletter, occurred_at=timezone.now().replace(tzinfo=None))
    assert grant(contact, newsletter, occurred_at=timezone.now() - timedelta(days=3)).seq == 1
