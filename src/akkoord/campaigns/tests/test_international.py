"""International addresses in a campaign: SMTPUTF8 where the server offers it,
else that one delivery fails with a stored reason; one bad recipient never
stops the others (real aiosmtpd servers with and without SMTPUTF8)."""

import email
import email.policy

import dkim
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import translation

from akkoord.campaigns import services
from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import FakeMessenger, SmtpMessenger
from akkoord.campaigns.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    FailureReason,
    SendingDomain,
)
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import Sink, free_port, grant, stub_dns
from akkoord.contacts.services import register_contact

pytestmark = pytest.mark.django_db

PLAIN = ["an@example.nl", "bo@example.nl", "cas@example.nl", "jan@bücher.de"]
NON_ASCII_LOCAL = ["ëve@example.nl", "用户@例子.广告"]


@pytest.fixture(params=[True, False], ids=["smtputf8", "no-smtputf8"])
def server(request):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=request.param)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    sink.smtputf8 = request.param
    yield sink
    controller.stop()


def ec_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def people(purpose, addresses):
    contacts = []
    for address in addresses:
        contact, _created = register_contact(
            {"email": address, "first_name": "Ëlla"}, source_kind="staff", actor="test"
        )
        grant(contact, purpose)
        contacts.append(contact)
    return contacts


def test_one_odd_address_is_sent_with_smtputf8_or_fails_alone_with_a_reason(
    newsletter, make_campaign, server
):
    contacts = people(newsletter, PLAIN + NON_ASCII_LOCAL)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    assert freeze(campaign) == len(contacts)

    stats = run_worker(campaign.pk, SmtpMessenger(server.url), batch_size=3, commit_every=2)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert stats.stopped_because == "finished"
    received = server.recipients()
    assert {"an@example.nl", "bo@example.nl", "cas@example.nl"} <= set(received)
    assert "jan@xn--bcher-kva.de" in received, "an IDN domain goes out in IDNA form"
    by_address = {d.contact.email: d for d in Delivery.objects.select_related("contact")}
    if server.smtputf8:
        assert "ëve@example.nl" in received
        assert "用户@xn--fsqu00a.xn--4rr70v" in received
        assert len(received) == 6
        assert all(d.status == DeliveryStatus.SENT for d in by_address.values())
        for rcpts, raw in server.messages:
            assert len(rcpts) == 1
            assert dkim.verify(raw, dnsfunc=stub_dns), "UTF-8 headers are signed too"
            message = email.message_from_string(raw.decode("utf-8"), policy=email.policy.SMTPUTF8)
            assert message["To"].addresses[0].addr_spec == rcpts[0]
    else:
        assert len(received) == 4
        for address in NON_ASCII_LOCAL:
            delivery = by_address[address]
            assert delivery.status == DeliveryStatus.FAILED
            assert delivery.failure_reason == FailureReason.NO_SMTPUTF8
            assert "SMTPUTF8" in delivery.smtp_reply
        assert stats.failed == 2
        contact = by_address["ëve@example.nl"].contact
        contact.refresh_from_db()
        assert contact.hard_bounced_at is None, "our server's limit is not the person's bounce"


def test_the_campaign_page_says_why_a_delivery_failed_in_dutch_and_english(
    newsletter, make_campaign, marketer_client
):
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    people(newsletter, ["ëve@example.nl"])
    freeze(campaign)
    Delivery.objects.update(
        status=DeliveryStatus.FAILED,
        failure_reason=FailureReason.NO_SMTPUTF8,
        smtp_reply="address: non-ASCII local part, and the server does not offer SMTPUTF8",
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.FINISHED)
    for language, words in (
        ("en", "does not support SMTPUTF8"),
        ("nl", "ondersteunt geen SMTPUTF8"),
    ):
        marketer_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
        assert words in page, language
        recipients = marketer_client.get(f"/campaigns/{campaign.pk}/recipients")
        assert words in recipients.content.decode(), language
    translation.activate("nl")


def test_pause_and_resume_of_a_campaign_with_an_odd_address_do_not_crash(
    newsletter, make_campaign, marketer, settings, django_capture_on_commit_callbacks
):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{port}"
    try:
        people(newsletter, ["ëve@example.nl", *PLAIN])
        campaign = make_campaign(newsletter, "marketing_other", "optins")
        freeze(campaign)
        assert services.pause(campaign, marketer)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.resume(campaign, marketer)
    finally:
        controller.stop()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert len(sink.recipients()) == len(PLAIN)
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 1


def test_a_message_that_cannot_be_signed_fails_alone_and_the_campaign_finishes(
    newsletter, make_campaign, smtp_sink
):
    people(newsletter, PLAIN[:2])
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    # A key that loads but is no RSA key: every signature fails, at signing time.
    SendingDomain.objects.filter(pk=campaign.sending_domain_id).update(private_key_pem=ec_key())

    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url))

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert stats.failed == 2
    assert set(Delivery.objects.values_list("failure_reason", flat=True)) == {FailureReason.SIGN}
    assert smtp_sink.messages == []


def test_an_address_that_cannot_be_encoded_fails_alone(newsletter, make_campaign, smtp_sink):
    good, odd = people(newsletter, ["an@example.nl", "odd@example.nl"])
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    # An address stored before validation was strict: its domain has no IDNA form.
    type(odd).objects.filter(pk=odd.pk).update(email="odd@ex\u200bample.nl")

    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url))

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert (stats.sent, stats.failed) == (1, 1)
    assert smtp_sink.recipients() == ["an@example.nl"]
    failed = Delivery.objects.get(contact=odd)
    assert failed.failure_reason == FailureReason.BAD_ADDRESS


def test_an_unexpected_error_sending_one_message_is_retried_for_that_one_only(
    newsletter, make_campaign
):
    people(newsletter, PLAIN[:3])
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    messenger = FakeMessenger()
    messenger.fail["bo@example.nl"] = RuntimeError("a bug in a messenger")

    stats = run_worker(campaign.pk, messenger, max_idle_seconds=0)

    assert stats.stopped_because == "waiting for retries"
    assert sorted(rcpt for _sender, rcpt, _raw in messenger.sent) == [
        "an@example.nl",
        "cas@example.nl",
    ]
    failed_once = Delivery.objects.get(contact__email="bo@example.nl")
    assert failed_once.status == DeliveryStatus.QUEUED
    assert failed_once.attempts == 1 and failed_once.next_attempt_at is not None
    assert failed_once.smtp_reply == "send: RuntimeError"
