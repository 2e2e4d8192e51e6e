"""``Contact.suppression`` joins the suppression list in queries and nothing else."""

import pytest

from akkoord.consent.models import Suppression
from akkoord.contacts.models import Contact


@pytest.mark.django_db
@pytest.mark.parametrize("suppressed", [False, True])
def test_full_clean_leaves_the_hash_alone(suppressed):
    contact = Contact.objects.create(
        email="someone@example.org", email_hash="a" * 64, source_kind="import"
    )
    if suppressed:
        Suppression.objects.create(email_hash=contact.email_hash)
    contact.full_clean()
    assert contact.email_hash == "a" * 64


@pytest.mark.django_db
def test_the_join_finds_the_row_by_hash():
    kept = Contact.objects.create(email="kept@example.org", email_hash="b" * 64, source_kind="api")
    gone = Contact.objects.create(email="gone@example.org", email_hash="c" * 64, source_kind="api")
    Suppression.objects.create(email_hash=gone.email_hash)
    found = Contact.objects.filter(suppression__pk__isnull=False).values_list("pk", flat=True)
    assert list(found) == [gone.pk]
    assert kept.pk not in found
