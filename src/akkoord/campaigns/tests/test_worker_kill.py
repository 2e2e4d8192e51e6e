"""`kill -9` of a real `akkoord worker` in the middle of a campaign: /healthz says
"stalled" while nobody works on it, a second worker takes it over by itself,
and nobody gets the mail twice except what was in flight at the kill.

Real processes against a SQLite file of their own, a real SMTP server that
holds one message (so the kill lands mid-campaign at a known point, not at a
guessed moment) and the database task backend.
"""

import asyncio
import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from akkoord.campaigns.tests.conftest import Sink, free_port
from akkoord.front.tests.subprocess_env import clean_environment

SIZE = 300
HOLD_AFTER = 65  # not a multiple of the commit group (10): some accepted, not yet recorded
LEASE = 2
DEADLINE = 90  # seconds; generous for a busy machine, normally a few seconds

SETUP = """
import json, sys, django
django.setup()
from django.db import transaction
from akkoord.campaigns.audience import freeze
from akkoord.campaigns.loadtest import make_campaign, populate
from akkoord.campaigns.tasks import enqueue_workers
allowed, excluded = populate(int(sys.argv[1]))
campaign = make_campaign()
with transaction.atomic():
    freeze(campaign)
    enqueue_workers(campaign)
with open(sys.argv[2], "w") as out:
    json.dump({"campaign": campaign.pk, "allowed": allowed}, out)
"""

# Polls /healthz (the view itself, in a process of its own against the same
# database) until it reports a stalled campaign or the deadline passes.
HEALTH = """
import json, sys, time, django
django.setup()
from django.test import RequestFactory
from akkoord.front.views import healthz
deadline = time.monotonic() + float(sys.argv[1])
while True:
    answer = healthz(RequestFactory().get("/healthz"))
    body = json.loads(answer.content)
    if body["campaigns"] == "stalled" or time.monotonic() > deadline:
        break
    time.sleep(0.2)
print(json.dumps({"code": answer.status_code, **body}))
"""


class HoldingSink(Sink):
    """Accepts messages until ``hold_after``, then holds the next one until released."""

    def __init__(self, hold_after: int):
        super().__init__()
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.released = threading.Event()
        self.held_for: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.hold_after and not self.released.is_set():
            self.held_for = list(envelope.rcpt_tos)
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def wait_for(condition, what: str, process=None, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def query(path, sql, *params):
    connection = sqlite3.connect(path, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def test_a_killed_worker_s_campaign_is_reported_and_taken_over_without_double_mail(tmp_path):
    db = tmp_path / "kill.sqlite3"
    sink = HoldingSink(HOLD_AFTER)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{db}",
        AKKOORD_DATA_DIR=str(tmp_path / "data"),
        AKKOORD_TASK_BACKEND="database",
        AKKOORD_SMTP_URL=f"smtp://127.0.0.1:{port}",
        AKKOORD_SENDING_LEASE_SECONDS=str(LEASE),
        AKKOORD_BASE_URL="https://akkoord.example.com",
        AKKOORD_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="akkoord.settings",
    )
    python = sys.executable
    worker_command = [
        python, "-m", "akkoord", "worker", "--queue-name", "*", "--no-reload",
        "--no-startup-delay", "--interval", "0.2",
    ]  # fmt: skip
    workers: list[subprocess.Popen] = []

    def start_worker():
        worker = subprocess.Popen(worker_command, env=env, stdout=subprocess.DEVNULL)
        workers.append(worker)
        return worker

    try:
        subprocess.run(
            [python, "-m", "akkoord", "migrate", "-v0", "--skip-checks"], env=env, check=True
        )
        setup_out = tmp_path / "setup.json"
        subprocess.run([python, "-c", SETUP, str(SIZE), str(setup_out)], env=env, check=True)
        setup = json.loads(setup_out.read_text())
        campaign, allowed = setup["campaign"], setup["allowed"]
        assert len(allowed) > HOLD_AFTER + 50

        def unsent() -> set[str]:
            rows = query(
                db,
                "SELECT c.email FROM campaigns_delivery d JOIN contacts_contact c"
                " ON c.id = d.contact_id WHERE d.campaign_id = ? AND d.status <> 'sent'",
                campaign,
            )
            return {row[0] for row in rows}

        first = start_worker()
        wait_for(sink.holding.is_set, "the first worker to send into the held message", first)
        # A worker kept waiting by the server records what it accepted so far
        # (pipeline.STALL_SECONDS): then only the held message is in flight.
        wait_for(
            lambda: not set(sink.recipients()) & unsent(),
            "the first worker to record the accepted messages",
            first,
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        in_flight = set(sink.held_for)
        assert len(in_flight) == 1
        sink.released.set()

        health = subprocess.run(
            [python, "-c", HEALTH, str(DEADLINE)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        reported = json.loads(health.stdout)
        assert reported["campaigns"] == "stalled", reported
        assert reported["status"] == "degraded"
        assert query(db, "SELECT status FROM campaigns_campaign WHERE id = ?", campaign) == [
            ("sending",)
        ]

        second = start_worker()
        wait_for(
            lambda: (
                query(db, "SELECT status FROM campaigns_campaign WHERE id = ?", campaign)
                == [("finished",)]
            ),
            "the second worker to finish the campaign",
            second,
        )

        received = collections.Counter(sink.recipients())
        assert set(received) == set(allowed), "every lawful recipient got the mail"
        twice = {address for address, count in received.items() if count > 1}
        assert twice <= in_flight, f"sent twice but not in flight: {sorted(twice - in_flight)}"
        assert all(count <= 2 for count in received.values())
        assert unsent() == set()
        print(f"kill: held after {HOLD_AFTER}, sent twice {len(twice)} (in flight: 1)")
    finally:
        sink.released.set()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        controller.stop()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
