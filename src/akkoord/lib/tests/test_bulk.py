"""lib.bulk: the fast constructor gives what the model's own constructor gives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.lib.bulk import insert_rows, unsaved

# The models the ledger and the importer build with ``unsaved``.
BUILT_FAST = (ConsentEvent, ConsentProof, ConsentState, Activity, Contact)


@pytest.mark.parametrize("model", BUILT_FAST, ids=lambda m: m.__name__)
def test_no_init_signal_receiver_is_skipped(model):
    # ``unsaved`` does not send pre_init/post_init; nothing may rely on them.
    assert not pre_init.has_listeners(model)
    assert not post_init.has_listeners(model)


@pytest.mark.parametrize("model", BUILT_FAST, ids=lambda m: m.__name__)
def test_defaults_are_the_models_own(model):
    fast, slow = unsaved(model), model()
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(
            field.default
        ):  # called per instance: a time, a new UUID, a new dict
            assert type(getattr(fast, field.attname)) is type(getattr(slow, field.attname))
            continue
        assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast._state.adding and fast._state.db is None
    assert fast.pk is None


def test_callable_defaults_are_called_per_instance():
    first, second = unsaved(Contact), unsaved(Contact)
    assert first.ledger_key != second.ledger_key


@pytest.mark.django_db
def test_unsaved_rows_are_written_and_read_back_alike():
    now = timezone.now()
    contact = unsaved(Contact, email="anna@example.nl", email_hash="x" * 64, created_at=now)
    insert_rows(Contact, [contact])
    activity = unsaved(
        Activity,
        {"contact": contact},
        contact_id=contact.pk,
        kind=ActivityKind.CREATED,
        summary="registered",
        data={"row": 2},
    )
    insert_rows(Activity, [activity])
    assert activity.contact is contact  # kept at hand, no query
    stored = Activity.objects.select_related("contact").get(pk=activity.pk)
    assert stored.contact.email == "anna@example.nl"
    assert stored.data == {"row": 2}
    assert stored.kind == ActivityKind.CREATED
    assert Contact.objects.get(pk=contact.pk).ledger_key == contact.ledger_key


@pytest.mark.django_db
def test_json_given_as_text_is_stored_as_that_text_on_postgresql():
    # The ledger hands over each proof's canonical text, which it has just hashed.
    contact = unsaved(Contact, email="bo@example.nl", email_hash="y" * 64)
    insert_rows(Contact, [contact])
    rows = [
        unsaved(Activity, contact_id=contact.pk, kind=ActivityKind.CREATED, data={"n": n})
        for n in (1, 2)
    ]
    insert_rows(Activity, rows, encoded_json={"data": ['{"n":1,"é":"ü"}', '{"n":2}']})
    stored = dict(Activity.objects.filter(contact_id=contact.pk).values_list("pk", "data"))
    if connection.vendor == "postgresql":  # COPY writes the given text
        assert stored == {rows[0].pk: {"n": 1, "é": "ü"}, rows[1].pk: {"n": 2}}
    else:  # bulk_create encodes the objects' own values
        assert stored == {rows[0].pk: {"n": 1}, rows[1].pk: {"n": 2}}
