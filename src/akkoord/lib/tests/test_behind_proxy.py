"""The client address behind a reverse proxy: trusted only when configured, everywhere an IP is used."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from akkoord.campaigns.tests import conftest as campaign_fixtures
from akkoord.conftest import PASSWORD
from akkoord.consent.models import ConsentEvent
from akkoord.lib.ratelimit import client_ip

# Borrowed for the one-click unsubscribe test.
sending_domain = campaign_fixtures.sending_domain
template = campaign_fixtures.template
repermission_template = campaign_fixtures.repermission_template
make_campaign = campaign_fixtures.make_campaign

PROXY = "127.0.0.1"
ALICE_IP = "203.0.113.10"
BOB_IP = "198.51.100.20"


@pytest.fixture
def behind_proxy(settings):
    settings.AKKOORD_BEHIND_PROXY = True
    settings.AKKOORD_TRUSTED_PROXIES = ["127.0.0.1/8", "::1/128", "10.0.0.0/8"]


@pytest.fixture(autouse=True)
def _fresh_limits(db):
    cache.clear()
    yield
    cache.clear()


def request_from(peer: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


# -- which address counts ----------------------------------------------------


def test_without_the_setting_a_forged_forwarded_for_is_ignored(settings):
    settings.AKKOORD_BEHIND_PROXY = False
    assert client_ip(request_from(ALICE_IP, "1.2.3.4")) == ALICE_IP
    assert client_ip(request_from(PROXY, ALICE_IP)) == PROXY


def test_behind_the_proxy_the_client_comes_from_the_header(behind_proxy):
    assert client_ip(request_from(PROXY, ALICE_IP)) == ALICE_IP


def test_an_address_the_client_put_in_the_header_itself_is_not_believed(behind_proxy):
    # nginx's $proxy_add_x_forwarded_for appends the real peer to what the client sent.
    assert client_ip(request_from(PROXY, f"1.2.3.4, {ALICE_IP}")) == ALICE_IP


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(behind_proxy):
    assert client_ip(request_from(PROXY, f"9.9.9.9, {ALICE_IP}, 10.1.2.3")) == ALICE_IP


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client(behind_proxy):
    assert client_ip(request_from(BOB_IP, ALICE_IP)) == BOB_IP


@pytest.mark.parametrize(
    "header", ["garbage", "", " , ,", "203.0.113.10:443", "<script>", "1.2.3.4, not-an-ip", "\x00"]
)
def test_a_broken_header_gives_the_last_good_address_and_never_crashes(behind_proxy, header):
    assert client_ip(request_from(PROXY, header)) == PROXY


def test_ipv6_clients_and_proxies(behind_proxy):
    assert client_ip(request_from("::1", "2001:db8::7")) == "2001:db8::7"
    assert client_ip(request_from("::ffff:127.0.0.1", ALICE_IP)) == ALICE_IP


def test_the_default_trusted_proxies_are_this_machine_only(settings):
    from akkoord.lib.env import env_networks

    settings.AKKOORD_BEHIND_PROXY = True
    settings.AKKOORD_TRUSTED_PROXIES = env_networks("AKKOORD_NOT_SET", ["127.0.0.1/8", "::1/128"])
    assert client_ip(request_from(PROXY, ALICE_IP)) == ALICE_IP
    assert client_ip(request_from("10.0.0.5", ALICE_IP)) == "10.0.0.5"


def test_a_typo_in_the_trusted_proxies_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from akkoord.lib.env import env_networks

    monkeypatch.setenv("AKKOORD_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/33")
    with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
        env_networks("AKKOORD_TRUSTED_PROXIES", [])


# -- where it is used --------------------------------------------------------


def _sign_in(client, email, password, ip):
    return client.post(
        reverse("accounts:login"),
        {"email": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=ip,
    )


@pytest.mark.parametrize("proxy_on", [True, False])
def test_one_client_locked_out_behind_the_proxy_does_not_lock_out_another(
    client, admin, settings, proxy_on, one_rate_window
):
    from akkoord.accounts import views

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin.set_password(PASSWORD)
    admin.save()
    settings.AKKOORD_BEHIND_PROXY = proxy_on
    settings.AKKOORD_TRUSTED_PROXIES = ["127.0.0.1/8"]
    per_ip = views.FAILED_PER_IP
    answers = [
        _sign_in(client, f"guess{i}@example.com", "wrong password!!", ALICE_IP).status_code
        for i in range(per_ip + 1)
    ]
    assert answers[-1] == 429
    bob = _sign_in(client.__class__(), admin.email, PASSWORD, BOB_IP)
    if proxy_on:
        assert bob.status_code == 302
    else:
        # Without the setting every client is the proxy: the documented reason to set it.
        assert bob.status_code == 429


@pytest.fixture
def signup_version(newsletter, settings):
    from akkoord.signup.tests.conftest import make_form

    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return make_form([newsletter])


def _sign_up(client, version, email, ip):
    from akkoord.signup import guards

    data = {
        "_t": guards.render_token(version),
        "email": email,
        "purpose": "nieuwsbrief",
        "_js": "1",
    }
    return client.post(
        reverse("signup:form", args=[version.form.public_key]),
        data,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=ip,
    )


def test_the_consent_proof_records_the_client_behind_the_proxy(
    client, behind_proxy, signup_version
):
    assert _sign_up(client, signup_version, "eva@example.nl", ALICE_IP).status_code == 200
    assert ConsentEvent.objects.get().proof.data["ip"] == ALICE_IP


def test_without_the_setting_the_proof_records_the_peer(client, signup_version):
    assert _sign_up(client, signup_version, "eva@example.nl", ALICE_IP).status_code == 200
    assert ConsentEvent.objects.get().proof.data["ip"] == PROXY


def test_the_sign_up_flood_limit_is_per_client_behind_the_proxy(
    client, behind_proxy, signup_version, one_rate_window
):
    from akkoord.signup.services import ip_limits

    limit = min(limit for limit, _window in ip_limits())
    alice = [
        _sign_up(client, signup_version, f"a{i}@example.nl", ALICE_IP).status_code
        for i in range(limit + 1)
    ]
    assert alice[-1] == 429
    assert _sign_up(client, signup_version, "bob@example.nl", BOB_IP).status_code == 200


def test_a_one_click_unsubscribe_behind_the_proxy_records_the_client(
    behind_proxy, contact, newsletter, make_campaign
):
    from django.test import Client

    from akkoord.campaigns.rendering import unsubscribe_token, unsubscribe_url
    from akkoord.campaigns.tests.conftest import grant
    from akkoord.consent.rules import EventKind

    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    response = Client().post(
        unsubscribe_url(unsubscribe_token(contact, campaign)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"6.6.6.6, {ALICE_IP}",
    )
    assert response.status_code == 200
    event = ConsentEvent.objects.get(kind=EventKind.WITHDRAWN)
    assert event.proof.data["ip"] == ALICE_IP
