from datetime import UTC, date, datetime

from akkoord.consent.audiences import facts_for
from akkoord.consent.ledger import rebuild_state, verify_ledger
from akkoord.consent.models import ConsentEvent, ConsentProof
from akkoord.consent.rules import Audience, ConsentStatus, MailClass, Reason, decide
from akkoord.contacts.models import Contact
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_path


def do_import(path, purpose_key, **kwargs):
    source = open_path(path)
    purpose, mapping, fmt = prepare(source, purpose_key=purpose_key, fmt=kwargs.pop("fmt", "auto"))
    return run_import(ImportRun(source, mapping, purpose, format=fmt, **kwargs))


def test_mailchimp_export_imports_optin_and_confirmation_as_proof(newsletter, data_dir):
    report = do_import(data_dir / "mailchimp_subscribed.csv", "nieuwsbrief")

    assert report.format == "mailchimp"
    assert report.problem_count == 0, report.problems
    assert report.committed and report.created == 3
    anna = Contact.objects.get(email="anna.devries@example.nl")
    assert (anna.first_name, anna.last_name, anna.language) == ("Anna", "de Vries", "nl")
    assert anna.source_kind == "import"
    assert anna.source_detail == "mailchimp_subscribed.csv"
    assert anna.collected_from_person is False
    grant, confirm = ConsentEvent.objects.filter(subject_key=anna.ledger_key).order_by("seq")
    assert grant.kind == "granted" and grant.channel == "import"
    assert grant.occurred_at == datetime(2023, 3, 14, 9, 12, 44, tzinfo=UTC)
    proof = ConsentProof.objects.get(event=grant).data
    assert proof["file"] == "mailchimp_subscribed.csv"
    assert proof["row"] == 2
    assert proof["optin_ip"] == "192.0.2.15"
    assert proof["confirm_time"].startswith("2023-03-14T09:15:02")
    assert confirm.kind == "confirmed" and confirm.confirms_seq == grant.seq
    assert confirm.occurred_at == datetime(2023, 3, 14, 9, 15, 2, tzinfo=UTC)
    assert ConsentProof.objects.get(event=confirm).data["confirm_ip"] == "192.0.2.15"

    facts = facts_for(anna, newsletter)
    assert facts.consent.status == ConsentStatus.GRANTED
    decision = decide(
        facts,
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=date(2026, 11, 23),
        customer_months=24,
    )
    assert decision.allowed and decision.consent_seq == grant.seq

    bram = Contact.objects.get(email="bram@example.com")
    assert bram.language == "en"
    assert ConsentProof.objects.filter(subject_key=bram.ledger_key).first().data["optin_ip"] == (
        "2001:db8::7"
    )


def test_rows_without_proof_become_unproven_consent(newsletter, data_dir):
    do_import(data_dir / "mailchimp_subscribed.csv", "nieuwsbrief")

    carla = Contact.objects.get(email="carla@example.org")
    (event,) = ConsentEvent.objects.filter(subject_key=carla.ledger_key)
    assert event.kind == "unproven"
    facts = facts_for(carla, newsletter)
    today = date(2026, 11, 23)
    assert (
        decide(
            facts, MailClass.MARKETING_OTHER, Audience.OPTINS, today=today, customer_months=24
        ).reason
        == Reason.UNPROVEN_ONLY
    )
    assert decide(facts, MailClass.REPERMISSION, None, today=today, customer_months=24).allowed


def test_ledger_verifies_and_state_has_no_drift_after_import(newsletter, data_dir, contact):
    from akkoord.consent.ledger import record_event

    record_event(contact, newsletter, "granted", channel="staff", needs_confirmation=False)
    do_import(data_dir / "mailchimp_subscribed.csv", "nieuwsbrief", chunk_size=1)
    record_event(contact, newsletter, "withdrawn", channel="staff")

    assert verify_ledger().ok, verify_ledger().problem
    assert rebuild_state(fix=False).drift == []


def test_mailchimp_unsubscribed_and_cleaned_exports_never_become_consent(newsletter, write_csv):
    unsubscribed = write_csv(
        "unsubscribed_members.csv",
        "Email Address,First Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,UNSUB_TIME,LEID\n"
        "u@example.com,U,2022-01-01 10:00:00,192.0.2.1,2022-01-01 10:01:00,192.0.2.1,"
        "2023-06-01 08:00:00,5\n",
    )
    cleaned = write_csv(
        "cleaned_members.csv",
        "Email Address,First Name,OPTIN_TIME,CLEAN_TIME,LEID\n"
        "c@example.com,C,2022-01-01 10:00:00,2023-07-01 08:00:00,6\n",
    )
    assert do_import(unsubscribed, "nieuwsbrief").problem_count == 0
    assert do_import(cleaned, "nieuwsbrief").problem_count == 0
    today = date(2026, 11, 23)
    u = Contact.objects.get(email="u@example.com")
    kinds = list(
        ConsentEvent.objects.filter(subject_key=u.ledger_key).values_list("kind", flat=True)
    )
    assert kinds == ["granted", "confirmed", "withdrawn"]
    decision = decide(
        facts_for(u, newsletter),
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=today,
        customer_months=24,
    )
    assert decision.reason == Reason.WITHDRAWN
    c = Contact.objects.get(email="c@example.com")
    assert c.hard_bounced_at is not None
    decision = decide(
        facts_for(c, newsletter),
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=today,
        customer_months=24,
    )
    assert decision.reason == Reason.HARD_BOUNCED
