"""A purchase's optional amount: validated in the service, entered by staff, shown, exported."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from akkoord.centre.data import person_data
from akkoord.contacts.models import Purchase
from akkoord.contacts.services import clean_amount, record_purchase

DAY = timezone.localdate() - timedelta(days=2)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("12.5", Decimal("12.50")),
        (" 0 ", Decimal("0.00")),
        (7, Decimal("7.00")),
        (Decimal("9999999999.99"), Decimal("9999999999.99")),
        ("-0", Decimal("0.00")),
    ],
)
def test_amounts_that_are_accepted(value, expected):
    assert clean_amount(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-1", "cannot be negative"),
        ("10000000000", "at most"),
        ("1.005", "two decimals"),
        ("twaalf", "as a number"),
        ("NaN", "as a number"),
        ("Infinity", "as a number"),
        (True, "as a number"),
        (12.5, "as a number"),
        ([1], "as a number"),
    ],
)
def test_amounts_that_are_refused(value, fragment):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        clean_amount(value)
    assert fragment in " ".join(caught.value.message_dict["amount"])


def test_a_refused_amount_writes_nothing(contact):
    with pytest.raises(ValidationError) as caught:
        record_purchase(
            contact, purchased_on=DAY, description="Fiets", objection_offered=True, amount="-5"
        )
    assert set(caught.value.message_dict) == {"amount"}
    assert not Purchase.objects.exists()
    contact.refresh_from_db()
    assert contact.last_purchase_on is None


def test_amount_is_stored_on_the_timeline_and_in_the_persons_export(contact):
    record_purchase(
        contact, purchased_on=DAY, description="Fiets", objection_offered=True, amount="499.95"
    )
    record_purchase(contact, purchased_on=DAY, description="Bel", objection_offered=True)
    amounts = sorted(Purchase.objects.values_list("description", "amount"))
    assert amounts == [("Bel", None), ("Fiets", Decimal("499.95"))]
    activity = contact.activities.filter(kind="purchase", data__description="Fiets").get()
    assert activity.data["amount"] == "499.95"
    exported = person_data(contact)["customer"]["purchases"]
    assert [(p["description"], p["amount"], p["category"]) for p in exported] == [
        ("Fiets", "499.95", "uncategorised"),
        ("Bel", None, "uncategorised"),
    ]


def test_staff_enter_an_amount_and_see_it_on_the_contact(marketer_client, contact):
    url = f"/contacts/{contact.pk}/purchases/new/"
    response = marketer_client.post(
        url,
        {"purchased_on": DAY.isoformat(), "description": "Racefiets", "amount": "1299,50"},
    )
    assert response.status_code == 302, response.content
    assert Purchase.objects.get().amount == Decimal("1299.50")
    page = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "1.299,50" in page


def test_staff_cannot_enter_a_negative_amount(marketer_client, contact):
    url = f"/contacts/{contact.pk}/purchases/new/"
    response = marketer_client.post(
        url, {"purchased_on": DAY.isoformat(), "description": "Racefiets", "amount": "-3"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Purchase.objects.exists()


def test_the_largest_amount_is_named_in_the_readers_language():
    with pytest.raises(ValidationError) as caught:
        clean_amount("10000000000")
    assert caught.value.message_dict["amount"] == ["Een bedrag is hoogstens 9.999.999.999,99."]
