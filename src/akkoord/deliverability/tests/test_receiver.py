"""A campaign through a real SMTP sink, its bounces and a complaint back through the receiver."""

import smtplib
import time

import pytest
from aiosmtpd.controller import Controller

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Delivery
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import Sink, free_port, grant
from akkoord.consent.ledger import verify_ledger
from akkoord.consent.models import ConsentEvent
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Contact
from akkoord.contacts.services import register_contact
from akkoord.deliverability.models import DeliveryReport, ReportKind
from akkoord.deliverability.results import campaign_results
from akkoord.deliverability.tests.conftest import report_mail

pytestmark = pytest.mark.django_db(transaction=True)


class EnvelopeSink(Sink):
    """The campaigns' SMTP sink, also keeping each message's MAIL FROM."""

    def __init__(self):
        super().__init__()
        self.envelopes: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            self.envelopes[rcpt] = envelope.mail_from
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def envelope_sink():
    sink = EnvelopeSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()


def people(purpose, names):
    found = {}
    for name in names:
        contact, _ = register_contact(
            {"email": f"{name}@example.nl", "first_name": name}, source_kind="staff", actor="test"
        )
        grant(contact, purpose)
        found[name] = contact
    return found


def wait_for(condition, timeout=30.0):
    """The receiver records on its own thread: wait for the outcome, generously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def send_campaign(make_campaign, purpose, sink):
    campaign = make_campaign(purpose, mail_class="marketing_other", audience="optins")
    freeze(campaign)
    run_worker(campaign.pk, SmtpMessenger(sink.url))
    return campaign


def returned(sink, contact, fixture):
    delivery = Delivery.objects.get(contact=contact, message_id__gt="")
    envelope = sink.envelopes[contact.email]
    return envelope, report_mail(
        fixture, envelope=envelope, rcpt=contact.email, message_id=delivery.message_id
    )


def test_bounces_and_a_complaint_through_the_receiver_exclude_and_withdraw(
    receiver, envelope_sink, make_campaign, newsletter
):
    folks = people(newsletter, ["hard", "exchange", "gmail", "exim", "complainer", "away", "fine"])
    campaign = send_campaign(make_campaign, newsletter, envelope_sink)
    assert len(envelope_sink.messages) == 7
    # Every message has its own signed return path, with no address in it.
    senders = set(envelope_sink.envelopes.values())
    assert len(senders) == 7
    assert all(s.startswith("bounces+") and s.endswith("@bounce.example.com") for s in senders)
    assert not any("example.nl" in s for s in senders)

    for name, fixture in [
        ("hard", "postfix_hard"),
        ("exchange", "exchange"),
        ("gmail", "gmail"),
        ("exim", "exim_plain"),
        ("away", "out_of_office"),
    ]:
        envelope, raw = returned(envelope_sink, folks[name], fixture)
        receiver.send(envelope, raw)
    # The feedback loop reports to the plain bounce address; the report quotes the original.
    _envelope, raw = returned(envelope_sink, folks["complainer"], "arf_complaint")
    receiver.send("bounces@bounce.example.com", raw)
    wait_for(lambda: DeliveryReport.objects.count() == 5)

    excluded = set(
        Contact.objects.filter(hard_bounced_at__isnull=False).values_list("email", flat=True)
    )
    assert excluded == {f"{n}@example.nl" for n in ["hard", "exchange", "gmail", "exim"]}
    complaint = ConsentEvent.objects.get(kind=EventKind.COMPLAINED)
    assert complaint.subject_key == folks["complainer"].ledger_key
    proof = complaint.proof.data["report"]
    assert proof["feedback_type"] == "abuse" and len(proof["raw_sha256"]) == 64
    assert "example.nl" not in str(proof)
    assert verify_ledger().ok

    results = campaign_results(campaign)
    assert (results.delivered, results.hard, results.soft, results.complaints) == (7, 4, 0, 1)

    # The next campaign reaches only the two who neither bounced nor complained.
    envelope_sink.messages.clear()
    send_campaign(make_campaign, newsletter, envelope_sink)
    assert sorted(envelope_sink.recipients()) == ["away@example.nl", "fine@example.nl"]


def test_the_same_report_twice_changes_nothing(receiver, envelope_sink, make_campaign, newsletter):
    folks = people(newsletter, ["twice", "complainer"])
    send_campaign(make_campaign, newsletter, envelope_sink)
    envelope, raw = returned(envelope_sink, folks["twice"], "postfix_hard")
    _e, complaint = returned(envelope_sink, folks["complainer"], "arf_complaint")
    for _ in range(2):
        receiver.send(envelope, raw)
        receiver.send("bounces@bounce.example.com", complaint)
    wait_for(lambda: DeliveryReport.objects.count() == 2)
    # The second copies are answered after the first were recorded (one connection each, in order).
    receiver.send(envelope, raw)
    assert DeliveryReport.objects.count() == 2
    assert ConsentEvent.objects.filter(kind=EventKind.COMPLAINED).count() == 1


def test_a_delayed_mail_is_soft_and_excludes_only_after_the_limit(
    receiver, envelope_sink, make_campaign, newsletter, settings
):
    settings.AKKOORD_SOFT_BOUNCE_LIMIT = 2
    folks = people(newsletter, ["full"])
    for round_number in (1, 2):
        envelope_sink.envelopes.clear()
        campaign = send_campaign(make_campaign, newsletter, envelope_sink)
        delivery = Delivery.objects.get(campaign=campaign, contact=folks["full"])
        raw = report_mail(
            "postfix_delayed",
            envelope=envelope_sink.envelopes["full@example.nl"],
            rcpt="full@example.nl",
            message_id=delivery.message_id,
        )
        receiver.send(envelope_sink.envelopes["full@example.nl"], raw)
        wait_for(lambda n=round_number: DeliveryReport.objects.count() == n)
        folks["full"].refresh_from_db()
        assert (folks["full"].hard_bounced_at is not None) == (round_number == 2)
    assert set(DeliveryReport.objects.values_list("kind", flat=True)) == {ReportKind.SOFT}


def test_the_receiver_refuses_addresses_that_are_not_its_own(receiver):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        receiver.send("bounces+1.aaaaaaaaaaaaaaaa@bounce.example.com", b"Subject: x\r\n\r\nx\r\n")
    assert "550" in str(refused.value)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        receiver.send("postmaster@bounce.example.com", b"Subject: x\r\n\r\nx\r\n")
    assert DeliveryReport.objects.count() == 0
