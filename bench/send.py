"""Benchmark: send a campaign with DKIM to a local SMTP sink, next to the floor.

    python bench/send.py [--size 100000] [--workers 1,2] [--database URL]

Starts an aiosmtpd sink on 127.0.0.1 (a separate process), a temporary SQLite
database unless --database is given (a PostgreSQL database of the benchmark's
own: it is dropped and created again at the start and dropped at the end),
creates ``--size`` contacts and, per worker count, one campaign to
them. Each campaign is sent by that many ``akkoord send_campaign --worker``
processes; their peak RSS is read from the kernel (wait4). The floor sends one
pre-rendered (signed) message of the same size ``min(size, 5000)`` times over
one reused SMTP connection to the same sink, before each project run and after
the last; the median is the floor. Next to each N-worker run, N such senders
also run at once (``parallel_floor``): on a small machine N workers share the
cores with the sink, and ``vs_parallel_floor_Nw`` compares them with N floor
senders that do the same. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _send_helpers import (  # noqa: E402
    SINK,
    drop_postgres,
    floor,
    free_port,
    fresh_postgres,
    parallel_floor,
)

SETUP = r"""
import json, sys, django
django.setup()
from akkoord.campaigns.loadtest import populate
allowed, excluded = populate(int(sys.argv[1]))
print(json.dumps({"allowed": len(allowed), "excluded": len(excluded)}))
"""
CAMPAIGN = r"""
import json, sys, django
django.setup()
from akkoord.campaigns.audience import freeze
from akkoord.campaigns.loadtest import make_campaign
from akkoord.campaigns.models import Delivery
from akkoord.campaigns.pipeline import CampaignSender
from akkoord.contacts.models import Contact
campaign = make_campaign()
frozen = freeze(campaign)
import time
sender = CampaignSender(campaign)
contact = Contact.objects.get(email="r1@example.org")
sample = sender.render(contact, "nl")[0]
open(sys.argv[1], "wb").write(sample)
# Is signing the bottleneck? Time the whole rendering and the DKIM step alone.
started = time.perf_counter()
for _ in range(300):
    sender.render(contact, "nl")
render_ms = (time.perf_counter() - started) / 300 * 1000
raw = sample.split(b"\r\n", 1)[1]
while raw[:1] in (b" ", b"\t"):
    raw = raw.split(b"\r\n", 1)[1]
started = time.perf_counter()
for _ in range(300):
    sender.signer.sign(raw)
sign_ms = (time.perf_counter() - started) / 300 * 1000
print(json.dumps({"campaign": campaign.pk, "frozen": frozen, "render_ms": render_ms, "sign_ms": sign_ms}))
"""
RESULT = r"""
import json, sys, django
django.setup()
from akkoord.campaigns.models import Delivery
from django.db.models import Count, Min, Max
rows = Delivery.objects.filter(campaign_id=int(sys.argv[1]))
span = rows.filter(status="sent").aggregate(first=Min("sent_at"), last=Max("sent_at"))
seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0
print(json.dumps({"status": dict(rows.values_list("status").annotate(n=Count("id")).order_by()), "sending_seconds": seconds}))
"""


def run_json(command, env) -> dict:
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database", default=None)
    parser.add_argument("--commit-every", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="akkoord-bench-send-"))
    database = args.database or f"sqlite:///{scratch / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "AKKOORD_DATA_DIR": str(scratch / "data"),
        "AKKOORD_BASE_URL": "https://akkoord.example.com",
        "AKKOORD_TASK_BACKEND": "immediate",
        "DJANGO_SETTINGS_MODULE": "akkoord.settings",
        "AKKOORD_LOG_LEVEL": "WARNING",
    }
    postgres = database.startswith("postgres")
    if postgres:
        fresh_postgres(database)
    python = sys.executable
    port = free_port()
    sink = subprocess.Popen(
        [python, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout.readline().strip() == "ready"
        subprocess.run(
            [python, "-m", "akkoord", "migrate", "-v0", "--skip-checks"], env=env, check=True
        )
        started = time.perf_counter()
        population = run_json([python, "-c", SETUP, str(args.size)], env)
        print(f"populated {args.size} contacts in {time.perf_counter() - started:.1f}s", flush=True)

        results = {}
        sample_message = b""
        floor_rates = []
        parallel_floors: dict[int, float] = {}
        floor_count = min(args.size, 5_000)
        for workers in [int(w) for w in args.workers.split(",")]:
            sample_path = scratch / "sample.eml"
            info = run_json([python, "-c", CAMPAIGN, str(sample_path)], env)
            sample_message = sample_path.read_bytes()
            cpu_ms = {"render_ms": info["render_ms"], "sign_ms": info["sign_ms"]}
            command = [
                python, "-m", "akkoord", "send_campaign", str(info["campaign"]), "--worker",
                "--smtp-url", f"smtp://127.0.0.1:{port}",
                "--commit-every", str(args.commit_every), "--batch-size", str(args.batch_size),
            ]  # fmt: skip
            # The machine may be shared: measure the floor next to every run.
            floor_rates.append(floor(port, sample_message, floor_count))
            parallel_floors[workers] = parallel_floor(port, sample_message, floor_count, workers)
            started = time.perf_counter()
            processes = [
                subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
                for _ in range(workers)
            ]
            peaks = []
            cpu_seconds = 0.0
            for process in processes:
                _pid, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                peaks.append(usage.ru_maxrss / 1024)
                cpu_seconds += usage.ru_utime + usage.ru_stime
            elapsed = time.perf_counter() - started
            outcome = run_json([python, "-c", RESULT, str(info["campaign"])], env)
            sent = outcome["status"].get("sent", 0)
            steady = sent / outcome["sending_seconds"] if outcome["sending_seconds"] else 0
            results[workers] = {
                # From the first to the last message sent (the floor too
                # excludes starting Python); wall time includes process start.
                "messages_per_s": round(steady, 1),
                "wall_messages_per_s": round(sent / elapsed, 1),
                "sent": sent,
                "seconds": round(elapsed, 1),
                "peak_rss_mb": round(max(peaks), 1),
                # All worker processes' CPU (user + system, whole run including
                # start-up) per message sent: with the sink's share, what a core
                # count must pay for.
                "worker_cpu_ms_per_message": round(cpu_seconds / max(sent, 1) * 1000, 3),
                "status": outcome["status"],
            }
            print(f"{workers} worker(s): {results[workers]}", flush=True)

        floor_rates.append(floor(port, sample_message, floor_count))
        floor_rate = statistics.median(floor_rates)
        rates = ", ".join(f"{rate:.1f}" for rate in floor_rates)
        print(
            f"floor: median {floor_rate:.1f} messages/s ({rates}; {floor_count} each)", flush=True
        )
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
        if postgres:
            drop_postgres(database)
    report = {
        "workload": "send_campaign_dkim",
        "size": args.size,
        "database": database.split(":")[0],
        "cpus": os.cpu_count(),
        "message_bytes": len(sample_message),
        "floor_messages_per_s": round(floor_rate, 1),
        "recipients": population["allowed"],
        # Per message in one process: rendering including DKIM, and DKIM alone.
        "render_and_sign_ms": round(cpu_ms["render_ms"], 3),
        "dkim_sign_ms": round(cpu_ms["sign_ms"], 3),
        "dkim_share_of_render": round(cpu_ms["sign_ms"] / cpu_ms["render_ms"], 2),
    }
    for workers, result in results.items():
        report[f"messages_per_s_{workers}w"] = result["messages_per_s"]
        report[f"vs_floor_{workers}w"] = round(result["messages_per_s"] / floor_rate, 3)
        report[f"vs_floor_per_worker_{workers}w"] = round(
            result["messages_per_s"] / workers / floor_rate, 3
        )
        # Against as many floor senders at once as there were workers.
        report[f"parallel_floor_messages_per_s_{workers}c"] = round(parallel_floors[workers], 1)
        report[f"vs_parallel_floor_{workers}w"] = round(
            result["messages_per_s"] / parallel_floors[workers], 3
        )
        report[f"peak_rss_mb_{workers}w"] = result["peak_rss_mb"]
        report[f"worker_cpu_ms_per_message_{workers}w"] = result["worker_cpu_ms_per_message"]
        report[f"wall_messages_per_s_{workers}w"] = result["wall_messages_per_s"]
    first = min(results)
    report["messages_per_s"] = results[first]["messages_per_s"]
    report["vs_floor"] = report[f"vs_floor_{first}w"]
    report["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results.values())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
