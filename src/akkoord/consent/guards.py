"""Database guards that make the consent ledger append-only.

PostgreSQL: triggers refuse UPDATE, DELETE and TRUNCATE of ledger events and
UPDATE of proofs (erasure may DELETE a proof). SQLite: the same with
``RAISE(ABORT)`` triggers. Installed by a migration and re-installed after every
``migrate`` (SQLite drops triggers when it rebuilds a table).
"""

EVENT_TABLE = "consent_consentevent"
PROOF_TABLE = "consent_consentproof"
MESSAGE = "consent ledger rows are append-only"

_POSTGRES_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION akkoord_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""CREATE OR REPLACE TRIGGER akkoord_event_append_only BEFORE UPDATE OR DELETE ON {EVENT_TABLE}
        FOR EACH ROW EXECUTE FUNCTION akkoord_ledger_append_only()""",
    f"""CREATE OR REPLACE TRIGGER akkoord_event_no_truncate BEFORE TRUNCATE ON {EVENT_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION akkoord_ledger_append_only()""",
    f"""CREATE OR REPLACE TRIGGER akkoord_proof_no_update BEFORE UPDATE ON {PROOF_TABLE}
        FOR EACH ROW EXECUTE FUNCTION akkoord_ledger_append_only()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS akkoord_event_append_only ON {EVENT_TABLE}",
    f"DROP TRIGGER IF EXISTS akkoord_event_no_truncate ON {EVENT_TABLE}",
    f"DROP TRIGGER IF EXISTS akkoord_proof_no_update ON {PROOF_TABLE}",
]
_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS akkoord_event_no_update BEFORE UPDATE ON {EVENT_TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS akkoord_event_no_delete BEFORE DELETE ON {EVENT_TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS akkoord_proof_no_update BEFORE UPDATE ON {PROOF_TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS akkoord_event_no_update",
    "DROP TRIGGER IF EXISTS akkoord_event_no_delete",
    "DROP TRIGGER IF EXISTS akkoord_proof_no_update",
]
_EXPECTED = {
    "postgresql": {
        "akkoord_event_append_only",
        "akkoord_event_no_truncate",
        "akkoord_proof_no_update",
    },
    "sqlite": {"akkoord_event_no_update", "akkoord_event_no_delete", "akkoord_proof_no_update"},
}


def _tables_exist(connection) -> bool:
    return EVENT_TABLE in connection.introspection.table_names()


def install_guards(connection) -> None:
    if not _tables_exist(connection):
        return
    statements = _POSTGRES_INSTALL if connection.vendor == "postgresql" else _SQLITE_INSTALL
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_guards(connection) -> None:
    if not _tables_exist(connection):
        return
    statements = _POSTGRES_DROP if connection.vendor == "postgresql" else _SQLITE_DROP
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def missing_guards(connection) -> set[str]:
    """Names of guard triggers that should exist but do not."""
    expected = _EXPECTED.get(connection.vendor, set())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'akkoord_%%'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return expected - present
