"""Opens and clicks are measured only for recipients who consented: checked on the sent bytes."""

import email
import email.policy
from urllib.parse import urlsplit

import pytest

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Delivery, MailTemplate
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import grant
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import register_contact
from akkoord.deliverability.models import TrackingEvent
from akkoord.deliverability.results import campaign_results

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example.nl/wandelschoenen?kleur=rood&maat=42"


@pytest.fixture
def measure(db, settings):
    settings.AKKOORD_TRACKING_PURPOSE = "meten"
    return Purpose.objects.create(
        key="meten",
        name_nl="Leesgedrag meten",
        name_en="Measure my reading",
        consent_text_nl="Ja, meet of ik de mail open en welke links ik volg.",
        consent_text_en="Yes, measure whether I open the mail and which links I follow.",
        double_opt_in=False,
        position=5,
    )


@pytest.fixture
def linked_template(db):
    return MailTemplate.objects.create(
        name="Met link",
        subject_nl="Nieuw",
        text_nl=f"Bekijk {SHOP}\n",
        html_nl=f'<html><body><p><a href="{SHOP.replace("&", "&amp;")}">Bekijk</a></p></body></html>',
    )


def person(name, *purposes):
    contact, _ = register_contact(
        {"email": f"{name}@example.nl", "first_name": name}, source_kind="staff", actor="test"
    )
    for purpose in purposes:
        grant(contact, purpose)
    return contact


def sent_parts(sink, address):
    for rcpts, raw in sink.messages:
        if rcpts == [address]:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            return (
                message.get_body(("plain",)).get_content(),
                message.get_body(("html",)).get_content(),
            )
    raise AssertionError(f"nothing sent to {address}")


def send(make_campaign, newsletter, template, sink):
    campaign = make_campaign(
        newsletter, mail_class="marketing_other", audience="optins", template=template
    )
    freeze(campaign)
    run_worker(campaign.pk, SmtpMessenger(sink.url))
    return campaign


def test_only_a_consenting_recipient_gets_a_pixel_and_tracked_links(
    client, smtp_sink, make_campaign, newsletter, measure, linked_template
):
    person("meet", newsletter, measure)
    person("niet", newsletter)
    campaign = send(make_campaign, newsletter, linked_template, smtp_sink)

    text, html = sent_parts(smtp_sink, "niet@example.nl")
    assert "/t/o/" not in html and "/t/c/" not in html + text
    assert SHOP in text and SHOP.replace("&", "&amp;") in html

    text, html = sent_parts(smtp_sink, "meet@example.nl")
    assert "/t/o/" in html and "/t/c/" in html and "/t/c/" in text
    assert "shop.example.nl" not in html and "shop.example.nl" not in text
    # Our own links are never rewritten.
    assert "/u/" in text

    pixel = urlsplit(html.split('<img src="', 1)[1].split('"', 1)[0]).path
    click = urlsplit(text.split("Bekijk ", 1)[1].split()[0]).path
    assert client.get(pixel).status_code == 200
    response = client.get(click)
    assert response.status_code == 302 and response["Location"] == SHOP
    results = campaign_results(campaign)
    assert (results.tracked, results.opened, results.clicked) == (1, 1, 1)


def test_withdrawing_the_measure_consent_stops_it_at_the_next_message(
    client, smtp_sink, make_campaign, newsletter, measure, linked_template
):
    contact = person("meet", newsletter, measure)
    send(make_campaign, newsletter, linked_template, smtp_sink)
    _text, first_html = sent_parts(smtp_sink, "meet@example.nl")
    pixel = urlsplit(first_html.split('<img src="', 1)[1].split('"', 1)[0]).path
    record_event(contact, measure, EventKind.WITHDRAWN, channel="centre")

    smtp_sink.messages.clear()
    send(make_campaign, newsletter, linked_template, smtp_sink)
    text, html = sent_parts(smtp_sink, "meet@example.nl")
    assert "/t/" not in html + text
    # A hit on the old message after the withdrawal is not recorded either.
    assert client.get(pixel).status_code == 200
    assert TrackingEvent.objects.count() == 0


def test_without_a_measure_purpose_nobody_is_tracked(
    smtp_sink, make_campaign, newsletter, measure, linked_template, settings
):
    person("meet", newsletter, measure)
    settings.AKKOORD_TRACKING_PURPOSE = ""
    send(make_campaign, newsletter, linked_template, smtp_sink)
    text, html = sent_parts(smtp_sink, "meet@example.nl")
    assert "/t/" not in html + text


def test_a_forged_click_link_is_no_open_redirect(client):
    assert client.get("/t/c/not-a-signed-token").status_code == 404
    assert Delivery.objects.count() == 0
