"""Erasing a person for good (GDPR art. 17), from every table.

What remains afterwards: the ledger events (which hold only a pseudonym and
digests), an ``Erasure`` marker for that pseudonym so the ledger still
verifies, a keyed hash of the address on the suppression list, and an anonymous
``ErasureLog`` row for counts.

Apps that keep personal data outside the tables that cascade from ``Contact``
(queued messages, pending sign-ups, archived bodies...) register an eraser::

    from akkoord.contacts.erasure import register_eraser

    @register_eraser
    def erase_my_rows(contact):
        MyModel.objects.filter(email=contact.email).delete()

Erasers run inside the erasure's transaction, before the contact row goes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from akkoord.consent.models import ConsentProof, Erasure, Suppression
from akkoord.contacts.models import Contact, ErasureLog

_erasers: list[Callable[[Contact], None]] = []


def register_eraser(fn: Callable[[Contact], None]) -> Callable[[Contact], None]:
    if fn not in _erasers:
        _erasers.append(fn)
    return fn


def erase_contact(contact: Contact, *, reason: str, via: str) -> None:
    """Remove ``contact``'s personal data everywhere and suppress the address."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        for eraser in _erasers:
            eraser(contact)
        ConsentProof.objects.filter(subject_key=contact.ledger_key).delete()
        Erasure.objects.get_or_create(subject_key=contact.ledger_key)
        Suppression.objects.update_or_create(
            email_hash=contact.email_hash,
            defaults={"reason": reason[:30], "created_at": timezone.now()},
        )
        ErasureLog.objects.create(reason=reason[:30], via=via[:30])
        contact.delete()
