"""Consent follows the time events happened, through the REST API.

A grant reported late (dated before a withdrawal) does not undo the
withdrawal, and a grant without double opt-in does not lift an objection.
Answers come from the may-mail endpoint, with a real API key.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.consent.models import ConsentEvent

pytestmark = pytest.mark.django_db

TEXT = "Ja, stuur mij de nieuwsbrief."
AUDIENCES = [
    ("marketing_similar", "customers"),
    ("marketing_similar", "customers_and_optins"),
    ("marketing_other", "optins"),
]


def new_customer(api, email: str) -> int:
    response = api.post("/api/v1/contacts", {"email": email}, content_type="application/json")
    assert response.status_code == 201, response.content
    contact_id = response.json()["id"]
    purchase = api.post(
        f"/api/v1/contacts/{contact_id}/purchases",
        {
            "purchased_on": (timezone.localdate() - timedelta(days=10)).isoformat(),
            "description": "Tent",
            "objection_offered": True,
        },
        content_type="application/json",
    )
    assert purchase.status_code == 201, purchase.content
    return contact_id


def post(api, contact_id, kind, *, purpose="nieuwsbrief", when=None, **extra):
    body = {"kind": kind, "purpose": purpose, **extra}
    if kind == "granted":
        body["proof"] = {"text_shown": TEXT}
    if when is not None:
        body["occurred_at"] = when.isoformat()
    return api.post(
        f"/api/v1/contacts/{contact_id}/consents",
        body,
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )


def may_mail(api, contact_id, mail_class, audience):
    response = api.get(
        f"/api/v1/contacts/{contact_id}/may-mail",
        {"purpose": "nieuwsbrief", "mail_class": mail_class, "audience": audience},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_backdated_grant_does_not_undo_a_later_withdrawal(api, newsletter):
    person = new_customer(api, "laat@example.org")
    on_time = post(api, person, "granted", double_opt_in=False)
    assert on_time.status_code == 201 and on_time.json()["warnings"] == []
    assert may_mail(api, person, "marketing_other", "optins")["reason"] == "ok_consent"
    assert post(api, person, "withdrawn").status_code == 201

    late = post(
        api, person, "granted", when=timezone.now() - timedelta(days=365), double_opt_in=False
    )

    assert late.status_code == 201, late.content
    assert "does not overrule" in late.json()["warnings"][0]
    for mail_class, audience in AUDIENCES:
        answer = may_mail(api, person, mail_class, audience)
        # Unsubscribed from the purpose: no consent, and no soft opt-in either.
        assert answer == answer | {"allowed": False, "reason": "withdrawn"}, (audience, answer)
    history = api.get(f"/api/v1/contacts/{person}/consents").json()
    assert [s["status"] for s in history["states"]] == ["withdrawn"]


def test_a_grant_without_double_opt_in_does_not_lift_an_objection(api, newsletter):
    person = new_customer(api, "bezwaar@example.org")
    year_ago = timezone.now() - timedelta(days=365)
    assert post(api, person, "objected", purpose=None, when=year_ago).status_code == 201

    granted = post(api, person, "granted", double_opt_in=False)

    assert granted.status_code == 201, granted.content
    for mail_class, audience in AUDIENCES:
        answer = may_mail(api, person, mail_class, audience)
        assert answer["allowed"] is False and answer["reason"] == "objected", (audience, answer)


def test_a_double_opt_in_after_the_objection_allows_that_purpose_on_consent_only(api, newsletter):
    person = new_customer(api, "opnieuw@example.org")
    year_ago = timezone.now() - timedelta(days=365)
    assert post(api, person, "objected", purpose=None, when=year_ago).status_code == 201
    assert post(api, person, "granted", double_opt_in=True).status_code == 201
    assert may_mail(api, person, "marketing_other", "optins")["reason"] == "pending_confirmation"
    assert post(api, person, "confirmed").status_code == 201

    assert may_mail(api, person, "marketing_other", "optins")["reason"] == "ok_consent"
    both = may_mail(api, person, "marketing_similar", "customers_and_optins")
    assert both["basis"] == "consent"
    assert may_mail(api, person, "marketing_similar", "customers")["reason"] == "objected"


def test_a_late_objection_is_recorded_with_a_warning_and_counts_from_its_time(api, newsletter):
    person = new_customer(api, "later@example.org")
    assert post(api, person, "granted", double_opt_in=False).status_code == 201
    late = post(api, person, "objected", purpose=None, when=timezone.now() - timedelta(days=30))
    assert late.status_code == 201 and late.json()["warnings"]
    # The single opt-in consent came after the objection, but it was no double opt-in.
    assert may_mail(api, person, "marketing_other", "optins")["reason"] == "objected"


@pytest.mark.parametrize("kind", ["granted", "withdrawn", "objected"])
def test_an_event_in_the_future_is_refused_and_nothing_is_recorded(api, newsletter, kind):
    person = new_customer(api, "toekomst@example.org")
    purpose = None if kind == "objected" else "nieuwsbrief"
    response = post(api, person, kind, purpose=purpose, when=timezone.now() + timedelta(minutes=2))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert "future" in error["message"] and "occurred_at" in error["fields"]
    assert not ConsentEvent.objects.exists()


def test_an_api_client_cannot_lift_an_objection(api, newsletter):
    person = new_customer(api, "blijft@example.org")
    assert post(api, person, "objected", purpose=None).status_code == 201
    response = post(api, person, "objection_lifted", purpose=None)
    assert response.status_code == 403, response.content
    assert "customer centre" in response.json()["error"]["message"]
    assert list(ConsentEvent.objects.values_list("kind", flat=True)) == ["objected"]
    assert may_mail(api, person, "marketing_other", "optins")["reason"] == "objected"
