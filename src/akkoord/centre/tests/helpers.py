"""Shared helpers for the centre's tests."""

from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind

SIGNUP_IP = "198.51.100.23"


def signed_up(contact, purpose, *, confirmed=True):
    """A form sign-up with proof, as the sign-up app records it."""
    grant = record_event(
        contact,
        purpose,
        EventKind.GRANTED,
        channel="form",
        channel_ref="form 1 v1",
        proof={
            "ip": SIGNUP_IP,
            "user_agent": "Mozilla/5.0 (signup)",
            "text": purpose.consent_text_nl,
            "form": "Nieuwsbrief op de website",
        },
        needs_confirmation=True,
    )
    if confirmed:
        record_event(
            contact,
            purpose,
            EventKind.CONFIRMED,
            channel="form",
            confirms_seq=grant.seq,
            proof={"confirmed_ip": SIGNUP_IP, "confirmed_user_agent": "Mozilla/5.0 (signup)"},
        )
    return grant


def find_everywhere(needles: list[str]) -> dict[str, list[str]]:
    """Every ``table.column`` of the database whose text holds one of ``needles``.

    Lists tables and columns with ``connection.introspection`` (so it covers the
    session, cache, task and audit tables too) and compares case-insensitively
    on the column cast to text.
    """
    from django.db import connection

    found: dict[str, list[str]] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = connection.introspection.get_table_description(cursor, table)
            pairs = [(column.name, needle) for column in columns for needle in needles]
            # One query per table: a hit count for every (column, needle) pair.
            counts = ", ".join(
                f"SUM(CASE WHEN LOWER(CAST({quote(name)} AS TEXT)) LIKE %s THEN 1 ELSE 0 END)"
                for name, _needle in pairs
            )
            cursor.execute(
                f"SELECT {counts} FROM {quote(table)}",  # noqa: S608 - names from introspection
                [f"%{needle.lower()}%" for _name, needle in pairs],
            )
            for (name, needle), hits in zip(pairs, cursor.fetchone(), strict=True):
                if hits:
                    found.setdefault(needle, []).append(f"{table}.{name}")
    return found


def table_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        return len(connection.introspection.table_names(cursor))
