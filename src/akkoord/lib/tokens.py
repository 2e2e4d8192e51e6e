"""Signed, expiring, typed links for people without an account.

A token names a person by the pseudonymous ``Contact.ledger_key`` (never the
address) and is bound to one *kind* (customer centre, unsubscribe, double
opt-in confirmation, re-permission answer...): the signing salt differs per kind,
so a token of one kind is worthless as another. Tampered, expired, unknown and
wrong-kind tokens all raise the same ``InvalidToken``, so callers answer them
alike and reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

CENTRE = "centre"
UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
REPERMISSION = "repermission"
KINDS = {CENTRE, UNSUBSCRIBE, CONFIRM, REPERMISSION}


class InvalidToken(Exception):
    """The link is not valid (for whatever reason: deliberately not said)."""


@dataclass(frozen=True)
class TokenData:
    subject: str  # Contact.ledger_key as hex
    extra: dict


def _salt(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    return f"akkoord.token.{kind}"


def make_token(kind: str, contact, **extra) -> str:
    payload = {"s": contact.ledger_key.hex, **({"x": extra} if extra else {})}
    return signing.dumps(payload, salt=_salt(kind), compress=True)


def read_token(kind: str, token: str, *, max_age: timedelta | None) -> TokenData:
    try:
        payload = signing.loads(token, salt=_salt(kind), max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidToken from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        raise InvalidToken
    return TokenData(subject=payload["s"], extra=payload.get("x") or {})


def contact_for_token(kind: str, token: str, *, max_age: timedelta | None):
    """The contact a valid token names; InvalidToken also when they no longer exist."""
    from akkoord.contacts.models import Contact

    data = read_token(kind, token, max_age=max_age)
    try:
        contact = Contact.objects.filter(ledger_key=data.subject).first()
    except Exception:  # a malformed UUID is just another invalid token
        raise InvalidToken from None
    if contact is None:
        raise InvalidToken
    return contact, data.extra
