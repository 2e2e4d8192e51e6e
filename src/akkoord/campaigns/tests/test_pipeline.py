"""The sending pipeline against a real SMTP server (aiosmtpd) and the pure engine."""

import re
import socket
import threading

import dkim
import pytest
from django.utils import timezone, translation

from akkoord.campaigns.audience import CampaignNotReady, freeze, preview
from akkoord.campaigns.messenger import DeliveryError, FakeMessenger, SmtpMessenger
from akkoord.campaigns.models import CampaignBody, CampaignStatus, Delivery, DeliveryStatus
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import grant, make_population, stub_dns
from akkoord.consent import audiences, rules
from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.organisation.models import Organisation

pytestmark = pytest.mark.django_db


def expected_recipients(purpose, mail_class, audience):
    months = Organisation.current().customer_relationship_months
    allowed = set()
    for contact in Contact.objects.all():
        decision = rules.decide(
            audiences.facts_for(contact, purpose),
            rules.MailClass(mail_class),
            audience and rules.Audience(audience),
            today=timezone.localdate(),
            customer_months=months,
        )
        if decision.allowed:
            allowed.add(contact.email)
    return allowed


@pytest.mark.parametrize(
    ("mail_class", "audience"),
    [
        ("marketing_similar", "customers"),
        ("marketing_similar", "customers_and_optins"),
        ("marketing_other", "optins"),
    ],
)
def test_each_audience_reaches_exactly_the_lawful_recipients(
    newsletter, make_campaign, smtp_sink, mail_class, audience
):
    make_population(newsletter, 60)
    expected = expected_recipients(newsletter, mail_class, audience)
    assert expected, "the generated population must contain lawful recipients"
    campaign = make_campaign(newsletter, mail_class, audience)
    assert freeze(campaign) == len(expected)
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), batch_size=7, commit_every=3)

    assert stats.stopped_because == "finished"
    assert sorted(smtp_sink.recipients()) == sorted(expected)
    assert smtp_sink.connections == 1, "one SMTP connection reused for the whole campaign"
    for rcpts, raw in smtp_sink.messages:
        assert len(rcpts) == 1, "one recipient per message, always"
        assert dkim.verify(raw, dnsfunc=stub_dns), "every message verifies"
        signature = re.search(rb"DKIM-Signature:(.*?)\r\n(?=\S)", raw, re.S).group(1)
        signed = re.search(rb"h=([^;]+);", signature).group(1).replace(b"\r\n\t", b"")
        assert b"list-unsubscribe" in signed.split(b":")
        assert b"list-unsubscribe-post" in signed.split(b":")
    # Covered for real: changing either list header breaks the signature.
    _rcpts, raw = smtp_sink.messages[0]
    tampered_url = re.sub(
        rb"List-Unsubscribe: <[^>]+>", b"List-Unsubscribe: <https://evil.example/u>", raw
    )
    tampered_post = raw.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x=y"
    )
    assert tampered_url != raw and tampered_post != raw
    assert not dkim.verify(tampered_url, dnsfunc=stub_dns)
    assert not dkim.verify(tampered_post, dnsfunc=stub_dns)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


def test_messages_carry_the_unremovable_footer_and_list_headers(
    newsletter, make_campaign, smtp_sink, contact
):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    run_worker(campaign.pk, SmtpMessenger(smtp_sink.url))
    [message] = smtp_sink.parsed()
    assert message["To"].addresses[0].addr_spec == "jan.jansen@example.nl"
    assert len(message["To"].addresses) == 1
    assert message["Cc"] is None
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://testserver/u/")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Beste Jan Jansen" in text
    assert url in text and url in html
    assert "http://testserver/privacy" in text and "http://testserver/privacy" in html
    # CSS is inlined; the media query stays for responsive clients.
    assert 'style="color: #333' in html or 'style="color:#333' in html
    assert "@media" in html
    delivery = Delivery.objects.get(campaign=campaign)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.basis == "consent" and delivery.consent_seq is not None
    activity = Activity.objects.get(contact=contact, kind=ActivityKind.MAIL)
    assert activity.data["body"] == CampaignBody.objects.get(campaign=campaign, language="nl").pk
    assert "text" not in activity.data, "the body is stored once per campaign"


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Hoi</p><!-- the rest is hidden",
        '<html><body><div style="display:none"><p>Hoi',
        "<html><body><p>Hoi</p><textarea>",
    ],
)
def test_a_template_cannot_swallow_the_footer(html):
    from html.parser import HTMLParser

    from akkoord.campaigns.rendering import CompiledMail

    compiled = CompiledMail(
        subject="Hoi",
        html=html,
        text="Hoi",
        language="nl",
        organisation=Organisation.current(),
        from_name="Wandelwinkel",
    )
    _subject, _text, rendered = compiled.render({"unsubscribe_url": "https://x.example/u/t"})

    class Footer(HTMLParser):
        open_tags: list = []
        found = None

        def handle_starttag(self, tag, attrs):
            if dict(attrs).get("class") == "akkoord-footer":
                self.found = list(self.open_tags)
            self.open_tags.append((tag, dict(attrs).get("style") or ""))

        def handle_endtag(self, tag):
            while self.open_tags and self.open_tags.pop()[0] != tag:
                pass

    parser = Footer()
    parser.open_tags = []
    parser.feed(rendered)
    assert parser.found is not None, "the footer is an element, not inside a comment"
    assert [tag for tag, _style in parser.found] == ["html", "body"]
    assert "https://x.example/u/t" in rendered


@pytest.mark.parametrize(
    ("batch_size", "commit_every"),
    [
        (1, 10),  # the withdrawal lands before the next batch is claimed
        (100, 1),  # the whole audience is one claimed batch: it lands in the middle of it
    ],
)
def test_an_unsubscribe_during_the_campaign_is_honoured(
    newsletter, make_campaign, batch_size, commit_every
):
    make_population(newsletter, 80, seed=3)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    total = freeze(campaign)
    # The promise: honoured at the next batch or commit group, plus the SMTP
    # thread's window (3, handed over before the first result is back).
    assert total > 1 + min(batch_size, commit_every) + 3
    queued = list(
        Delivery.objects.filter(campaign=campaign).order_by("id").select_related("contact")
    )
    last = queued[-1].contact
    messenger = FakeMessenger()
    recorded = []

    # On the first recorded send, whatever the SMTP thread has done meanwhile:
    # counting the messenger's list raced with that thread (it could already
    # hold two or three when the first result was collected).
    def unsubscribe_last(_pk):
        if not recorded:
            recorded.append(_pk)
            record_event(last, newsletter, EventKind.WITHDRAWN, channel="unsubscribe")

    run_worker(
        campaign.pk,
        messenger,
        batch_size=batch_size,
        commit_every=commit_every,
        on_sent=unsubscribe_last,
    )
    assert last.email not in [rcpt for _s, rcpt, _m in messenger.sent]
    skipped = Delivery.objects.get(campaign=campaign, contact=last)
    assert (skipped.status, skipped.skip_reason) == ("skipped", "withdrawn")
    assert recorded, "the withdrawal was made while the campaign was sending"
    assert len(messenger.sent) == total - 1


def test_temporary_failures_retry_and_permanent_ones_fail_alone(newsletter, make_campaign, contact):
    others = make_population(newsletter, 20, seed=5)
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    messenger = FakeMessenger()
    temporary = [d.contact for d in Delivery.objects.filter(campaign=campaign)[:2]]
    messenger.fail[temporary[0].email] = DeliveryError("451 try later", temporary=True, code=451)
    messenger.fail[temporary[1].email] = DeliveryError(
        "550 no such user", temporary=False, code=550
    )
    stats = run_worker(campaign.pk, messenger, max_idle_seconds=0)
    assert stats.stopped_because == "waiting for retries"
    retry = Delivery.objects.get(campaign=campaign, contact=temporary[0])
    assert retry.status == DeliveryStatus.QUEUED and retry.attempts == 1
    assert retry.next_attempt_at > timezone.now()
    failed = Delivery.objects.get(campaign=campaign, contact=temporary[1])
    assert failed.status == DeliveryStatus.FAILED and failed.smtp_reply.startswith("550")
    temporary[1].refresh_from_db()
    assert temporary[1].hard_bounced_at is not None
    sent = [rcpt for _s, rcpt, _m in messenger.sent]
    assert len(sent) == len(set(sent)) == Delivery.objects.filter(status="sent").count()
    # The retry goes out later, and nobody else is sent again.
    Delivery.objects.filter(pk=retry.pk).update(next_attempt_at=timezone.now())
    del messenger.fail[temporary[0].email]
    run_worker(campaign.pk, messenger)
    sent = [rcpt for _s, rcpt, _m in messenger.sent]
    assert len(sent) == len(set(sent))
    assert temporary[0].email in sent and temporary[1].email not in sent
    assert others


def test_real_smtp_refusals_are_classified(newsletter, make_campaign, smtp_sink, contact):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    smtp_sink.refuse[contact.email] = "452 mailbox full"
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), max_idle_seconds=0)
    assert stats.retried == 1
    assert Delivery.objects.get().smtp_reply == "452 mailbox full"


def test_a_dropped_connection_is_retried_later_on_a_new_connection(
    newsletter, make_campaign, contact
):
    """A server that hangs up mid-session: temporary, with backoff; nothing marked sent."""
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def greet_and_hang_up():
            conn, _addr = server.accept()
            conn.sendall(b"220 hello\r\n")
            conn.recv(1024)
            conn.close()

        hanging = threading.Thread(target=greet_and_hang_up, daemon=True)
        hanging.start()
        stats = run_worker(
            campaign.pk, SmtpMessenger(f"smtp://127.0.0.1:{port}"), max_idle_seconds=0
        )
        hanging.join(timeout=5)
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert delivery.smtp_reply.startswith("connection:")
    assert delivery.next_attempt_at > timezone.now()


def test_a_refused_sender_or_content_is_no_bounce_of_the_recipient(
    newsletter, make_campaign, smtp_sink, contact
):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)

    async def refuse_sender(server, session, envelope, address, mail_options):
        return "550 sender not allowed"

    smtp_sink.handle_MAIL = refuse_sender
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), max_idle_seconds=0)
    assert (stats.sent, stats.failed, stats.retried) == (0, 0, 1)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.smtp_reply == "sender refused: 550 sender not allowed"
    del smtp_sink.handle_MAIL

    async def refuse_content(server, session, envelope):
        return "554 5.7.1 rejected as spam"

    smtp_sink.handle_DATA = refuse_content
    Delivery.objects.update(next_attempt_at=timezone.now())
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url))
    assert (stats.sent, stats.failed) == (0, 1)
    assert Delivery.objects.get().smtp_reply.startswith("554")
    contact.refresh_from_db()
    assert contact.hard_bounced_at is None, "only a refused mailbox is a hard bounce"


def test_international_addresses_go_out_in_idna_or_fail_alone(smtp_sink):
    from akkoord.campaigns.rendering import build_message

    raw, _message_id = build_message(
        from_name="Wandelwinkel",
        from_address="nieuws@mail.example.com",
        to="jan@café.nl",
        subject="Hoi",
        text="Tekst",
        html=None,
        domain="mail.example.com",
        list_unsubscribe="https://akkoord.example.com/u/x",
    )
    assert b"To: <jan@xn--caf-dma.nl>" in raw
    messenger = SmtpMessenger(smtp_sink.url)
    messenger.send("nieuws@mail.example.com", "jan@café.nl", raw)
    # The sink offers SMTPUTF8 (test_international.py: a server that does not).
    messenger.send("nieuws@mail.example.com", "jöran@example.nl", raw)
    with pytest.raises(DeliveryError) as refused:
        messenger.send("nieuws@mail.example.com", "jan@ex\u200bample.nl", raw)
    assert not refused.value.temporary
    assert refused.value.reason == "bad_address"
    messenger.close()
    assert smtp_sink.recipients() == ["jan@xn--caf-dma.nl", "jöran@example.nl"]


def test_a_campaign_nobody_may_receive_explains_why_and_cannot_start(
    newsletter, make_campaign, contact
):
    record_event(contact, newsletter, EventKind.UNPROVEN, channel="import")
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    with translation.override("en"):
        result = preview(campaign)
    assert result.allowed == 0
    assert any("re-permission" in text for text in result.why_nobody)
    with pytest.raises(CampaignNotReady):
        freeze(campaign)
    assert not Delivery.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_throttle_limits_messages_per_period(newsletter, make_campaign):
    from akkoord.campaigns.pipeline import allowance

    make_population(newsletter, 30, seed=3)
    campaign = make_campaign(newsletter, "marketing_other", "optins", rate_limit=2)
    campaign.rate_period = "hour"
    campaign.save()
    freeze(campaign)
    assert allowance(campaign, 100) == (2, 0.0)
    first_two = Delivery.objects.filter(campaign=campaign).order_by("id")[:2]
    Delivery.objects.filter(pk__in=[d.pk for d in first_two]).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    allowed, wait = allowance(campaign, 100)
    assert allowed == 0 and wait > 0


def test_a_paused_campaign_stops_and_gives_back_its_rows(newsletter, make_campaign):
    from akkoord.campaigns.models import Campaign

    make_population(newsletter, 30, seed=3)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    total = freeze(campaign)
    messenger = FakeMessenger()

    def pause_after_first(_pk):
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)

    stats = run_worker(campaign.pk, messenger, commit_every=1, on_sent=pause_after_first)
    assert stats.stopped_because == "not sending"
    assert 1 <= len(messenger.sent) < total
    assert not Delivery.objects.filter(status=DeliveryStatus.SENDING).exists()
    queued = Delivery.objects.filter(status=DeliveryStatus.QUEUED).count()
    assert queued == total - len(messenger.sent)
    # Resume: the rest goes out, nobody twice.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    run_worker(campaign.pk, messenger)
    sent = [rcpt for _s, rcpt, _m in messenger.sent]
    assert len(sent) == len(set(sent)) == total


def test_one_worker_on_sqlite_two_elsewhere_unless_configured(settings):
    from django.db import connection

    from akkoord.campaigns.tasks import worker_count

    assert worker_count() == (1 if connection.vendor == "sqlite" else 2)
    settings.AKKOORD_CAMPAIGN_WORKERS = 3
    assert worker_count() == 3
    settings.AKKOORD_CAMPAIGN_WORKERS = 0
    assert worker_count() == 1
