"""Recording an unsubscribe from a mail's link: once, and never refused.

Called by the one-click unsubscribe page (``public_views.unsubscribe``).
"""

from __future__ import annotations

from django.db import transaction

from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Contact
from akkoord.lib.db import retry_when_locked


def unsubscribe(contact: Contact, purpose: Purpose, *, campaign_id, proof: dict) -> bool:
    """Withdraw ``contact``'s consent for ``purpose``; True if recorded now.

    Many posts for one person can arrive at once (a mailbox provider's
    one-click post, the person's own click, a retry): the state is checked
    inside the transaction, with the contact's row locked (PostgreSQL; on
    SQLite the transaction holds the database's write lock from its start),
    so exactly one ``withdrawn`` event is recorded. When SQLite is busy with
    a long writer the write is retried (``retry_when_locked``) rather than
    refused.
    """

    def withdraw() -> bool:
        with transaction.atomic():
            locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
            if locked is None:  # erased meanwhile: nothing left to withdraw
                return False
            if current_consent(locked, purpose).status == ConsentStatus.WITHDRAWN:
                return False
            record_event(
                locked,
                purpose,
                EventKind.WITHDRAWN,
                channel=Channel.UNSUBSCRIBE,
                channel_ref=f"campaign:{campaign_id}",
                proof=proof,
                actor="unsubscribe link",
            )
            return True

    return retry_when_locked(withdraw)
