"""Segment conditions select the contacts a staff user means, and bad ones say why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.campaigns.tests.conftest import grant
from akkoord.contacts.models import ProductCategory
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.segments.conditions import SegmentError, matching_contacts, validate
from akkoord.segments.models import Tag

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def person(name, language="nl"):
    contact, _created = register_contact(
        {"email": f"{name.lower()}@example.org", "first_name": name, "language": language},
        source_kind="staff",
        actor="test",
    )
    return contact


def names(definition):
    return set(matching_contacts(definition).values_list("first_name", flat=True))


def test_english_speakers_who_bought_two_bicycles_in_two_years_or_are_tagged():
    bikes = ProductCategory.objects.create(key="bikes", name_nl="Fietsen", name_en="Bikes")
    anna, bram, cees = person("Anna", "en"), person("Bram", "en"), person("Cees", "nl")
    for days in (10, 300):
        record_purchase(
            anna,
            purchased_on=TODAY - timedelta(days=days),
            description="fiets",
            objection_offered=True,
            category=bikes,
        )
    record_purchase(
        bram,
        purchased_on=TODAY - timedelta(days=10),
        description="fiets",
        objection_offered=True,
        category=bikes,
    )
    Tag.objects.create(name="vip").contacts.add(cees)
    two_bikes = {
        "field": "purchase",
        "op": "has",
        "value": {
            "categories": ["bikes"],
            "on_or_after": (TODAY - timedelta(days=730)).isoformat(),
            "min_count": 2,
        },
    }
    definition = {
        "match": "any",
        "conditions": [
            {
                "match": "all",
                "conditions": [{"field": "language", "op": "equals", "value": "en"}, two_bikes],
            },
            {"field": "tag", "op": "has", "value": "vip"},
        ],
    }
    assert names(definition) == {"Anna", "Cees"}
    assert names({"match": "all", "conditions": [{**two_bikes, "op": "has_not"}]}) == {
        "Bram",
        "Cees",
    }


def test_consent_dates_per_purpose_and_campaign_history(newsletter, make_campaign):
    anna, bram = person("Anna"), person("Bram")
    grant(anna, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    Delivery.objects.create(
        campaign=campaign,
        contact=bram,
        language="nl",
        basis="consent",
        reason="ok_consent",
        status=DeliveryStatus.SENT,
    )
    consent = {
        "field": "consent",
        "op": "has",
        "value": {"purpose": newsletter.pk, "granted_on_or_after": TODAY.isoformat()},
    }
    assert names({"match": "all", "conditions": [consent]}) == {"Anna"}
    received = {"field": "campaign", "op": "received", "value": campaign.pk}
    assert names({"match": "all", "conditions": [received]}) == {"Bram"}
    assert names({"match": "all", "conditions": [{**received, "op": "not_received"}]}) == {"Anna"}


@pytest.mark.parametrize(
    "definition",
    [
        None,
        {"match": "some", "conditions": []},
        {"match": "all", "conditions": [{"field": "shoe_size", "op": "equals", "value": "44"}]},
        {"match": "all", "conditions": [{"field": "language", "op": "equals", "value": "fr"}]},
        {
            "match": "all",
            "conditions": [{"field": "created_at", "op": "before", "value": "gisteren"}],
        },
        {
            "match": "all",
            "conditions": [{"field": "purchase", "op": "has", "value": {"min_count": 0}}],
        },
        {"match": "all", "conditions": [{"field": "consent", "op": "has", "value": {}}]},
        # Numbers no database column holds: refused before they reach a query.
        {
            "match": "all",
            "conditions": [{"field": "consent", "op": "has", "value": {"purpose": 2**63}}],
        },
        {"match": "all", "conditions": [{"field": "campaign", "op": "received", "value": 2**64}]},
        {
            "match": "all",
            "conditions": [{"field": "purchase", "op": "has", "value": {"min_count": 10**30}}],
        },
    ],
)
def test_a_bad_definition_is_refused_with_a_reason(definition):
    with pytest.raises(SegmentError) as error:
        validate(definition)
    assert str(error.value)
