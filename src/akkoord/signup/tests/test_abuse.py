import pytest
from django.core import mail
from django.utils import translation

from akkoord.contacts.models import Contact
from akkoord.signup.services import SignupRefused, sign_up
from akkoord.signup.tests.conftest import PROOF

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _one_window(one_rate_window):
    """Every test here counts up to a limit: see ``one_rate_window``."""


def attempt(version, email, ip):
    try:
        sign_up(
            version,
            {"email": email, "purposes": ["nieuwsbrief"]},
            ip=ip,
            user_agent="bot",
            page_url="",
        )
    except SignupRefused as refused:
        return refused
    return None


def test_a_hundred_sign_ups_from_one_ip_trip_the_limit(version):
    results = [attempt(version, f"p{i}@example.nl", "203.0.113.5") for i in range(100)]
    refused = [r for r in results if r is not None]
    assert refused and all(r.code == "rate_ip" for r in refused)
    assert len(refused) >= 90
    assert "try again" in refused[0].message
    assert len(mail.outbox) <= 10
    # Another network is not affected.
    assert attempt(version, "other@example.nl", "198.51.100.1") is None


def test_ten_sign_ups_for_one_address_send_one_mail(version):
    results = [attempt(version, "victim@example.nl", f"203.0.113.{i}") for i in range(10)]
    assert len(mail.outbox) == 1
    refused = [r for r in results if r is not None]
    assert refused and all(r.code == "rate_address" for r in refused)
    assert "confirmation e-mail" in refused[0].message
    assert Contact.objects.count() == 1


def test_one_mail_per_address_per_window_even_below_the_attempt_limit(version, settings):
    settings.AKKOORD_SIGNUP_ADDRESS_LIMIT = (100, 600)
    for i in range(5):
        assert attempt(version, "victim@example.nl", f"203.0.113.{i}") is None
    assert len(mail.outbox) == 1


def test_a_global_cap_stops_a_distributed_flood(version, settings):
    settings.AKKOORD_SIGNUP_MAILS_PER_HOUR = (3, 3600)
    for i in range(8):
        attempt(version, f"p{i}@example.nl", f"203.0.113.{i}")
    assert len(mail.outbox) == 3


def test_the_window_reopens_for_a_resend(version, settings, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    assert attempt(version, "eva@example.nl", "203.0.113.1") is None
    time_machine.move_to("2026-11-23 10:20:00+00:00", tick=False)
    assert attempt(version, "eva@example.nl", "203.0.113.1") is None
    assert len(mail.outbox) == 2  # the second is a resend of the same pending sign-up
    assert mail.outbox[0].body != mail.outbox[1].body


def test_a_failing_mail_server_gives_a_clear_answer_and_allows_a_retry(version, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("akkoord.signup.services.send_confirmation_mail", broken)
    result = sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    assert result.mail_failed and not result.mail_sent
    assert result.pending.__class__.objects.get().mail_sent_at is None


def test_a_flood_through_the_hosted_page_trips_the_limits_without_a_crash(
    client, version, settings, time_machine
):
    from django.urls import reverse

    from akkoord.signup import guards

    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    url = reverse("signup:form", args=[version.form.public_key])

    def post(email, ip):
        data = {"_t": guards.render_token(version), "email": email, "purpose": "nieuwsbrief"}
        return client.post(url, {**data, "_js": "1"}, REMOTE_ADDR=ip)

    from_one_ip = [post(f"p{i}@example.nl", "203.0.113.5") for i in range(100)]
    time_machine.move_to("2026-11-23 10:00:30+00:00", tick=False)
    for_one_address = [post("victim@example.nl", f"198.51.100.{i}") for i in range(10)]
    answers = from_one_ip + for_one_address
    assert {r.status_code for r in answers} <= {200, 429}
    refused = [r for r in answers if r.status_code == 429]
    assert len([r for r in from_one_ip if r.status_code == 429]) >= 90
    assert any(r.status_code == 429 for r in for_one_address)
    for response in refused:
        assert response["Retry-After"] and response.json()["ok"] is False
        assert "probeer het" in response.json()["message"]  # the form is Dutch
    per_address = {}
    for message in mail.outbox:
        per_address[message.to[0]] = per_address.get(message.to[0], 0) + 1
    assert max(per_address.values()) == 1
    assert per_address["victim@example.nl"] == 1
    assert len(mail.outbox) == Contact.objects.count() <= 11
