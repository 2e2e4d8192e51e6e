"""Signing in: password, then a code; same answer for unknown and wrong; limits."""

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts import views
from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.accounts.tests.conftest import code_for
from akkoord.accounts.views import FAILED_PER_ACCOUNT
from akkoord.conftest import PASSWORD

LOGIN = "/account/sign-in/"
VERIFY = "/account/sign-in/code/"


def sign_in_password(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"email": email, "password": password, **extra})


def test_the_sign_in_urls_are_where_the_base_template_expects():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == "/account/sign-out/"


def test_password_then_totp_signs_in_and_is_audited(client, admin):
    response = sign_in_password(client, "Alice@Example.com", next="/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert "next=%2Fcontacts%2F" in response["Location"]
    # The password alone does not open staff pages.
    assert client.get("/account/").status_code == 302

    device = TOTPDevice.objects.get(user=admin)
    response = client.post(VERIFY, {"code": code_for(device), "next": "/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    assert client.get("/account/").status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.SIGN_IN).get()
    assert entry.user == admin


def test_a_wrong_totp_code_is_refused_and_audited(client, admin):
    sign_in_password(client, admin.email)
    device = TOTPDevice.objects.get(user=admin)
    wrong = str((int(code_for(device)) + 1) % 1_000_000).zfill(6)
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert client.get("/account/").status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.SIGN_IN_FAILED, user=admin).exists()


def test_a_used_totp_code_cannot_be_replayed_in_another_session(client, admin, django_user_model):
    from django.test import Client

    device = TOTPDevice.objects.get(user=admin)
    with time_machine.travel(1_900_000_000, tick=False):
        code = code_for(device)
        sign_in_password(client, admin.email)
        assert client.post(VERIFY, {"code": code}).status_code == 302
        other = Client()
        sign_in_password(other, admin.email)
        assert other.post(VERIFY, {"code": code}).status_code == 200


def test_unknown_address_and_wrong_password_get_the_same_answer(client, admin):
    unknown = sign_in_password(client, "nobody@example.com")
    wrong = sign_in_password(client, admin.email, password="not the password at all")
    assert unknown.status_code == wrong.status_code == 200
    message = "This e-mail address and password do not match."
    assert message in unknown.content.decode()
    assert message in wrong.content.decode()
    failures = AuditEntry.objects.filter(action=AuditAction.SIGN_IN_FAILED)
    assert sorted(failures.values_list("detail", flat=True)) == [
        "unknown account",
        "wrong password",
    ]
    # The typed unknown address is not stored.
    assert not AuditEntry.objects.filter(actor__icontains="nobody").exists()


def test_a_deactivated_user_cannot_sign_in_with_the_right_password(client, admin):
    admin.is_active = False
    admin.save()
    response = sign_in_password(client, admin.email)
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_failed_attempts_per_account_trip_the_limit_even_with_the_right_password(
    client, admin, one_rate_window
):
    for _ in range(FAILED_PER_ACCOUNT):
        assert sign_in_password(client, admin.email, password="wrong password!!").status_code == 200
    response = sign_in_password(client, admin.email)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_attempts_per_ip_trip_the_limit_across_addresses(
    client, admin, monkeypatch, one_rate_window
):
    monkeypatch.setattr(views, "FAILED_PER_IP", 4)
    for i in range(4):
        sign_in_password(client, f"guess{i}@example.com")
    response = sign_in_password(client, admin.email)
    assert response.status_code == 429


def test_the_account_limit_ends_with_the_window(client, admin):
    with time_machine.travel(1_900_000_000, tick=False) as traveller:
        for _ in range(FAILED_PER_ACCOUNT):
            sign_in_password(client, admin.email, password="wrong password!!")
        assert sign_in_password(client, admin.email).status_code == 429
        traveller.shift(16 * 60)
        assert sign_in_password(client, admin.email).status_code == 302


def test_wrong_codes_are_limited_too(client, admin, one_rate_window):
    sign_in_password(client, admin.email)
    device = TOTPDevice.objects.get(user=admin)
    wrong = str((int(code_for(device)) + 1) % 1_000_000).zfill(6)
    for _ in range(FAILED_PER_ACCOUNT):
        client.post(VERIFY, {"code": wrong})
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 429


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_never_leaves_the_site(client, admin, target):
    sign_in_password(client, admin.email)
    device = TOTPDevice.objects.get(user=admin)
    response = client.post(VERIFY, {"code": code_for(device), "next": target})
    assert response["Location"] == reverse("front:dashboard")


def test_sign_out_needs_post_and_ends_the_session(admin_client, admin):
    assert admin_client.get("/account/sign-out/").status_code == 405
    assert admin_client.get("/account/").status_code == 200
    response = admin_client.post("/account/sign-out/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert admin_client.get("/account/").status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.SIGN_OUT, user=admin).exists()


def test_a_signed_in_user_visiting_sign_in_goes_on(admin_client):
    response = admin_client.get(LOGIN + "?next=/contacts/")
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
