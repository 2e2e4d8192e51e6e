"""lib.lookups: ``__in_many`` finds exactly what ``__in`` finds, on either database."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from akkoord.contacts.models import Activity, ActivityKind, Contact

pytestmark = pytest.mark.django_db

ADDRESSES = ["ana@example.org", "bo@example.nl", "čeněk@example.cz", "dé'o@example.org"]


@pytest.fixture
def contacts():
    return [Contact.objects.create(email=address) for address in ADDRESSES]


def both(**lookup):
    """The ids ``__in`` and ``__in_many`` give for ``{field: values}``."""
    ((field, values),) = lookup.items()
    plain = set(Contact.objects.filter(**{f"{field}__in": values}).values_list("pk", flat=True))
    many = set(Contact.objects.filter(**{f"{field}__in_many": values}).values_list("pk", flat=True))
    return plain, many


@pytest.mark.parametrize(
    "values",
    [
        ADDRESSES[:2],
        ADDRESSES[2:],  # non-ASCII and a quote travel inside the array unharmed
        ["nobody@example.org", ADDRESSES[0], ADDRESSES[0]],  # unknown and repeated values
        [None, ADDRESSES[1]],  # None matches nothing, as with __in
        [],
        [None],
    ],
    ids=["two", "odd-characters", "unknown-and-repeated", "with-none", "empty", "only-none"],
)
def test_text_values(contacts, values):
    plain, many = both(email=values)
    expected = {c.pk for c in contacts if c.email in values}  # what IN means
    assert plain == many == expected


def test_uuid_integer_and_generator_values(contacts):
    keys = [contacts[1].ledger_key, uuid.uuid4()]
    assert both(ledger_key=keys) == ({contacts[1].pk},) * 2
    ids = (c.pk for c in contacts[:3])  # any iterable, as with __in
    assert set(Contact.objects.filter(pk__in_many=ids).values_list("pk", flat=True)) == {
        c.pk for c in contacts[:3]
    }


def test_a_subquery_is_still_a_subquery(contacts):
    inner = Contact.objects.filter(email__startswith="a").values("pk")
    plain, many = both(pk=inner)
    assert plain == many == {contacts[0].pk}


def test_postgresql_sends_one_array_parameter(contacts):
    sql, params = (
        Contact.objects.filter(email__in_many=ADDRESSES).values("pk").query.sql_with_params()
    )
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and list(params) == [ADDRESSES]
    else:
        assert " IN (" in sql and len(params) == len(ADDRESSES)


def test_a_foreign_key_takes_ids(contacts):
    for contact in contacts:
        Activity.objects.create(contact=contact, kind=ActivityKind.CREATED, summary="x")
    ids = [contacts[0].pk, contacts[3].pk]
    plain = set(Activity.objects.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    many = set(
        Activity.objects.filter(contact_id__in_many=ids).values_list("contact_id", flat=True)
    )
    assert plain == many == set(ids)
