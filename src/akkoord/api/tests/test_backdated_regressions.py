"""Late-reported (backdated) consent events through the REST API.

The ledger records events in the order they arrive, but a person's consent
follows the time things happened: a grant dated before a withdrawal stays
withdrawn, and a grant without double opt-in never lifts an objection. Each
case is checked three ways: the API's may-I-mail answer, the API's answer to
the late event itself, and a real campaign sent through a real SMTP server.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests import conftest as campaign_fixtures
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState
from akkoord.contacts.models import Activity, Contact

# The campaign tests' fixtures (a DKIM-signing domain, a template, a real SMTP
# server, a campaign factory), made visible to this module's tests.
sending_domain = campaign_fixtures.sending_domain
template = campaign_fixtures.template
smtp_sink = campaign_fixtures.smtp_sink
repermission_template = campaign_fixtures.repermission_template
make_campaign = campaign_fixtures.make_campaign

pytestmark = pytest.mark.django_db

# (mail class, audience): the three audiences of a marketing campaign.
AUDIENCES = [
    ("marketing_similar", "customers"),
    ("marketing_similar", "customers_and_optins"),
    ("marketing_other", "optins"),
]


def create_contact(api, email):
    response = api.post("/api/v1/contacts", {"email": email}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def make_customer(api, contact_id):
    """A recent purchase at which the person was offered the chance to object."""
    response = api.post(
        f"/api/v1/contacts/{contact_id}/purchases",
        {
            "purchased_on": (timezone.localdate() - timedelta(days=20)).isoformat(),
            "description": "Wandelschoenen",
            "objection_offered": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def post_event(
    api, contact_id, kind, *, purpose="nieuwsbrief", occurred_at=None, language="nl", **extra
):
    body = {"kind": kind, "purpose": purpose, **extra}
    if kind == "granted":
        body["proof"] = {"text_shown": "Ja, stuur mij de maandelijkse nieuwsbrief."}
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.isoformat()
    return api.post(
        f"/api/v1/contacts/{contact_id}/consents",
        body,
        content_type="application/json",
        headers={"Accept-Language": language},
    )


def warnings_in(body: dict) -> list[str]:
    found = body.get("warnings", [])
    assert all(isinstance(text, str) and text.strip() for text in found), found
    return found


def may_mail(api, contact_id, mail_class, audience):
    response = api.get(
        f"/api/v1/contacts/{contact_id}/may-mail",
        {"purpose": "nieuwsbrief", "mail_class": mail_class, "audience": audience},
    )
    assert response.status_code == 200, response.content
    return response.json()


def recipients_of_campaign(make_campaign, smtp_sink, purpose, mail_class, audience):
    smtp_sink.messages.clear()
    campaign = make_campaign(purpose, mail_class, audience)
    freeze(campaign)
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url))
    assert stats.stopped_because == "finished"
    return set(smtp_sink.recipients())


@pytest.fixture
def lawful_control(api, newsletter):
    """A customer with a plain consent: every audience reaches them, so a campaign can start."""
    contact_id = create_contact(api, "controle@example.org")
    make_customer(api, contact_id)
    response = post_event(api, contact_id, "granted", double_opt_in=False)
    assert response.status_code == 201, response.content
    return "controle@example.org"


def test_a_grant_dated_before_a_withdrawal_stays_withdrawn(
    api,
    newsletter,
    lawful_control,
    make_campaign,
    smtp_sink,
):
    person = create_contact(api, "laat@example.org")
    make_customer(api, person)
    granted = post_event(api, person, "granted", double_opt_in=False)
    assert granted.status_code == 201, granted.content
    assert not warnings_in(granted.json()), "an on-time event needs no warning"
    withdrawn = post_event(api, person, "withdrawn")
    assert withdrawn.status_code == 201, withdrawn.content

    year_ago = timezone.now() - timedelta(days=365)
    late = post_event(api, person, "granted", occurred_at=year_ago, double_opt_in=False)

    assert late.status_code == 201, late.content  # recorded: the ledger keeps everything
    assert warnings_in(late.json()), f"the late grant must carry a warning: {late.json()}"
    for mail_class, audience in AUDIENCES:
        answer = may_mail(api, person, mail_class, audience)
        # The withdrawal happened after the grant it is compared with; a
        # customer who unsubscribed from the purpose loses the soft opt-in too.
        assert answer["allowed"] is False, (mail_class, audience, answer)
        assert answer["explanation"]
        assert may_mail(api, Contact.objects.get(email=lawful_control).pk, mail_class, audience)[
            "allowed"
        ]
        sent_to = recipients_of_campaign(make_campaign, smtp_sink, newsletter, mail_class, audience)
        assert sent_to == {lawful_control}, (mail_class, audience)


def test_a_grant_without_double_opt_in_does_not_lift_an_earlier_objection(
    api,
    newsletter,
    lawful_control,
    make_campaign,
    smtp_sink,
):
    person = create_contact(api, "bezwaar@example.org")
    make_customer(api, person)
    year_ago = timezone.now() - timedelta(days=365)
    objected = post_event(api, person, "objected", purpose=None, occurred_at=year_ago)
    assert objected.status_code == 201, objected.content

    granted = post_event(api, person, "granted", double_opt_in=False)
    assert granted.status_code == 201, granted.content

    for mail_class, audience in AUDIENCES:
        answer = may_mail(api, person, mail_class, audience)
        assert answer["allowed"] is False, (mail_class, audience, answer)
        sent_to = recipients_of_campaign(make_campaign, smtp_sink, newsletter, mail_class, audience)
        assert sent_to == {lawful_control}, (mail_class, audience)


def test_a_grant_dated_before_an_objection_is_recorded_with_a_warning(api, newsletter):
    person = create_contact(api, "eerder@example.org")
    assert post_event(api, person, "objected", purpose=None).status_code == 201

    year_ago = timezone.now() - timedelta(days=365)
    late = post_event(api, person, "granted", occurred_at=year_ago, double_opt_in=False)

    assert late.status_code == 201, late.content
    assert warnings_in(late.json()), f"the late grant must carry a warning: {late.json()}"
    for mail_class, audience in AUDIENCES:
        assert may_mail(api, person, mail_class, audience)["allowed"] is False


def written():
    return (
        ConsentEvent.objects.count(),
        ConsentProof.objects.count(),
        ConsentState.objects.count(),
        Activity.objects.count(),
        list(Contact.objects.values_list("pk", "objected_at")),
    )


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=30)])
@pytest.mark.parametrize(
    ("kind", "purpose"),
    [("granted", "nieuwsbrief"), ("withdrawn", "nieuwsbrief"), ("objected", None)],
)
def test_an_event_dated_in_the_future_is_refused_and_nothing_is_written(
    api, newsletter, kind, purpose, ahead
):
    person = create_contact(api, "toekomst@example.org")
    before = written()

    extra = {"double_opt_in": False} if kind == "granted" else {}
    response = post_event(
        api,
        person,
        kind,
        purpose=purpose,
        occurred_at=timezone.now() + ahead,
        language="en",
        **extra,
    )

    assert response.status_code in (400, 422), response.content
    error = response.json()["error"]
    assert "future" in error["message"].lower(), error
    assert "occurred_at" in error.get("fields", {}), error
    assert written() == before


def test_the_api_cannot_lift_an_objection(api, newsletter):
    person = create_contact(api, "blijft@example.org")
    assert post_event(api, person, "objected", purpose=None).status_code == 201
    before = written()

    response = post_event(api, person, "objection_lifted", purpose=None)

    # Only the person, in the customer centre, may end their objection.
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]["message"]
    assert written() == before
