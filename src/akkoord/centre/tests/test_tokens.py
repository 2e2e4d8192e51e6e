"""Centre links: per person, per purpose, 21 days by default; every bad link looks the same."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from akkoord.centre.links import centre_path, centre_url
from akkoord.contacts.services import register_contact
from akkoord.lib import tokens
from akkoord.organisation.models import Organisation


def _get(client, token):
    return client.get(reverse("centre:home", args=[token]))


@pytest.fixture
def other(db):
    person, _ = register_contact(
        {"email": "piet@example.nl", "first_name": "Piet"}, source_kind="staff"
    )
    return person


def test_a_fresh_link_opens_the_persons_own_page(client, contact, other):
    response = client.get(centre_path(contact))
    assert response.status_code == 200
    assert b"jan.jansen@example.nl" in response.content
    assert b"piet@example.nl" not in response.content
    assert response["Cache-Control"] == "no-store, private"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_link_carries_no_address_in_clear(contact):
    url = centre_url(contact)
    assert url.startswith("http://testserver/centre/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert "jan" not in url.lower()
    assert "example" not in url.lower()
    # The payload names the pseudonym only, even when decoded.
    data = tokens.read_token(tokens.CENTRE, token, max_age=None)
    assert data.subject == contact.ledger_key.hex


def _refusal(client, token):
    """The refusal page, without what legitimately varies per request (CSRF, own path)."""
    response = _get(client, token)
    assert response.status_code == 404
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r'name="next" value="[^"]*"', "", body)


def test_tampered_expired_crossperson_crosspurpose_and_unknown_tokens_look_the_same(
    client, contact, other
):
    good = tokens.make_token(tokens.CENTRE, contact)
    with time_machine.travel(timezone.now() - timedelta(days=22), tick=False):
        expired = tokens.make_token(tokens.CENTRE, contact)
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    # A token for another person with this person's key spliced in is a bad signature.
    other_token = tokens.make_token(tokens.CENTRE, other)
    spliced = good.split(":")[0] + ":" + ":".join(other_token.split(":")[1:])
    unsubscribe = tokens.make_token(tokens.UNSUBSCRIBE, contact)
    confirm = tokens.make_token(tokens.CONFIRM, contact)
    bodies = {
        _refusal(client, t)
        for t in [tampered, expired, spliced, unsubscribe, confirm, "nonsense", "." * 40]
    }
    assert len(bodies) == 1
    body = bodies.pop()
    assert "jan" not in body.lower()


def test_a_centre_token_is_not_an_unsubscribe_token(contact):
    token = tokens.make_token(tokens.CENTRE, contact)
    with pytest.raises(tokens.InvalidToken):
        tokens.contact_for_token(tokens.UNSUBSCRIBE, token, max_age=None)


def test_a_token_of_an_erased_person_looks_like_any_bad_token(client, contact):
    from akkoord.contacts.erasure import erase_contact

    token = tokens.make_token(tokens.CENTRE, contact)
    baseline = _refusal(client, "nonsense")
    erase_contact(contact, reason="request", via="test")
    assert _refusal(client, token) == baseline


@pytest.mark.parametrize(("days", "works"), [(20, True), (22, False)])
def test_links_are_valid_for_21_days(client, contact, days, works):
    made = timezone.now()
    with time_machine.travel(made, tick=False):
        token = tokens.make_token(tokens.CENTRE, contact)
    with time_machine.travel(made + timedelta(days=days), tick=False):
        response = _get(client, token)
    assert response.status_code == (200 if works else 404)


def test_the_organisation_chooses_how_long_links_stay_valid(client, contact):
    organisation = Organisation.current()
    organisation.centre_link_days = 30
    organisation.save()
    made = timezone.now()
    with time_machine.travel(made, tick=False):
        token = tokens.make_token(tokens.CENTRE, contact)
    with time_machine.travel(made + timedelta(days=25), tick=False):
        assert _get(client, token).status_code == 200
    with time_machine.travel(made + timedelta(days=31), tick=False):
        assert _get(client, token).status_code == 404
