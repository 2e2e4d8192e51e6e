"""Setting up the authenticator, and recovery codes that work once."""

import re

import time_machine
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.models import Role, User
from akkoord.accounts.services import RECOVERY_CODE_COUNT, totp_secret_text
from akkoord.accounts.tests.conftest import code_for
from akkoord.conftest import PASSWORD, make_user

LOGIN = "/account/sign-in/"
ENROL = "/account/sign-in/set-up/"
VERIFY = "/account/sign-in/code/"
CODES = "/account/recovery-codes/"


def new_user():
    return User.objects.create_user("nina@example.com", PASSWORD, role=Role.MARKETER)


def enrol(client, user) -> list[str]:
    client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device), "next": "/contacts/"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", page.content.decode())


def test_a_user_without_authenticator_is_sent_to_enrolment(client, db):
    user = new_user()
    response = client.post(LOGIN, {"email": user.email, "password": PASSWORD, "next": "/x/"})
    assert response["Location"].startswith(ENROL)
    assert "next=%2Fx%2F" in response["Location"]


def test_enrolment_shows_a_qr_code_and_the_key_and_keeps_the_key_on_reload(client, db):
    user = new_user()
    client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    first = client.get(ENROL).content.decode()
    second = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert 'src="data:image/svg+xml' in first
    assert totp_secret_text(device) in first
    assert totp_secret_text(device) in second
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_wrong_enrolment_code_confirms_nothing(client, db):
    user = new_user()
    client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    client.get(ENROL)
    response = client.post(ENROL, {"code": "12345"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/account/").status_code == 302


def test_enrolment_confirms_the_device_signs_in_and_shows_recovery_codes_once(client, db):
    user = new_user()
    codes = enrol(client, user)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/account/").status_code == 200
    again = client.get(CODES).content.decode()
    assert not any(code in again for code in codes)
    assert f"You have {RECOVERY_CODE_COUNT} unused recovery codes" in again


def test_the_page_that_sets_up_needs_the_password_step_first(client, db):
    response = client.get(ENROL)
    assert response["Location"].startswith(LOGIN)


def test_a_recovery_code_signs_in_once(db):
    user = new_user()
    codes = enrol(Client(), user)
    first = Client()
    first.post(LOGIN, {"email": user.email, "password": PASSWORD})
    response = first.post(VERIFY, {"code": codes[0].upper()}, follow=True)
    assert "You signed in with a recovery code" in response.content.decode()
    assert first.get("/account/").status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == RECOVERY_CODE_COUNT - 1

    second = Client()
    second.post(LOGIN, {"email": user.email, "password": PASSWORD})
    response = second.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200
    assert second.get("/account/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(db):
    user = new_user()
    client = Client()
    old = enrol(client, user)
    response = client.post(CODES, follow=True)
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(new) == RECOVERY_CODE_COUNT
    assert not set(old) & set(new)
    other = Client()
    with time_machine.travel(1_900_000_000, tick=False) as traveller:
        other.post(LOGIN, {"email": user.email, "password": PASSWORD})
        assert other.post(VERIFY, {"code": old[1]}).status_code == 200
        # django-otp throttles a device for a moment after a wrong code.
        traveller.shift(5)
        assert other.post(VERIFY, {"code": new[1]}).status_code == 302


def test_a_user_with_a_device_is_not_offered_a_new_one(client, db):
    user = make_user("emma@example.com", Role.MARKETER)
    client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    response = client.get(ENROL)
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_codes_from_a_slightly_slow_phone_clock_are_accepted(client, db):
    user = make_user("emma@example.com", Role.MARKETER)
    device = TOTPDevice.objects.get(user=user)
    with time_machine.travel(1_900_000_000, tick=False):
        client.post(LOGIN, {"email": user.email, "password": PASSWORD})
        assert client.post(VERIFY, {"code": code_for(device, offset=-1)}).status_code == 302
