"""Links into the customer centre, for this app and any other (privacy confirmation, mails).

A link carries a signed token of kind ``tokens.CENTRE`` that names the person by
their pseudonymous ledger key, never by address. It is valid for the number of
days the organisation chose (21 by default).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from akkoord.lib import tokens


def link_age() -> timedelta:
    from akkoord.organisation.models import Organisation

    return timedelta(days=Organisation.current().centre_link_days)


def centre_token(contact) -> str:
    return tokens.make_token(tokens.CENTRE, contact)


def centre_path(contact) -> str:
    return reverse("centre:home", args=[centre_token(contact)])


def centre_url(contact) -> str:
    """The absolute link to ``contact``'s customer centre (for use in mails)."""
    return settings.AKKOORD_BASE_URL + centre_path(contact)


def contact_for_centre_token(token: str):
    """The contact a valid centre token names; ``tokens.InvalidToken`` otherwise.

    Tampered, expired, wrong-kind (e.g. an unsubscribe token) and tokens of
    erased people are all refused alike.
    """
    contact, _extra = tokens.contact_for_token(tokens.CENTRE, token, max_age=link_age())
    return contact
