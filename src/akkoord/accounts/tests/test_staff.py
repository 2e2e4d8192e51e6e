"""Staff management (administrators only) and the audit log viewer."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction, AuditEntry, Role, User
from akkoord.accounts.staff_views import AUDIT_PAGE_SIZE
from akkoord.conftest import signed_in_client

STAFF = "/account/staff/"


@pytest.mark.parametrize("who", ["marketer_client", "dpo_client"])
def test_only_administrators_manage_staff(request, who, admin):
    client = request.getfixturevalue(who)
    assert client.get(STAFF).status_code == 403
    assert (
        client.post(STAFF + "new/", {"email": "x@example.com", "role": "admin"}).status_code == 403
    )
    assert client.post(f"{STAFF}{admin.pk}/role/", {"role": "dpo"}).status_code == 403
    assert client.post(f"{STAFF}{admin.pk}/active/", {"active": "0"}).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and admin.is_active


def test_staff_pages_need_sign_in(client, admin):
    response = client.get(STAFF)
    assert response["Location"].startswith("/account/sign-in/?next=")


def test_the_administrator_sees_the_staff_list(admin_client, marketer, dpo):
    page = admin_client.get(STAFF).content.decode()
    assert marketer.email in page and dpo.email in page


def test_adding_a_staff_user_shows_a_one_time_password_that_signs_in(admin_client, admin):
    response = admin_client.post(
        STAFF + "new/", {"email": "New@Example.com", "name": "Nieuw", "role": "dpo"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    password = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode()).group(1)
    user = User.objects.get(email="new@example.com")
    assert user.role == Role.DPO
    assert user.check_password(password)
    assert password not in user.password
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, user=admin, object_id=str(user.pk)
    ).exists()
    # The new user signs in and is sent to set up two-factor authentication.
    response = Client().post("/account/sign-in/", {"email": user.email, "password": password})
    assert response["Location"].startswith("/account/sign-in/set-up/")


def test_a_duplicate_or_bad_address_is_refused(admin_client, marketer):
    response = admin_client.post(STAFF + "new/", {"email": "MARK@example.com", "role": "marketer"})
    assert "already is a staff user" in response.content.decode()
    response = admin_client.post(STAFF + "new/", {"email": "not-an-address", "role": "marketer"})
    assert response.status_code == 200
    response = admin_client.post(STAFF + "new/", {"email": "ok@example.com", "role": "owner"})
    assert response.status_code == 200
    assert User.objects.count() == 2


def test_changing_a_role_is_audited(admin_client, admin, marketer):
    admin_client.post(f"{STAFF}{marketer.pk}/role/", {"role": "dpo"})
    marketer.refresh_from_db()
    assert marketer.role == Role.DPO
    entry = AuditEntry.objects.get(action=AuditAction.CHANGE, object_id=str(marketer.pk))
    assert entry.detail == "role marketer -> dpo"


def test_the_last_administrator_cannot_step_down(admin_client, admin):
    response = admin_client.post(f"{STAFF}{admin.pk}/role/", {"role": "marketer"}, follow=True)
    assert "at least one active administrator" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_deactivating_ends_the_users_sessions(admin_client, marketer_client, marketer):
    assert marketer_client.get("/account/").status_code == 200
    admin_client.post(f"{STAFF}{marketer.pk}/active/", {"active": "0"})
    marketer.refresh_from_db()
    assert not marketer.is_active
    assert marketer_client.get("/account/").status_code == 302
    admin_client.post(f"{STAFF}{marketer.pk}/active/", {"active": "1"})
    marketer.refresh_from_db()
    assert marketer.is_active


def test_administrators_cannot_deactivate_themselves(admin_client, admin):
    admin_client.post(f"{STAFF}{admin.pk}/active/", {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active


def test_resetting_two_factor_removes_devices_and_unverifies_sessions(admin_client, marketer):
    marketer_client = signed_in_client(marketer)
    StaticDevice.objects.create(user=marketer, name="Recovery codes")
    admin_client.post(f"{STAFF}{marketer.pk}/reset-2fa/")
    assert not TOTPDevice.objects.filter(user=marketer).exists()
    assert not StaticDevice.objects.filter(user=marketer).exists()
    response = marketer_client.get("/account/")
    assert response["Location"].startswith("/account/sign-in/set-up/")


def test_resetting_a_password_shows_a_new_one_once(admin_client, marketer_client, marketer):
    response = admin_client.post(f"{STAFF}{marketer.pk}/reset-password/")
    password = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode()).group(1)
    marketer.refresh_from_db()
    assert marketer.check_password(password)
    # The old session is no longer valid.
    assert marketer_client.get("/account/").status_code == 302


def test_password_change_validates_and_keeps_the_session(marketer_client, marketer):
    weak = marketer_client.post(
        "/account/",
        {
            "old_password": "correct horse battery staple 42",
            "new_password1": "short",
            "new_password2": "short",
        },
    )
    assert weak.status_code == 200
    assert "too short" in weak.content.decode()
    ok = marketer_client.post(
        "/account/",
        {
            "old_password": "correct horse battery staple 42",
            "new_password1": "a much longer passphrase 2026",
            "new_password2": "a much longer passphrase 2026",
        },
    )
    assert ok.status_code == 302
    marketer.refresh_from_db()
    assert marketer.check_password("a much longer passphrase 2026")
    assert marketer_client.get("/account/").status_code == 200


@pytest.mark.parametrize(
    ("who", "status"), [("admin_client", 200), ("dpo_client", 200), ("marketer_client", 403)]
)
def test_who_reads_the_audit_log(request, who, status):
    assert request.getfixturevalue(who).get("/account/audit/").status_code == status


def test_the_audit_log_filters_and_pages(dpo_client, admin, marketer):
    for _ in range(AUDIT_PAGE_SIZE + 5):
        audit(marketer, AuditAction.VIEW, admin, object_type="contact")
    audit(admin, AuditAction.EXPORT, None, object_type="export", detail="export-marker")

    page = dpo_client.get("/account/audit/", {"action": "export"}).content.decode()
    assert "export-marker" in page
    assert "Page 1 of 1" in page

    page = dpo_client.get(
        "/account/audit/", {"actor": "mark", "object_type": "contact"}
    ).content.decode()
    assert "export-marker" not in page
    assert "Page 1 of 2" in page
    assert "actor=mark&amp;object_type=contact&amp;page=2" in page
    second = dpo_client.get(
        "/account/audit/", {"actor": "mark", "object_type": "contact", "page": 2}
    )
    assert second.content.decode().count("<td>mark@example.com</td>") == 5


def test_a_one_time_password_must_be_replaced_before_anything_else(admin_client, admin):
    response = admin_client.post(STAFF + "new/", {"email": "olga@example.com", "role": "admin"})
    password = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode()).group(1)
    olga = User.objects.get(email="olga@example.com")
    assert olga.password_change_required
    TOTPDevice.objects.create(user=olga, name="default", confirmed=True)
    client = signed_in_client(olga)

    response = client.get("/account/audit/")
    assert response["Location"] == "/account/?next=%2Faccount%2Faudit%2F"
    assert "one-time password" in client.get("/account/").content.decode()
    assert client.get("/account/recovery-codes/").status_code == 200

    response = client.post(
        "/account/?next=/account/audit/",
        {
            "old_password": password,
            "new_password1": "my own good passphrase 9",
            "new_password2": "my own good passphrase 9",
        },
    )
    assert response["Location"] == "/account/audit/"
    olga.refresh_from_db()
    assert not olga.password_change_required
    assert client.get("/account/audit/").status_code == 200


def test_a_password_reset_by_an_administrator_must_be_replaced(admin_client, marketer):
    admin_client.post(f"{STAFF}{marketer.pk}/reset-password/")
    marketer.refresh_from_db()
    assert marketer.password_change_required
