"""The API endpoint for reports from anything else: own scope, idempotent, clear refusals."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from akkoord.api.models import ApiKey, Scope
from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.contacts.models import Contact
from akkoord.deliverability import verp
from akkoord.deliverability.models import DeliveryReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(make_campaign, newsletter, contact):
    campaign = make_campaign(newsletter, mail_class="marketing_other", audience="optins")
    return Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        language="nl",
        basis="consent",
        reason="ok_consent",
        status=DeliveryStatus.SENT,
        sent_at=timezone.now() - timedelta(minutes=1),
        message_id="<api1@mail.example.com>",
    )


def client_with(*scopes):
    _key, token = ApiKey.issue("relay-" + "-".join(scopes), list(scopes))
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(client, payload):
    return client.post("/api/v1/delivery-reports", payload, content_type="application/json")


def test_a_hard_bounce_by_return_path_is_recorded_once(delivery, settings):
    settings.AKKOORD_BOUNCE_DOMAIN = "bounce.example.com"
    api = client_with(Scope.REPORTS_WRITE)
    payload = {
        "kind": "hard_bounce",
        "report_id": "relay-77",
        "return_path": verp.envelope_sender(delivery.campaign, delivery.pk),
        "status": "5.1.1",
    }
    first = post(api, payload)
    assert first.status_code == 201, first.content
    assert first.json()["delivery"] == delivery.pk
    assert post(api, payload).json()["outcome"] == "duplicate"
    assert DeliveryReport.objects.count() == 1
    assert Contact.objects.get(pk=delivery.contact_id).hard_bounced_at is not None


def test_the_endpoint_needs_its_own_scope(delivery):
    api = client_with(Scope.CONSENT_WRITE, Scope.CONTACTS_WRITE)
    response = post(api, {"kind": "complaint", "report_id": "x", "message_id": delivery.message_id})
    assert response.status_code == 403
    assert DeliveryReport.objects.count() == 0


def test_an_unknown_message_and_a_future_date_are_refused_with_a_reason(delivery):
    api = client_with(Scope.REPORTS_WRITE)
    unknown = post(api, {"kind": "complaint", "report_id": "x", "message_id": "<nope@x>"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_delivery"
    future = (timezone.now() + timedelta(days=1)).isoformat()
    late = post(
        api,
        {"kind": "complaint", "report_id": "y", "message_id": delivery.message_id,
         "occurred_at": future},
    )  # fmt: skip
    assert late.status_code == 422
    assert DeliveryReport.objects.count() == 0
