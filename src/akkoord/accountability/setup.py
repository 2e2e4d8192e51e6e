"""Bringing a fresh install (or the demo) to a complete register and a published statement."""

from __future__ import annotations

from akkoord.accountability import register, statement
from akkoord.accountability.models import StatementVersion


def ensure_published_defaults(user=None) -> StatementVersion | None:
    """Pre-fill the register; publish the statement if it is complete and none is published.

    Idempotent: running it again adds nothing and publishes nothing new. Returns
    the current statement, or None when the organisation's details are still
    incomplete (``statement.missing_parts()`` says what).
    """
    register.prefill()
    current = statement.current_statement()
    if current is not None:
        return current
    if statement.missing_parts():
        return None
    return statement.publish(user)
