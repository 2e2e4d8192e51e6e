"""Failed sign-ins: the lockout runs from the last failure, successes do not count,
and the session key is renewed at the second factor."""

import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts import lockout
from akkoord.accounts.models import Role, SignInThrottle, User
from akkoord.accounts.tests.conftest import code_for
from akkoord.accounts.views import FAILED_PER_ACCOUNT, FAILED_PER_IP, FAILED_WINDOW
from akkoord.conftest import PASSWORD

LOGIN = "/account/sign-in/"
VERIFY = "/account/sign-in/code/"
ENROL = "/account/sign-in/set-up/"
WRONG = "not the password at all"
# Ten seconds before a multiple of the window: where a fixed window would end.
JUST_BEFORE_AN_EDGE = (1_900_000_000 // FAILED_WINDOW + 1) * FAILED_WINDOW - 10


def sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password})


def test_the_lockout_does_not_end_at_a_window_edge(client, admin):
    with time_machine.travel(JUST_BEFORE_AN_EDGE, tick=False) as traveller:
        for _ in range(FAILED_PER_ACCOUNT):
            assert sign_in(client, admin.email, WRONG).status_code == 200
        traveller.shift(20)  # past the edge of a fixed window
        assert sign_in(client, admin.email, WRONG).status_code == 429
        assert sign_in(client, admin.email).status_code == 429


def test_the_lockout_ends_one_window_after_the_last_failure(client, admin):
    with time_machine.travel(JUST_BEFORE_AN_EDGE, tick=False) as traveller:
        for _ in range(FAILED_PER_ACCOUNT - 1):
            sign_in(client, admin.email, WRONG)
        traveller.shift(FAILED_WINDOW - 60)
        sign_in(client, admin.email, WRONG)  # the last failure, the fifth
        traveller.shift(120)  # the first failures are older than a window now
        assert sign_in(client, admin.email).status_code == 429
        traveller.shift(FAILED_WINDOW - 120 - 1)
        assert sign_in(client, admin.email).status_code == 429
        traveller.shift(2)
        assert sign_in(client, admin.email).status_code == 302


def test_failures_more_than_a_window_apart_do_not_add_up(client, admin):
    with time_machine.travel(JUST_BEFORE_AN_EDGE, tick=False) as traveller:
        for _ in range(FAILED_PER_ACCOUNT - 1):
            sign_in(client, admin.email, WRONG)
        traveller.shift(FAILED_WINDOW + 1)
        for _ in range(FAILED_PER_ACCOUNT - 1):
            sign_in(client, admin.email, WRONG)
        assert sign_in(client, admin.email).status_code == 302


def test_staff_signing_in_from_one_office_address_never_use_up_its_limit(admin, db):
    colleagues = [
        User.objects.create_user(f"staff{i}@example.com", PASSWORD, role=Role.MARKETER)
        for i in range(FAILED_PER_IP + 5)
    ]
    for colleague in colleagues:
        assert sign_in(Client(), colleague.email).status_code == 302


def test_the_counts_hold_no_address_in_clear(client, admin):
    sign_in(client, admin.email, WRONG)
    row = SignInThrottle.objects.get(scope="signin-account")
    assert row.failures == 1
    assert admin.email not in row.identity_hash and "127.0.0.1" not in str(
        list(SignInThrottle.objects.values_list("identity_hash", flat=True))
    )


def test_counts_that_ran_out_long_ago_are_pruned(client, admin):
    with time_machine.travel(JUST_BEFORE_AN_EDGE, tick=False) as traveller:
        sign_in(client, admin.email, WRONG)
        traveller.shift(2 * 24 * 3600)
        assert lockout.prune() == 2  # the account's and the address's
    assert not SignInThrottle.objects.exists()


def test_the_session_key_changes_when_the_code_is_verified(client, admin):
    sign_in(client, admin.email)
    after_password = client.session.session_key
    device = TOTPDevice.objects.get(user=admin)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    assert client.session.session_key != after_password
    assert not SessionStore().exists(after_password)
    assert client.get("/account/").status_code == 200


def test_the_session_key_changes_when_enrolment_verifies_the_first_code(client, db):
    user = User.objects.create_user("nina@example.com", PASSWORD, role=Role.MARKETER)
    sign_in(client, user.email)
    client.get(ENROL)
    after_password = client.session.session_key
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(ENROL, {"code": code_for(device)}).status_code == 302
    assert client.session.session_key != after_password
    assert not SessionStore().exists(after_password)
