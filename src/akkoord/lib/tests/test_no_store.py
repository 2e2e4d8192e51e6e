"""Pages with personal data tell browsers and proxies to keep no copy (Cache-Control: no-store)."""

import pytest
from django.urls import reverse

from akkoord.centre.links import centre_token
from akkoord.mail.models import CaughtMessage


@pytest.fixture
def caught_mail(db):
    return CaughtMessage.objects.create(
        mail_from="noreply@example.com",
        recipients="jan.jansen@example.nl",
        subject="Welkom",
        raw=b"From: noreply@example.com\r\nTo: jan.jansen@example.nl\r\nSubject: Welkom\r\n\r\nHallo Jan\r\n",
    )


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.parametrize("page", ["contacts", "contact", "caught mails", "caught mail", "account"])
def test_staff_pages_with_personal_data_are_not_stored(admin_client, contact, caught_mail, page):
    url = {
        "contacts": "/contacts/",
        "contact": f"/contacts/{contact.pk}/",
        "caught mails": "/mail/",
        "caught mail": f"/mail/{caught_mail.pk}/",
        "account": "/account/",
    }[page]
    response = admin_client.get(url)
    assert response.status_code == 200
    assert no_store(response)


def test_a_search_for_a_person_is_not_stored(admin_client, contact):
    response = admin_client.get("/contacts/", {"q": contact.email})
    assert response.status_code == 200 and no_store(response)


@pytest.mark.parametrize("page", ["home", "correct", "erase"])
def test_customer_centre_pages_are_not_stored(client, contact, page):
    response = client.get(reverse(f"centre:{page}", args=[centre_token(contact)]))
    assert response.status_code == 200
    assert no_store(response)


def test_the_centre_download_is_not_stored(client, contact):
    response = client.post(reverse("centre:download", args=[centre_token(contact), "json"]))
    assert response.status_code == 200
    assert no_store(response)


def test_api_answers_to_a_key_holder_are_not_stored(db, contact):
    from django.test import Client

    from akkoord.api.models import ApiKey, Scope

    _key, token = ApiKey.issue("webshop", [s.value for s in Scope])
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/contacts")
    assert response.status_code == 200
    assert no_store(response)
