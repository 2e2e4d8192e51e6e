"""The breach register (art. 33, 34): who is affected, and telling them.

Affected persons are chosen by a query over the data ("all contacts of purpose
X", or all contacts). Each gets one service mail of their own, archived on their
timeline; ``BreachNotice`` makes sending resumable and never doubles a mail.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from akkoord.accountability.models import Breach, BreachNotice
from akkoord.contacts.models import Contact
from akkoord.mail.outgoing import header_safe, send_service_mail
from akkoord.organisation.models import Organisation

logger = logging.getLogger(__name__)


def affected_contacts(breach: Breach) -> QuerySet:
    """Contacts the breach's selection names (none when nothing is selected)."""
    if breach.affected_all:
        return Contact.objects.all()
    if breach.affected_purpose_id:
        return Contact.objects.filter(consent_states__purpose_id=breach.affected_purpose_id)
    return Contact.objects.none()


def can_notify(breach: Breach) -> bool:
    return bool(
        breach.person_subject_nl
        and breach.person_subject_en
        and breach.person_text_nl
        and breach.person_text_en
    )


def _message(breach: Breach, language: str) -> tuple[str, str]:
    organisation = Organisation.current()
    if language == "nl":
        subject, text = breach.person_subject_nl, breach.person_text_nl
    else:
        subject, text = breach.person_subject_en, breach.person_text_en
    footer = f"\n\n-- \n{organisation.name}"
    if organisation.contact_email:
        footer += f"\n{organisation.contact_email}"
    return header_safe(subject), text + footer


def notify_affected(breach_id: int, *, actor: str = "system") -> int:
    """Mail every affected person not yet notified; returns how many were sent now."""
    breach = Breach.objects.get(pk=breach_id)
    if not can_notify(breach):
        return 0
    already = BreachNotice.objects.filter(breach=breach).values("contact_id")
    pending = affected_contacts(breach).exclude(pk__in=already).distinct().order_by("pk")
    sent = 0
    for contact in pending.iterator(chunk_size=500):
        subject, text = _message(breach, contact.language)
        try:
            with transaction.atomic():
                BreachNotice.objects.create(breach=breach, contact=contact)
                send_service_mail(
                    to=contact.email,
                    subject=subject,
                    text=text,
                    contact=contact,
                    template="accountability/breach",
                    language=contact.language,
                    actor=actor,
                )
        except IntegrityError:
            continue  # another worker sent this one
        except Exception:  # noqa: BLE001 - one failed address must not stop the rest
            logger.warning("breach %s: a notification could not be sent", breach.pk)
            continue
        sent += 1
    Breach.objects.filter(pk=breach.pk).update(
        persons_notified=BreachNotice.objects.filter(breach=breach).count()
    )
    return sent
