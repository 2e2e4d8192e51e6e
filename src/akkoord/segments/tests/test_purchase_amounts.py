"""Segment conditions on purchase amounts: each purchase at least (min_amount), together at
least (min_total). The people expected are written down per person, not computed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.contacts.models import ProductCategory
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.segments.conditions import SegmentError, matching_contacts, validate

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def shop():
    """Six people and what they bought (category, days ago, amount):

    * Anna: bikes 10 days ago 100.00, bikes 20 days ago 250.00 (bikes: 2, total 350.00)
    * Bram: bikes 10 days ago 400.00
    * Cees: bikes 10 days ago without an amount, books 10 days ago 500.00
    * Dirk: bikes 10, 20 and 30 days ago, 49.99 each (bikes: 3, total 149.97)
    * Eva: nothing
    * Fenna: bikes 400 days ago 300.00
    """
    bikes = ProductCategory.objects.create(key="bikes", name_nl="Fietsen", name_en="Bikes")
    books = ProductCategory.objects.create(key="books", name_nl="Boeken", name_en="Books")
    bought = {
        "Anna": [(bikes, 10, "100.00"), (bikes, 20, "250.00")],
        "Bram": [(bikes, 10, "400.00")],
        "Cees": [(bikes, 10, None), (books, 10, "500.00")],
        "Dirk": [(bikes, 10, "49.99"), (bikes, 20, "49.99"), (bikes, 30, "49.99")],
        "Eva": [],
        "Fenna": [(bikes, 400, "300.00")],
    }
    for name, purchases in bought.items():
        contact, _created = register_contact(
            {"email": f"{name.lower()}@example.org", "first_name": name},
            source_kind="staff",
            actor="test",
        )
        for category, days, amount in purchases:
            record_purchase(
                contact,
                purchased_on=TODAY - timedelta(days=days),
                description="iets",
                objection_offered=True,
                category=category,
                amount=amount,
            )


def names(op, **options):
    definition = {"match": "all", "conditions": [{"field": "purchase", "op": op, "value": options}]}
    return set(matching_contacts(definition).values_list("first_name", flat=True))


def test_each_purchase_at_least_an_amount(shop):
    assert names("has", categories=["bikes"], min_amount=200) == {"Anna", "Bram", "Fenna"}
    assert names("has_not", categories=["bikes"], min_amount=200) == {"Cees", "Dirk", "Eva"}
    # Cees's bike has no amount: it never meets an amount condition, not even 0.
    assert names("has", categories=["bikes"], min_amount=0) == {"Anna", "Bram", "Dirk", "Fenna"}
    assert names("has", categories=["bikes"], min_amount=49.99, min_count=3) == {"Dirk"}
    assert names("has", categories=["bikes"], min_amount=50, min_count=2) == {"Anna"}


def test_purchases_adding_up_to_a_total(shop):
    assert names("has", categories=["bikes"], min_total=300) == {"Anna", "Bram", "Fenna"}
    assert names("has_not", categories=["bikes"], min_total=300) == {"Cees", "Dirk", "Eva"}
    assert names("has", categories=["bikes"], min_total=149.97) == {
        "Anna",
        "Bram",
        "Dirk",
        "Fenna",
    }
    assert names("has", categories=["bikes"], min_total=149.98) == {"Anna", "Bram", "Fenna"}
    # Over every category: only Cees's books reach 500.
    assert names("has", min_total=500) == {"Cees"}
    # Fenna's bike is older than a year.
    year_ago = (TODAY - timedelta(days=365)).isoformat()
    assert names("has", categories=["bikes"], on_or_after=year_ago, min_total=300) == {
        "Anna",
        "Bram",
    }


def test_count_and_total_together(shop):
    assert names("has", categories=["bikes"], min_count=2, min_total=100) == {"Anna", "Dirk"}
    assert names("has", categories=["bikes"], min_count=2, min_total=200) == {"Anna"}
    assert names("has_not", categories=["bikes"], min_count=2, min_total=200) == {
        "Bram",
        "Cees",
        "Dirk",
        "Eva",
        "Fenna",
    }
    # A total of 0 asks only for the purchases: Cees's bike without an amount counts.
    assert names("has", categories=["bikes"], min_total=0) == {
        "Anna",
        "Bram",
        "Cees",
        "Dirk",
        "Fenna",
    }


@pytest.mark.parametrize("name", ["min_amount", "min_total"])
@pytest.mark.parametrize(
    "value",
    ["100", True, False, None, -1, -0.01, 1.005, 10**10, 10**30, 1e308, float("inf"), [5], {}],
)
def test_amounts_that_are_not_numbers_or_out_of_range_are_refused(name, value):
    definition = {
        "match": "all",
        "conditions": [{"field": "purchase", "op": "has", "value": {name: value}}],
    }
    with pytest.raises(SegmentError) as error:
        validate(definition)
    assert name in str(error.value)


def test_the_largest_amount_is_accepted():
    for name in ("min_amount", "min_total"):
        validate(
            {
                "match": "all",
                "conditions": [{"field": "purchase", "op": "has", "value": {name: 9999999999.99}}],
            }
        )
