"""Removing unconfirmed sign-ups after their period.

An unconfirmed sign-up may have been typed by someone else, so its contact is
removed *without* suppressing the address (``erase_contact`` would put it on
the suppression list): the person can sign up again later. The ledger keeps
its events; their proofs go and an ``Erasure`` marker keeps ``ledger verify``
passing.

A contact that existed before the sign-up stays: each unconfirmed grant gets an
``expired`` event (so it counts as if it never happened and the state is what
it was before it) and that grant's proof (IP, user agent) is erased on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from akkoord.consent.ledger import erase_event_proof, record_event
from akkoord.consent.models import Channel, ConsentEvent, ConsentProof, ConsentState, Erasure
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts import erasure
from akkoord.contacts.models import Activity, ActivityKind, Contact, ErasureLog
from akkoord.signup.models import PendingSignup

logger = logging.getLogger(__name__)

_ONLY_SIGNUP_ACTIVITY = {ActivityKind.CREATED, ActivityKind.CONSENT, ActivityKind.MAIL}


@dataclass
class ExpiryReport:
    signups_removed: int = 0
    contacts_removed: int = 0


def discard_unconfirmed_contact(contact: Contact) -> None:
    """Delete a contact that only ever existed as an unconfirmed sign-up.

    Like ``erase_contact`` (every registered eraser runs, proofs go, the ledger
    still verifies) but the address is not suppressed.
    """
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        for eraser in list(erasure._erasers):
            eraser(contact)
        ConsentProof.objects.filter(subject_key=contact.ledger_key).delete()
        Erasure.objects.get_or_create(subject_key=contact.ledger_key)
        ErasureLog.objects.create(reason="unconfirmed", via="retention")
        contact.delete()


def _only_an_unconfirmed_signup(contact: Contact) -> bool:
    if contact.informed_at is not None or contact.purchases.exists():
        return False
    if PendingSignup.objects.filter(contact=contact).exists():
        return False
    if ConsentState.objects.filter(contact=contact).exclude(status=ConsentStatus.PENDING).exists():
        return False
    if contact.has_objected or contact.complained_at is not None:
        return False
    return (
        not Activity.objects.filter(contact=contact)
        .exclude(kind__in=_ONLY_SIGNUP_ACTIVITY)
        .exists()
    )


def _expire_grants(contact: Contact, signup: PendingSignup) -> None:
    """Record the expiry of each grant of ``signup`` and erase that grant's proof."""
    seqs = [grant["seq"] for grant in signup.grants]
    confirmed = set(
        ConsentEvent.objects.filter(
            subject_key=contact.ledger_key, kind=EventKind.CONFIRMED, confirms_seq__in=seqs
        ).values_list("confirms_seq", flat=True)
    )
    grants = ConsentEvent.objects.filter(
        subject_key=contact.ledger_key, kind=EventKind.GRANTED, seq__in=seqs
    ).select_related("purpose")
    for grant in grants:
        if grant.seq in confirmed:
            continue
        record_event(
            contact,
            grant.purpose,
            EventKind.EXPIRED,
            channel=Channel.SYSTEM,
            channel_ref="signup-expiry",
            confirms_seq=grant.seq,
            occurred_at=min(signup.expires_at, timezone.now()),
            proof={"pending_signup": signup.pk, "expired_at": signup.expires_at.isoformat()},
        )
        erase_event_proof(grant, "expired")


def expire_unconfirmed(now=None) -> ExpiryReport:
    """Delete sign-ups past their expiry, and contacts that were nothing more."""
    now = now or timezone.now()
    report = ExpiryReport()
    expired = PendingSignup.objects.filter(confirmed_at__isnull=True, expires_at__lte=now)
    by_contact: dict[int, bool] = {}
    for contact_id, created in expired.values_list("contact_id", "created_contact"):
        by_contact[contact_id] = by_contact.get(contact_id, False) or created
    for contact_id, created in by_contact.items():
        with transaction.atomic():
            signups = list(
                PendingSignup.objects.filter(
                    contact_id=contact_id, confirmed_at__isnull=True, expires_at__lte=now
                )
            )
            PendingSignup.objects.filter(pk__in=[p.pk for p in signups]).delete()
            report.signups_removed += len(signups)
            contact = Contact.objects.filter(pk=contact_id).first()
            if contact is None:
                continue
            if created and _only_an_unconfirmed_signup(contact):
                discard_unconfirmed_contact(contact)
                report.contacts_removed += 1
            else:
                for signup in signups:
                    _expire_grants(contact, signup)
    logger.info(
        "expired %s unconfirmed sign-ups, removed %s contacts",
        report.signups_removed,
        report.contacts_removed,
    )
    return report
