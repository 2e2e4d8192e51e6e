"""Benchmark: importing a Mailchimp-style CSV (with consent proof) into Akkoord.

    python bench/import.py [--size N] [--database URL]

--size: rows in the generated file (default 100000). --database: a
PostgreSQL URL whose database this script may DROP and re-create (it is dropped
again at the end); without it a temporary SQLite database is used.

Measures the project's path (``akkoord.transfer.importer.run_import``: stream,
validate, bulk-create contacts, append the consent ledger in batches, derived
state, timeline, after-commit signals) and, in the same run, the floor: a
plain COPY of the same file into a bare table (SQLite: executemany). A second
floor, ``floor2``: the rows the import actually wrote (every table whose row
count grew: contacts, consent events and proofs, derived state, timeline,
queued notices and tasks), loaded as they are into empty copies of those tables
with the same indexes (COPY; SQLite: executemany), timed after the import.
``vs_floor`` and ``vs_floor2`` are the import's rate as a fraction of each.
Memory is sampled during the import to show it stays flat. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _import_helpers as helpers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database", default="")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="akkoord-bench-import-"))
    os.environ["AKKOORD_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akkoord.settings")
    if args.database:
        helpers.recreate_postgres(args.database)
        os.environ["DATABASE_URL"] = args.database
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    # Tasks (privacy confirmations, one task per 500 new contacts) go to the database queue;
    # no worker runs here, so the mails themselves are not part of this measurement.
    os.environ.setdefault("AKKOORD_TASK_BACKEND", "database")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from akkoord.consent.ledger import verify_ledger
    from akkoord.consent.models import ConsentEvent, Purpose
    from akkoord.contacts.models import Contact
    from akkoord.transfer.importer import ImportRun, prepare, run_import
    from akkoord.transfer.reading import open_path

    Purpose.objects.create(
        key="nieuwsbrief",
        name_nl="Nieuwsbrief",
        name_en="Newsletter",
        consent_text_nl="Ja, stuur mij de nieuwsbrief.",
        consent_text_en="Yes, send me the newsletter.",
    )
    path = workdir / "audience.csv"
    helpers.write_mailchimp_csv(path, args.size)
    print(f"file: {path.stat().st_size / 1e6:.1f} MB, {args.size} rows", file=sys.stderr)

    floor_s = helpers.copy_floor(path, len(helpers.HEADER))
    print(f"floor: {floor_s:.2f} s", file=sys.stderr)

    # (rows, rss MB, seconds since the start): memory and rate along the way.
    samples: list[tuple[int, float, float]] = []

    def progress(at):
        # Rows checked in the first pass, then checked + written in the second.
        rows = at.rows_checked + at.rows_written
        if not samples or rows - samples[-1][0] >= max(args.size // 20, 1):
            samples.append((rows, helpers.rss_mb(), time.perf_counter() - started))
            print(f"\r{rows:,} rows, rss {samples[-1][1]:.0f} MB", end="", file=sys.stderr)

    counts_before = helpers.table_counts()
    rss_before = helpers.rss_mb()
    source = open_path(path)
    purpose, mapping, fmt = prepare(source, purpose_key="nieuwsbrief")
    started = time.perf_counter()
    report = run_import(
        ImportRun(source, mapping, purpose, format=fmt, actor="bench", progress=progress)
    )
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    assert report.committed and report.created == args.size, report.as_dict()
    assert Contact.objects.count() == args.size
    events = ConsentEvent.objects.count()
    verify_started = time.perf_counter()
    verified = verify_ledger().ok
    verify_s = time.perf_counter() - verify_started
    # Before floor2, which on SQLite reads each grown table into memory first.
    peak_rss_import = helpers.peak_rss_mb()
    counts_after = helpers.table_counts()
    grown = [t for t, n in counts_after.items() if n > counts_before.get(t, 0)]
    floor2_s, written_rows = helpers.written_rows_floor(grown, workdir)
    floor2_rows = sum(rows for rows, _s in written_rows.values())
    print(f"floor2: {floor2_s:.2f} s for {floor2_rows:,} rows", file=sys.stderr)
    rows_per_s = args.size / elapsed
    write_s = elapsed - report.announce_seconds
    floor_rows_per_s = args.size / floor_s
    mid = samples[len(samples) // 2][1] if samples else 0.0
    halves = helpers.half_rates(samples)
    result = {
        "workload": "import",
        "size": args.size,
        "database": connection.vendor,
        "rows_per_s": round(rows_per_s),
        "floor_rows_per_s": round(floor_rows_per_s),
        "vs_floor": round(rows_per_s / floor_rows_per_s, 4),
        "floor2_rows_per_s": round(args.size / floor2_s),
        "vs_floor2": round(rows_per_s / (args.size / floor2_s), 4),
        "seconds": round(elapsed, 1),
        # Of which: after commit, contacts_registered per chunk of new contacts
        # (the privacy-confirmation listener queues one task per 500 people).
        "announce_seconds": round(report.announce_seconds, 1),
        "rows_per_s_without_announce": round(args.size / write_s),
        "floor_seconds": round(floor_s, 2),
        "floor2_seconds": round(floor2_s, 2),
        # What floor2 loads: per table the import wrote into, [rows, seconds].
        "written_rows": written_rows,
        "consent_events": events,
        "ledger_verified": verified,
        "verify_seconds": round(verify_s, 1),
        "rss_before_mb": round(rss_before),
        "rss_mid_mb": round(mid),
        "rss_end_mb": round(samples[-1][1]) if samples else 0,
        # Does the rate hold up as the tables grow? (rows/s in each half of the file)
        "rows_per_s_first_half": halves[0],
        "rows_per_s_second_half": halves[1],
        # The process's peak up to the end of the import and ledger verify ...
        "peak_rss_mb": round(peak_rss_import),
        # ... and with floor2's reading out of the written rows (not the import's memory).
        "peak_rss_with_floor2_mb": round(helpers.peak_rss_mb()),
    }
    connection.close()
    if args.database and not args.keep:
        helpers.drop_postgres(args.database)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
