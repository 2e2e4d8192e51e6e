"""The sign-in and staff pages speak Dutch by default (LANGUAGE_CODE nl)."""

import time

import time_machine
from django.conf import settings as django_settings
from django.test import Client


def test_sign_in_page_and_errors_are_dutch(db, settings, admin):
    settings.LANGUAGE_CODE = "nl"
    client = Client()
    page = client.get("/account/sign-in/").content.decode()
    assert "Aanmelden" in page and "Wachtwoord" in page
    response = client.post(
        "/account/sign-in/", {"email": admin.email, "password": "wrong password!!"}
    )
    assert "Dit e-mailadres en wachtwoord horen niet bij elkaar." in response.content.decode()


def test_the_idle_message_is_dutch(admin_client, settings):
    settings.LANGUAGE_CODE = "nl"
    minutes = django_settings.AKKOORD_IDLE_TIMEOUT_MINUTES
    with time_machine.travel(time.time(), tick=False) as traveller:
        admin_client.get("/account/")
        traveller.shift(minutes * 60 + 5)
        page = admin_client.get("/account/", follow=True).content.decode()
    assert f"U bent afgemeld na {minutes} minuten zonder activiteit" in page


def test_the_read_only_page_is_dutch(dpo_client, settings):
    settings.LANGUAGE_CODE = "nl"
    page = dpo_client.get("/account/staff/").content.decode()
    assert "Alleen beheerders kunnen deze pagina openen." in page
