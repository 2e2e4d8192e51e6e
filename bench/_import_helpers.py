"""Helpers for bench/import.py: the test file, a scratch database, memory readings."""

from __future__ import annotations

import csv
import os
import random
import re
import resource
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HEADER = [
    "Email Address",
    "First Name",
    "Last Name",
    "MEMBER_RATING",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LAST_CHANGED",
    "LEID",
    "TAGS",
    "LANGUAGE",
]


def write_mailchimp_csv(path: Path, size: int, seed: int = 7) -> None:
    """A Mailchimp-style audience export; two thirds of the rows carry proof."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(size):
            proven = n % 3 != 0
            minute = n % 60
            writer.writerow(
                [
                    f"person{n}@example{n % 97}.nl",
                    rng.choice(["Anna", "Bram", "Carla", "Daan", "Eva"]),
                    rng.choice(["de Vries", "Jansen", "Bakker", "Visser"]),
                    rng.randint(1, 5),
                    f"2023-0{1 + n % 9}-1{n % 10} 10:{minute:02d}:00" if proven else "",
                    f"192.0.2.{n % 250 + 1}" if proven else "",
                    f"2023-0{1 + n % 9}-1{n % 10} 11:{minute:02d}:00" if proven else "",
                    f"192.0.2.{n % 250 + 1}" if proven else "",
                    "2024-01-02 10:00:00",
                    str(100000000 + n),
                    "",
                    "nl" if n % 4 else "en",
                ]
            )


def half_rates(samples: list[tuple[int, float, float]]) -> tuple[int, int]:
    """Rows per second before and after the middle sample (0 when too few samples)."""
    if len(samples) < 3:
        return 0, 0
    first, middle, last = samples[0], samples[len(samples) // 2], samples[-1]

    def rate(a, b):
        return round((b[0] - a[0]) / (b[2] - a[2])) if b[2] > a[2] else 0

    return rate(first, middle), rate(middle, last)


def rss_mb() -> float:
    """Current resident memory of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_url(url: str, dbname: str = "postgres") -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def recreate_postgres(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_floor(path: Path, columns: int) -> float:
    """Seconds for the simplest load of the same file: COPY (PostgreSQL) or
    executemany (SQLite) into a bare table, through Django's connection."""
    import time

    from django.db import connection

    cols = ", ".join(f"c{i} text" for i in range(columns))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE TABLE bench_floor ({cols})")
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            path.open("rb") as data,
            cursor.cursor.copy(
                "COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while chunk := data.read(1 << 20):
                copy.write(chunk)
    else:
        marks = ", ".join("?" * columns)
        with connection.cursor() as cursor, path.open(newline="", encoding="utf-8") as data:
            reader = csv.reader(data)
            next(reader)
            cursor.executemany(f"INSERT INTO bench_floor VALUES ({marks})", reader)
    connection.commit() if not connection.get_autocommit() else None
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def table_counts() -> dict[str, int]:
    """Rows per table of the product's database (to see which tables an import wrote)."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def written_rows_floor(tables: list[str], workdir: Path) -> tuple[float, dict[str, tuple]]:
    """Seconds to load the rows the import wrote, as they are, into empty copies of
    the product's tables (same columns, same indexes): COPY on PostgreSQL,
    executemany on SQLite. The rows are first read out (not timed); the copies
    are dropped afterwards. Returns the seconds, and per table (rows, seconds)."""
    from django.db import connection, transaction

    qn = connection.ops.quote_name
    rows_per_table, seconds = {}, 0.0
    for table in tables:
        copy_name = f"bench_floor2_{table}"[:63]
        if connection.vendor == "postgresql":
            dump = workdir / f"{table}.copy"
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {qn(copy_name)}")
                cursor.execute(f"CREATE TABLE {qn(copy_name)} (LIKE {qn(table)} INCLUDING ALL)")
                with dump.open("wb") as out, cursor.cursor.copy(f"COPY {qn(table)} TO STDOUT") as c:
                    for block in c:
                        out.write(block)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {qn(table)}")
                rows_per_table[table] = cursor.fetchone()[0]
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                dump.open("rb") as data,
                cursor.cursor.copy(f"COPY {qn(copy_name)} FROM STDIN") as copy,
            ):
                while block := data.read(1 << 20):
                    copy.write(block)
            connection.commit() if not connection.get_autocommit() else None
            took = time.perf_counter() - started
            dump.unlink()
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {qn(copy_name)}")
                cursor.execute(
                    "SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
                schema = cursor.fetchall()
                for kind, sql in sorted(schema, key=lambda item: item[0] != "table"):
                    if kind == "trigger":  # the ledger's refusals: not part of a load
                        continue
                    sql = sql.replace(f'"{table}"', qn(copy_name))
                    if kind == "index":  # index names are global: give the copy's its own
                        sql = re.sub(r'INDEX "([^"]+)"', rf'INDEX "{copy_name}_\1"', sql, count=1)
                    cursor.execute(sql)
                cursor.execute(f"SELECT * FROM {qn(table)}")
                rows = cursor.fetchall()
                rows_per_table[table] = len(rows)
                marks = ", ".join(["%s"] * len(cursor.description))
                started = time.perf_counter()
                with transaction.atomic():
                    cursor.executemany(f"INSERT INTO {qn(copy_name)} VALUES ({marks})", rows)
                took = time.perf_counter() - started
                del rows
        seconds += took
        rows_per_table[table] = (rows_per_table[table], round(took, 2))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {qn(copy_name)}")
    return seconds, rows_per_table
