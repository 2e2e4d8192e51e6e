"""Helpers for bench/import.py: the test file, a scratch database, memory readings."""

from __future__ import annotations

import csv
import os
import random
import resource
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
