"""Database helpers shared by the apps."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The largest id (and whole number) both databases store: a signed 64-bit
# integer. Larger numbers from outside are refused before they reach a query
# (SQLite raises OverflowError on them, PostgreSQL a DataError).
MAX_ID = 9_223_372_036_854_775_807

# How long a write that must never be refused (an unsubscribe) keeps trying.
LOCKED_RETRY_SECONDS = 60.0
_FIRST_PAUSE = 0.05
_LONGEST_PAUSE = 2.0


def is_locked(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's "another writer holds the lock"."""
    text = str(error).lower()
    return isinstance(error, OperationalError) and (
        "database is locked" in text or "database table is locked" in text
    )


def retry_when_locked(
    write: Callable[[], T], *, seconds: float = LOCKED_RETRY_SECONDS, sleep=time.sleep
) -> T:
    """Run ``write`` (which opens its own transaction) until SQLite lets it in.

    On SQLite one writer holds the database at a time, and a connection waits
    only ``timeout`` seconds (settings) for it; a long writer (an import
    chunk, a retention run) can outlast that. A write that must never be
    refused -- a person withdrawing consent -- retries with growing, jittered
    pauses for up to ``seconds`` and only then lets the error through. Other
    errors, and a call inside an outer transaction (which a retry could not
    repeat), are not retried.
    """
    deadline = time.monotonic() + seconds
    pause = _FIRST_PAUSE
    attempt = 1
    while True:
        try:
            return write()
        except OperationalError as error:
            if not is_locked(error) or connection.in_atomic_block:
                raise
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("database is locked; retrying a write (attempt %d)", attempt)
        sleep(pause * random.uniform(1.0, 1.5))  # noqa: S311 - jitter, not a secret
        pause = min(pause * 2, _LONGEST_PAUSE)
        attempt += 1
