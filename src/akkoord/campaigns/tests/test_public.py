"""One-click unsubscribe (RFC 8058) and re-permission answers: POST acts, GET never does."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import FakeMessenger
from akkoord.campaigns.models import Delivery
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.rendering import (
    repermission_token,
    repermission_urls,
    unsubscribe_token,
    unsubscribe_url,
)
from akkoord.campaigns.repermission import process_deadlines
from akkoord.campaigns.tests.conftest import grant
from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import ConsentEvent, ConsentProof
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Activity

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything an unsubscribe or an answer could write."""
    return (
        ConsentEvent.objects.count(),
        ConsentProof.objects.count(),
        Activity.objects.count(),
        list(Delivery.objects.order_by("id").values_list("status", "answer", "skip_reason")),
    )


@pytest.fixture
def subscribed(contact, newsletter, make_campaign):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    return contact, campaign, unsubscribe_url(unsubscribe_token(contact, campaign))


def test_built_links_match_the_url_map(contact, make_campaign, newsletter):
    campaign = make_campaign(newsletter)
    token = unsubscribe_token(contact, campaign)
    assert unsubscribe_url(token) == "http://testserver" + reverse(
        "campaigns:unsubscribe", args=[token]
    )
    token = repermission_token(contact, campaign)
    assert repermission_urls(token)[0].split("?")[0] == "http://testserver" + reverse(
        "campaigns:repermission", args=[token]
    )


def test_get_shows_one_button_and_changes_nothing(subscribed, newsletter):
    contact, campaign, url = subscribed
    freeze(campaign)
    before = snapshot()
    # A mail scanner following the link, also with the one-click parameter.
    for query in ("", "?List-Unsubscribe=One-Click"):
        response = Client().get(url + query)
        assert response.status_code == 200
        assert response.content.count(b'<button type="submit">') == 1
    assert snapshot() == before
    assert current_consent(contact, newsletter).status == ConsentStatus.GRANTED


@pytest.mark.parametrize("multipart", [False, True])
def test_one_click_post_without_cookies_or_csrf_unsubscribes(subscribed, newsletter, multipart):
    contact, campaign, url = subscribed
    client = Client(enforce_csrf_checks=True)
    if multipart:
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
    else:
        response = client.post(
            url,
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200
    assert response.wsgi_request.content_type == (
        "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
    )
    assert not response.wsgi_request.COOKIES
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN
    event = ConsentEvent.objects.get(kind=EventKind.WITHDRAWN)
    assert event.channel == "unsubscribe"
    assert event.channel_ref == f"campaign:{campaign.pk}"
    assert ConsentProof.objects.get(event=event).data["how"] == "one-click"
    # Idempotent: a second click records nothing more.
    client.post(url, {"List-Unsubscribe": "One-Click"})
    assert ConsentEvent.objects.filter(kind=EventKind.WITHDRAWN).count() == 1


def test_unsubscribe_stops_the_rest_of_a_running_campaign(subscribed, newsletter):
    contact, campaign, url = subscribed
    freeze(campaign)
    Client().post(url, {"List-Unsubscribe": "One-Click"})
    messenger = FakeMessenger()
    run_worker(campaign.pk, messenger)
    assert messenger.sent == []
    assert Delivery.objects.get().skip_reason == "withdrawn"


def test_a_customer_can_unsubscribe_from_the_soft_opt_in_too(contact, newsletter, make_campaign):
    from akkoord.contacts.services import record_purchase

    record_purchase(
        contact,
        purchased_on=timezone.localdate() - timedelta(days=10),
        description="boots",
        objection_offered=True,
    )
    campaign = make_campaign(newsletter, "marketing_similar", "customers")
    Client().post(unsubscribe_url(unsubscribe_token(contact, campaign)), {})
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN
    from akkoord.campaigns.audience import preview

    assert preview(campaign).allowed == 0


@pytest.mark.parametrize("token", ["nonsense", "a" * 300])
def test_bad_tokens_get_the_same_not_valid_page(token, contact):
    for method in ("get", "post"):
        response = getattr(Client(HTTP_ACCEPT_LANGUAGE="en"), method)(f"/u/{token}")
        assert response.status_code == 404
        assert b"not valid" in response.content


@pytest.fixture
def repermission_campaign(contact, newsletter, make_campaign):
    record_event(contact, newsletter, EventKind.UNPROVEN, channel="import")
    campaign = make_campaign(
        newsletter,
        "repermission",
        None,
        deadline=timezone.localdate() + timedelta(days=14),
    )
    freeze(campaign)
    messenger = FakeMessenger()
    run_worker(campaign.pk, messenger)
    assert len(messenger.sent) == 1
    return campaign


def test_repermission_yes_registers_consent_with_proof(contact, newsletter, repermission_campaign):
    yes, _no = repermission_urls(repermission_token(contact, repermission_campaign))
    client = Client(enforce_csrf_checks=True)
    assert client.get(yes).status_code == 200
    assert current_consent(contact, newsletter).status == ConsentStatus.UNPROVEN
    response = client.post(yes.split("?")[0], {"answer": "yes"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    assert current_consent(contact, newsletter).status == ConsentStatus.GRANTED
    event = ConsentEvent.objects.filter(kind=EventKind.GRANTED).get()
    proof = ConsentProof.objects.get(event=event).data
    assert proof["ip"] == "198.51.100.7"
    assert "Nieuwe wandelschoenen" in proof["mail_text"]
    assert Delivery.objects.get().answer == "yes"


@pytest.mark.parametrize("data", [{}, {"answer": "maybe"}, {"answer": "YES; DROP"}])
def test_a_bad_repermission_answer_is_refused_and_writes_nothing(
    contact, newsletter, repermission_campaign, data
):
    yes, _no = repermission_urls(repermission_token(contact, repermission_campaign))
    before = snapshot()
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(yes.split("?")[0], data)
    assert response.status_code == 400
    assert snapshot() == before
    assert current_consent(contact, newsletter).status == ConsentStatus.UNPROVEN


def test_a_malformed_post_is_refused_and_writes_nothing(subscribed, newsletter):
    contact, _campaign, url = subscribed
    before = snapshot()
    response = Client().post(url, b"--x\r\nnonsense", content_type="multipart/form-data")
    assert response.status_code == 400
    assert snapshot() == before
    assert current_consent(contact, newsletter).status == ConsentStatus.GRANTED


def test_an_unsubscribe_link_for_a_deleted_purpose_is_not_valid(subscribed, newsletter):
    from akkoord.lib import tokens

    contact, campaign, _url = subscribed
    token = tokens.make_token(tokens.UNSUBSCRIBE, contact, p=999999, c=campaign.pk)
    before = snapshot()
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        unsubscribe_url(token), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 404 and b"not valid" in response.content
    assert snapshot() == before


def test_repermission_no_and_silence_unsubscribe(contact, newsletter, repermission_campaign):
    from akkoord.contacts.services import register_contact

    _no = repermission_urls(repermission_token(contact, repermission_campaign))[1]
    Client().post(_no.split("?")[0], {"answer": "no"})
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN
    # Someone else never answers: the deadline unsubscribes them.
    other, _created = register_contact({"email": "stil@example.org"}, source_kind="staff")
    record_event(other, newsletter, EventKind.UNPROVEN, channel="import")
    Delivery.objects.create(
        campaign=repermission_campaign,
        contact=other,
        language="nl",
        basis="unproven_consent",
        reason="ok_unproven",
        status="sent",
    )
    assert process_deadlines(today=repermission_campaign.deadline + timedelta(days=1)) == 1
    assert current_consent(other, newsletter).status == ConsentStatus.WITHDRAWN
    assert Delivery.objects.get(contact=other).answer == "deadline"


def test_repermission_goes_only_to_unproven_consent(contact, newsletter, make_campaign):
    from akkoord.campaigns.audience import preview

    grant(contact, newsletter)
    campaign = make_campaign(
        newsletter, "repermission", None, deadline=timezone.localdate() + timedelta(days=3)
    )
    assert preview(campaign).allowed == 0


def test_erasure_keeps_the_anonymous_delivery_row_only(contact, newsletter, make_campaign):
    from akkoord.contacts.erasure import erase_contact

    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    Delivery.objects.update(smtp_reply="550 <jan.jansen@example.nl> unknown")
    erase_contact(contact, reason="request", via="staff")
    delivery = Delivery.objects.get()
    assert delivery.contact is None and delivery.smtp_reply == ""


def test_the_unsubscribed_page_leads_to_the_customer_centre_without_handing_out_access(
    subscribed, newsletter
):
    """The page after unsubscribing points to all other choices; the centre link is
    mailed to the person, never put on a page an unsubscribe link (which may have
    been forwarded) opens."""
    contact, campaign, url = subscribed
    page = Client().post(url, {"List-Unsubscribe": "One-Click"}, HTTP_ACCEPT_LANGUAGE="nl")
    html = page.content.decode()
    assert f'href="{reverse("centre:request_link")}" id="to-centre"' in html
    assert "klantcentrum" in html
    assert "/centre/ey" not in html  # no personal centre token on the page
