"""The purchase endpoint takes an optional amount and refuses bad ones with 422."""

from decimal import Decimal

import pytest

from akkoord.contacts.models import Purchase


def _post(api, contact, **extra):
    return api.post(
        f"/api/v1/contacts/{contact.pk}/purchases",
        {"purchased_on": "2026-11-01", "description": "Fiets", "objection_offered": True, **extra},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("amount", "stored", "shown"),
    [("12.50", Decimal("12.50"), "12.50"), (80, Decimal("80.00"), "80.00"), (None, None, None)],
)
def test_amount_is_stored_and_returned(api, contact, amount, stored, shown):
    response = _post(api, contact, amount=amount)
    assert response.status_code == 201, response.content
    assert Purchase.objects.get().amount == stored
    listed = api.get(f"/api/v1/contacts/{contact.pk}/purchases").json()
    assert [p["amount"] for p in listed] == [shown]
    assert [p["amount"] for p in listed] == [response.json()["amount"]]


def test_amount_may_be_left_out(api, contact):
    assert _post(api, contact).status_code == 201
    assert Purchase.objects.get().amount is None


@pytest.mark.parametrize("amount", [-1, "-0.01", "1.234", "1e20", "NaN", "twaalf", True, [5]])
def test_bad_amounts_are_refused_with_422(api, contact, amount):
    response = _post(api, contact, amount=amount)
    assert response.status_code == 422, response.content
    assert "amount" in str(response.json()["error"])
    assert not Purchase.objects.exists()
