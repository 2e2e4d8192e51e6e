"""``akkoord ledger verify`` and ``akkoord ledger rebuild`` as an operator runs them."""

import io

import pytest
from django.core.management import CommandError, call_command

from akkoord.consent.models import ConsentState
from akkoord.consent.tests.test_ledger import _tamper, grant

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("ledger", *args, stdout=out)
    return out.getvalue()


def test_verify_passes_on_an_untouched_ledger(contact, newsletter, product_updates):
    grant(contact, newsletter)
    grant(contact, product_updates)
    assert "Ledger OK: 2 events verified" in run("verify")


def test_verify_fails_and_names_the_event_changed_by_raw_sql(contact, newsletter, product_updates):
    grant(contact, newsletter)
    target = grant(contact, product_updates)
    grant(contact, newsletter)
    _tamper("UPDATE consent_consentevent SET channel = %s WHERE seq = %s", ["import", target.seq])
    with pytest.raises(CommandError) as failure:
        run("verify")
    message = str(failure.value)
    assert f"event {target.seq}:" in message
    assert "FAILED" in message


def test_rebuild_dry_run_reports_drift_and_fails_without_changing_anything(contact, newsletter):
    grant(contact, newsletter)
    ConsentState.objects.filter(purpose=newsletter).update(status="withdrawn")
    with pytest.raises(CommandError, match="1 differences found"):
        run("rebuild", "--dry-run")
    assert ConsentState.objects.get(purpose=newsletter).status == "withdrawn"


def test_rebuild_repairs_drift(contact, newsletter):
    grant(contact, newsletter)
    ConsentState.objects.filter(purpose=newsletter).update(status="withdrawn")
    output = run("rebuild")
    assert "drift: contact" in output and "1 differences repaired" in output
    assert ConsentState.objects.get(purpose=newsletter).status != "withdrawn"
    assert "0 differences found" in run("rebuild", "--dry-run")


def test_verify_reports_progress_on_stderr(contact, newsletter, monkeypatch):
    monkeypatch.setattr("akkoord.consent.ledger._events_in_order.__defaults__", (2,))
    for _ in range(5):
        grant(contact, newsletter)
    err = io.StringIO()
    call_command("ledger", "verify", stdout=io.StringIO(), stderr=err)
    assert "events" in err.getvalue()
