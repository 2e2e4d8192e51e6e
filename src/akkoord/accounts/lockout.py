"""Limits on failed sign-in attempts that hold under concurrency.

An attempt first *reserves* a place under the limit with one conditional
UPDATE (``failures < limit``), and only then is the password or code checked.
So twenty parallel wrong passwords against a limit of five check at most five
passwords, on SQLite and PostgreSQL alike: the database decides, not a
read-then-write in Python. A successful attempt gives its place back; a failed
one keeps it. Each counted attempt moves ``expires_at`` to one window later, so
the count (and a lockout) ends one window after the last failure: there is no
window edge around which an attacker gets twice the limit.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from akkoord.accounts.models import SignInThrottle


@dataclass(frozen=True)
class Limit:
    scope: str
    identity: str
    limit: int
    window_seconds: int

    @property
    def identity_hash(self) -> str:
        return salted_hmac("akkoord.signin-throttle", f"{self.scope}:{self.identity}").hexdigest()


def reserve(limit: Limit) -> bool:
    """Count one attempt of ``limit.identity``; False when it already used up its attempts."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=limit.window_seconds)
    rows = SignInThrottle.objects.filter(scope=limit.scope, identity_hash=limit.identity_hash)
    for _attempt in range(3):
        if rows.filter(expires_at__gt=now, failures__lt=limit.limit).update(
            failures=F("failures") + 1, expires_at=expires_at
        ):
            return True
        # An earlier count that has run out starts again from this attempt.
        if rows.filter(expires_at__lte=now).update(failures=1, expires_at=expires_at):
            return True
        if rows.exists():
            return False
        try:
            with transaction.atomic():
                SignInThrottle.objects.create(
                    scope=limit.scope,
                    identity_hash=limit.identity_hash,
                    failures=1,
                    expires_at=expires_at,
                )
            return True
        except IntegrityError:
            continue  # a parallel attempt made the row first: count on it
    return False


def give_back(limit: Limit) -> None:
    """The reserved attempt succeeded: it does not count as a failure."""
    SignInThrottle.objects.filter(
        scope=limit.scope, identity_hash=limit.identity_hash, failures__gt=0
    ).update(failures=F("failures") - 1)


def reserve_all(limits: list[Limit]) -> list[Limit] | None:
    """Reserve an attempt under every limit; None (nothing kept) when any is used up."""
    reserved: list[Limit] = []
    for limit in limits:
        if not reserve(limit):
            for done in reserved:
                give_back(done)
            return None
        reserved.append(limit)
    return reserved


def prune() -> int:
    """Remove counts that ran out a day ago; returns how many."""
    deleted, _ = SignInThrottle.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted
