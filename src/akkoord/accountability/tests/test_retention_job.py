"""The retention job against a plain-Python oracle, on data spanning several years."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akkoord.accountability import retention
from akkoord.accountability.models import AccountabilitySettings, CategoryRetention, RetentionRun
from akkoord.accounts.models import AuditEntry
from akkoord.consent.ledger import record_event, verify_ledger
from akkoord.consent.models import Channel, Suppression
from akkoord.consent.rules import EventKind, customer_cutoff
from akkoord.contacts.models import Activity, ActivityKind, Contact, ErasureLog
from akkoord.contacts.services import register_contact
from akkoord.mail.models import CaughtMessage
from akkoord.organisation.models import Organisation

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAYS = {"contact": 365, "identity": 1000, "purchases": 2555}
PURPOSE_DAYS = (730, 200)
STATUSES = ["granted", "pending", "unproven", "withdrawn"]

consent_plan = st.one_of(st.none(), st.tuples(st.sampled_from(STATUSES), st.integers(0, 2400)))
person = st.fixed_dictionaries(
    {
        "created": st.integers(0, 2400),
        "named": st.booleans(),
        "purchase": st.one_of(st.none(), st.integers(0, 2400)),
        "consents": st.tuples(consent_plan, consent_plan),
        "note": st.one_of(st.none(), st.integers(0, 2400)),
    }
)


def _ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def oracle(spec: dict, months: int) -> bool:
    """Written from docs/retention.md, independently of the job and its rule module."""
    cutoff = customer_cutoff(NOW.date(), months)
    statuses = [c[0] for c in spec["consents"] if c is not None]
    if {"granted", "pending", "unproven"} & set(statuses):
        return False
    purchase_day = (
        (NOW - timedelta(days=spec["purchase"])).date() if spec["purchase"] is not None else None
    )
    if purchase_day is not None and purchase_day >= cutoff:
        return False
    moments = [_ago(spec["created"])]
    moments += [_ago(c[1]) for c in spec["consents"] if c is not None]
    if spec["note"] is not None:
        moments.append(_ago(spec["note"]))
    if purchase_day is not None:
        moments.append(datetime.combine(purchase_day, time.max, tzinfo=UTC))
    periods = [DAYS["contact"]]
    if spec["named"]:
        periods.append(DAYS["identity"])
    if purchase_day is not None:
        periods.append(DAYS["purchases"])
    periods += [PURPOSE_DAYS[i] for i, c in enumerate(spec["consents"]) if c is not None]
    return max(moments) < NOW - timedelta(days=max(periods))


def _make(index: int, spec: dict, purposes) -> Contact:
    data = {"email": f"person{index}@example.nl"}
    if spec["named"]:
        data["first_name"] = "Anna"
    contact, _created = register_contact(data, source_kind="staff", actor="test")
    created = _ago(spec["created"])
    Contact.objects.filter(pk=contact.pk).update(created_at=created)
    Activity.objects.filter(contact=contact).update(occurred_at=created)
    for purpose, plan in zip(purposes, spec["consents"], strict=True):
        if plan is None:
            continue
        status, days = plan
        at = _ago(days)
        if status == "withdrawn":
            record_event(
                contact,
                purpose,
                EventKind.GRANTED,
                channel=Channel.STAFF,
                needs_confirmation=False,
                occurred_at=at - timedelta(hours=1),
            )
            record_event(
                contact, purpose, EventKind.WITHDRAWN, channel=Channel.STAFF, occurred_at=at
            )
        elif status == "unproven":
            record_event(
                contact, purpose, EventKind.UNPROVEN, channel=Channel.IMPORT, occurred_at=at
            )
        else:
            record_event(
                contact,
                purpose,
                EventKind.GRANTED,
                channel=Channel.STAFF,
                needs_confirmation=status == "pending",
                occurred_at=at,
            )
    if spec["purchase"] is not None:
        Contact.objects.filter(pk=contact.pk).update(
            last_purchase_on=(NOW - timedelta(days=spec["purchase"])).date(),
            objection_offered_at_sale=True,
        )
    if spec["note"] is not None:
        Activity.objects.create(
            contact=contact, kind=ActivityKind.NOTE, occurred_at=_ago(spec["note"]), summary="note"
        )
    return contact


@pytest.fixture
def configured(db, newsletter, product_updates):
    newsletter.retention_days, product_updates.retention_days = PURPOSE_DAYS
    newsletter.save()
    product_updates.save()
    for category, days in DAYS.items():
        CategoryRetention.objects.create(category=category, retention_days=days)
    return [newsletter, product_updates]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=st.lists(person, min_size=1, max_size=6))
def test_job_erases_exactly_what_the_oracle_says(configured, people):
    months = Organisation.current().customer_relationship_months
    with transaction.atomic():
        contacts = [_make(i, spec, configured) for i, spec in enumerate(people)]
        expected = {c.pk for c, spec in zip(contacts, people, strict=True) if oracle(spec, months)}

        dry = retention.run(dry_run=True, now=NOW)
        assert set(dry.contact_ids) == expected
        assert dry.report["contacts_erased"] == len(expected)
        assert Contact.objects.count() == len(people)

        done = retention.run(now=NOW)
        assert sorted(done.contact_ids) == sorted(dry.contact_ids)
        assert done.report["contacts_erased"] == dry.report["contacts_erased"]
        remaining = set(Contact.objects.values_list("pk", flat=True))
        assert remaining == {c.pk for c in contacts} - expected
        assert ErasureLog.objects.filter(reason="retention").count() == len(expected)
        assert verify_ledger().ok
        transaction.set_rollback(True)


def test_erased_contacts_are_suppressed_and_reports_hold_only_counts(configured):
    old = {
        "created": 2000,
        "named": True,
        "purchase": None,
        "consents": (("withdrawn", 1500), None),
        "note": None,
    }
    fresh = {**old, "created": 10, "consents": (("granted", 10), None)}
    gone, kept = _make(1, old, configured), _make(2, fresh, configured)
    run = retention.run(now=NOW)
    assert not Contact.objects.filter(pk=gone.pk).exists()
    assert Contact.objects.filter(pk=kept.pk).exists()
    assert Suppression.objects.filter(email_hash=gone.email_hash).exists()
    assert "person1" not in str(run.report) and "Anna" not in str(run.report)
    assert all(isinstance(v, int) for v in run.report.values())


def test_old_audit_entries_and_caught_mail_go(db):
    config = AccountabilitySettings.current()
    AuditEntry.objects.create(
        actor="a", action="view", at=NOW - timedelta(days=config.audit_log_days + 1)
    )
    AuditEntry.objects.create(actor="a", action="view", at=NOW - timedelta(days=1))
    CaughtMessage.objects.create(
        mail_from="x",
        recipients="y",
        raw=b"",
        received_at=NOW - timedelta(days=config.caught_mail_days + 1),
    )
    CaughtMessage.objects.create(mail_from="x", recipients="y", raw=b"", received_at=NOW)
    dry = retention.run(dry_run=True, now=NOW)
    assert (dry.report["audit_entries"], dry.report["caught_mail"]) == (1, 1)
    assert AuditEntry.objects.count() == 2
    retention.run(now=NOW)
    assert AuditEntry.objects.count() == 1 and CaughtMessage.objects.count() == 1


def test_command_dry_run_changes_nothing(configured, capsys):
    spec = {
        "created": 2000,
        "named": False,
        "purchase": None,
        "consents": (None, None),
        "note": None,
    }
    old = _make(1, spec, configured)
    _make(2, {**spec, "created": 10}, configured)
    call_command("retention_run", "--dry-run", "--ids")
    out = capsys.readouterr().out
    assert "would remove 1 contacts erased" in out
    assert f"contact ids that would be erased: {old.pk}\n" in out
    assert "person1" not in out
    assert Contact.objects.count() == 2
    assert RetentionRun.objects.get().dry_run
    call_command("retention_run", "--ids")
    captured = capsys.readouterr()
    assert "removed 1 contacts erased" in captured.out
    assert f"contact ids: {old.pk}\n" in captured.out
    assert "1 contacts erased" in captured.err  # the progress line
    assert Contact.objects.count() == 1


def test_command_failure_exits_non_zero(configured, monkeypatch):
    from django.core.management.base import CommandError

    from akkoord.accountability.management.commands import retention_run

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(retention_run, "run", broken)
    with pytest.raises(CommandError, match="database went away") as failure:
        call_command("retention_run", "--no-progress")
    assert failure.value.returncode == 1


def test_the_task_runs_the_job(configured):
    from akkoord.accountability.tasks import run_retention

    result = run_retention.enqueue(True)
    assert result.return_value["contacts_erased"] == 0
    assert timezone.now() >= RetentionRun.objects.get().started_at


def test_unconfirmed_signups_are_removed_after_their_expiry(newsletter, settings):
    from django.core.cache import cache

    from akkoord.signup.models import FormVersion, PendingSignup, SignupForm
    from akkoord.signup.services import sign_up

    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    form = SignupForm.objects.create(name="Nieuwsbrief", is_published=True)
    version = FormVersion.objects.create(
        form=form,
        number=1,
        language="nl",
        title="Schrijf je in",
        fields=[],
        purposes=[
            {"id": newsletter.pk, "key": newsletter.key, "name": "Nieuwsbrief", "text": "Ja"}
        ],
        thank_you_text="Bedankt!",
        confirmed_text="Bevestigd.",
        published_at=timezone.now(),
    )
    form.current_version = version
    form.save()
    sign_up(
        version,
        {"email": "nooit.bevestigd@example.nl", "purposes": ["nieuwsbrief"]},
        ip="192.0.2.8",
        user_agent="test",
        page_url="https://shop.example/",
        channel="form",
    )
    pending = PendingSignup.objects.get()
    cache.clear()

    before = retention.run(dry_run=True, now=pending.expires_at - timedelta(minutes=1))
    assert before.report["unconfirmed_signups"] == 0
    after = pending.expires_at + timedelta(minutes=1)
    dry = retention.run(dry_run=True, now=after)
    assert dry.report["unconfirmed_signups"] == 1
    assert Contact.objects.filter(email="nooit.bevestigd@example.nl").exists()
    done = retention.run(now=after)
    assert done.report["unconfirmed_signups"] == 1 and done.report["unconfirmed_contacts"] == 1
    assert not PendingSignup.objects.exists()
    assert not Contact.objects.filter(email="nooit.bevestigd@example.nl").exists()
    assert verify_ledger().ok
