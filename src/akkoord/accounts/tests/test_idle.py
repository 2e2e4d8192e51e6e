"""Automatic sign-out after inactivity (DOMAIN §8)."""

import time

import time_machine
from django.conf import settings


def test_idle_staff_are_signed_out_and_told_why(admin_client):
    with time_machine.travel(time.time(), tick=False) as traveller:
        assert admin_client.get("/account/").status_code == 200
        traveller.shift(settings.AKKOORD_IDLE_TIMEOUT_MINUTES * 60 - 10)
        assert admin_client.get("/account/").status_code == 200
        traveller.shift(settings.AKKOORD_IDLE_TIMEOUT_MINUTES * 60 + 1)
        response = admin_client.get("/account/")
        assert response.status_code == 302
        assert response["Location"] == "/account/sign-in/?next=%2Faccount%2F"
        page = admin_client.get(response["Location"]).content.decode()
        minutes = settings.AKKOORD_IDLE_TIMEOUT_MINUTES
        assert f"You were signed out after {minutes} minutes of inactivity" in page
        # The message is shown once.
        assert "inactivity" not in admin_client.get("/account/sign-in/").content.decode()
