"""Erasure of caught mail: the local mail catcher keeps whole messages, which
name the person (address, often name and links), so erasing a person must
remove the messages addressed to them too."""

from __future__ import annotations

from django.db.models import Q

from akkoord.contacts.emails import ascii_email
from akkoord.mail.models import CaughtMessage


def erase_caught_mail(contact) -> None:
    """Delete every caught message with one of ``contact``'s address forms as a recipient."""
    forms = {contact.email.lower(), ascii_email(contact.email).lower()}
    maybe = Q()
    for form in forms:
        maybe |= Q(recipients__icontains=form)
    # icontains narrows the search; the exact line match keeps "xa@b.nl" when erasing "a@b.nl".
    doomed = [
        message.pk
        for message in CaughtMessage.objects.filter(maybe).only("pk", "recipients")
        if forms & {line.strip().lower() for line in message.recipients.splitlines()}
    ]
    CaughtMessage.objects.filter(pk__in=doomed).delete()
