"""A similar-products campaign reaches only customers who bought something similar (DOMAIN §3).

Sent for real through the SMTP sink. Expected recipients are written down per
person from the rule (soft opt-in: a customer with a purchase in a similar
category within the customer period; or consent), not computed by the engine.
"""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.campaigns.audience import engine_args, freeze, preview
from akkoord.campaigns.deliveries import explain_delivery
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Delivery
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import grant, make_population
from akkoord.consent import audiences, rules
from akkoord.contacts.models import Contact, ProductCategory, Purchase
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.organisation.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories(db):
    bicycles = ProductCategory.objects.create(key="bicycles", name_nl="Fietsen", name_en="Bicycles")
    ebikes = ProductCategory.objects.create(key="ebikes", name_nl="E-bikes", name_en="E-bikes")
    repairs = ProductCategory.objects.create(key="repairs", name_nl="Reparaties", name_en="Repairs")
    bicycles.similar_to.add(ebikes)
    return {"bicycles": bicycles, "ebikes": ebikes, "repairs": repairs}


def person(name, *purchases, consent_for=None):
    contact, _created = register_contact(
        {"email": f"{name.lower()}@example.org", "first_name": name},
        source_kind="staff",
        actor="test",
    )
    for days_ago, category, what in purchases:
        record_purchase(
            contact,
            purchased_on=timezone.localdate() - timedelta(days=days_ago),
            description=what,
            objection_offered=True,
            category=category,
        )
    if consent_for is not None:
        grant(contact, consent_for)
    return contact


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("customers", {"anna", "bram"}),
        ("customers_and_optins", {"anna", "bram", "eva"}),
    ],
)
def test_only_customers_with_a_similar_purchase_in_the_period_are_mailed(
    newsletter, make_campaign, smtp_sink, categories, audience, expected
):
    person("Anna", (30, "bicycles", "a city bicycle"))
    person("Bram", (400, "ebikes", "an e-bike"))  # similar to bicycles
    person("Cees", (30, "repairs", "a new chain"))  # only an unrelated product
    person("Dirk", (30, "repairs", "a repair"), (365 * 5, "bicycles", "an old bicycle"))
    person("Eva", (30, "repairs", "a repair"), consent_for=newsletter)
    person("Fleur")
    campaign = make_campaign(newsletter, "marketing_similar", audience)
    campaign.categories.set([categories["bicycles"]])

    shown = preview(campaign)
    unrelated = dict((reason, count) for reason, _text, count in shown.excluded)
    assert unrelated["bought_unrelated"] == (3 if audience == "customers" else 2)

    assert freeze(campaign) == len(expected)
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), batch_size=5, commit_every=2)
    assert stats.stopped_because == "finished"
    assert sorted(smtp_sink.recipients()) == sorted(f"{n}@example.org" for n in expected)
    excluded = set(
        campaign.exclusions.filter(reason="bought_unrelated").values_list(
            "contact__first_name", flat=True
        )
    )
    assert excluded == ({"Cees", "Dirk", "Eva"} - ({"Eva"} if "optins" in audience else set()))


def test_why_did_this_person_get_this_mail_names_the_purchase(
    newsletter, make_campaign, categories
):
    anna = person("Anna", (300, "ebikes", "an e-bike"), (10, "repairs", "a puncture repair"))
    campaign = make_campaign(newsletter, "marketing_similar", "customers")
    campaign.categories.set([categories["bicycles"]])
    freeze(campaign)

    delivery = Delivery.objects.get(campaign=campaign, contact=anna)
    bike = Purchase.objects.get(contact=anna, category__key="ebikes")
    assert delivery.customer_purchase == bike
    text = explain_delivery(delivery)
    assert "an e-bike" in text and bike.purchased_on.isoformat() in text


def test_a_generated_population_gets_exactly_what_the_engine_allows(
    newsletter, make_campaign, smtp_sink, categories
):
    make_population(newsletter, 60)
    rng = random.Random(11)
    keys = list(categories)
    for purchase in Purchase.objects.all():
        purchase.category = categories[rng.choice(keys)]
        purchase.save(update_fields=["category"])
    campaign = make_campaign(newsletter, "marketing_similar", "customers_and_optins")
    campaign.categories.set([categories["ebikes"]])
    args = engine_args(campaign)
    assert args["similar_categories"] == frozenset({"bicycles", "ebikes"})
    expected = set()
    for contact in Contact.objects.all():
        decision = rules.decide(
            audiences.facts_for(contact, newsletter),
            rules.MailClass.MARKETING_SIMILAR,
            rules.Audience.CUSTOMERS_AND_OPTINS,
            today=args["today"],
            customer_months=args["customer_months"],
            similar_categories=args["similar_categories"],
        )
        if decision.allowed:
            expected.add(contact.email)
    assert freeze(campaign) == len(expected)
    run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), batch_size=9, commit_every=3)
    assert sorted(smtp_sink.recipients()) == sorted(expected)


def test_the_check_at_sending_asks_about_similar_products_too(
    newsletter, make_campaign, smtp_sink, categories
):
    # DOMAIN §3: the soft opt-in covers similar products only, and it is checked
    # again at the moment of sending. Anna's bicycle leaves the customer period
    # while the campaign waits; her recent repair is not similar to bicycles.
    person("Anna", (400, "bicycles", "a city bicycle"), (10, "repairs", "a repair"))
    person("Bram", (30, "ebikes", "an e-bike"))
    campaign = make_campaign(newsletter, "marketing_similar", "customers")
    campaign.categories.set([categories["bicycles"]])
    assert freeze(campaign) == 2  # both, with the default period of 24 months

    Organisation.objects.update(customer_relationship_months=12)
    stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), batch_size=5, commit_every=2)

    assert stats.stopped_because == "finished"
    assert smtp_sink.recipients() == ["bram@example.org"]
    assert Delivery.objects.get(campaign=campaign, contact__first_name="Anna").status == "skipped"
