"""Benchmark: bounce reports through the bounce receiver and through a webhook, next to the floor.

    python bench/bounces.py [--size 100000] [--database URL]

Starts what it needs itself, on 127.0.0.1 only: a temporary SQLite database
unless --database is given (a PostgreSQL database of the benchmark's own: it is
dropped and created again at the start and dropped at the end), two campaigns
of ``--size`` sent deliveries each (written directly: sending is bench/send.py's
business), then

* the receiver: ``akkoord bounce_receiver`` as its own process; ``--size``
  Postfix DSNs (one in ten a delayed-mail soft bounce), each to its delivery's
  signed return path, over one reused SMTP connection;
* the webhook: ``akkoord serve --no-worker`` as its own process; ``--size``
  Brevo bounce events posted to ``/hooks/bounces/brevo`` over one keep-alive
  HTTP connection (the delivery found by its Message-ID).

Each is timed until its last report is answered (both record before they
answer); its peak RSS is read from the kernel (wait4). The floor is the simplest
program doing the same physical work in the same run: an SMTP (or HTTP) server
process that parses each report with the standard library and inserts one row
per report into the same kind of database, one commit each. Last line: one
JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _send_helpers import drop_postgres, free_port, fresh_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "src/akkoord/deliverability/tests/fixtures"
BREVO_TOKEN = "bench-brevo-token"  # noqa: S105 - a local benchmark's own secret

SETUP = r"""
import json, sys, django
django.setup()
from django.db import connection
from django.utils import timezone
from akkoord.campaigns.dkimsign import generate_private_key
from akkoord.campaigns.models import Campaign, Delivery, MailTemplate, SendingDomain
from akkoord.consent.models import Purpose
from akkoord.contacts.models import Contact
from akkoord.deliverability.verp import make_token
size = int(sys.argv[1])
purpose = Purpose.objects.create(key="nieuwsbrief", name_nl="Nieuwsbrief", name_en="Newsletter",
    consent_text_nl="Ja", consent_text_en="Yes")
domain = SendingDomain.objects.create(domain="mail.example.com", private_key_pem=generate_private_key())
template = MailTemplate.objects.create(name="Bench", subject_nl="Hallo", text_nl="Hallo")
now = timezone.now()
Contact.objects.bulk_create(
    [Contact(email=f"person{i}@example.nl", email_hash=f"h{i}") for i in range(size)], batch_size=5000)
ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
out = {}
for name in ("receiver", "webhook"):
    campaign = Campaign.objects.create(name=name, purpose=purpose, mail_class="marketing_other",
        audience="optins", template=template, sending_domain=domain, from_name="Bench",
        status="finished", started_at=now, frozen_at=now, finished_at=now)
    Delivery.objects.bulk_create([Delivery(campaign=campaign, contact_id=pk, language="nl",
        basis="consent", reason="ok_consent", status="sent", sent_at=now) for pk in ids], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE campaigns_delivery SET message_id = '<d' || id || '@bench>' WHERE campaign_id = %s", [campaign.pk])
    rows = Delivery.objects.filter(campaign=campaign).order_by("pk").values_list("pk", "contact__email")
    out[name] = [[pk, make_token(pk), email] for pk, email in rows]
json.dump(out, open(sys.argv[2], "w"))
"""

COUNT = r"""
import json, django
django.setup()
from django.db.models import Count
from akkoord.deliverability.models import DeliveryReport
print(json.dumps(dict(DeliveryReport.objects.values_list("source").annotate(n=Count("id")).order_by())))
"""

# The floor: receive, parse with the standard library, insert one row, commit.
FLOOR_STORE = r"""
import sys
url = sys.argv[2]
if url.startswith("postgres"):
    import psycopg
    db = psycopg.connect(url, autocommit=False)
    db.execute("CREATE TABLE IF NOT EXISTS floor_report (id bigserial primary key, kind text, body text)")
    SQL = "INSERT INTO floor_report (kind, body) VALUES (%s, %s)"
else:
    import sqlite3
    db = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")  # as the project's own SQLite settings
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS floor_report (id integer primary key, kind text, body text)")
    SQL = "INSERT INTO floor_report (kind, body) VALUES (?, ?)"
def store(kind, body):
    db.execute(SQL, (kind, body))
    db.commit()
"""
FLOOR_SMTP = (
    FLOOR_STORE
    + r"""
import email, email.policy, logging
from aiosmtpd.controller import Controller
logging.getLogger("mail.log").setLevel(logging.WARNING)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.compat32)
        status = ""
        for part in message.walk():
            if part.get_content_type() == "message/delivery-status":
                status = str(part.get_payload()[1].get("Status", ""))
        store(status, envelope.original_content.decode("utf-8", "replace"))
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""
)
FLOOR_HTTP = (
    FLOOR_STORE
    + r"""
import json
from waitress import serve
def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    event = json.loads(body)
    store(event["event"], body.decode())
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]
print("ready", flush=True)
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
"""
)


def run(command, env, **kwargs):
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True, **kwargs)


def dsn(
    template_hard: str, template_soft: str, index: int, token: str, email: str
) -> tuple[str, bytes]:
    envelope = f"bounces+{token}@bounce.example.com"
    text = template_soft if index % 10 == 9 else template_hard
    text = text.replace("{ENVELOPE}", envelope).replace("{RCPT}", email)
    text = text.replace("{MSGID}", f"<x{index}@bench>")
    # Each report its own Message-ID, as each real one has.
    text = text.replace("@mx1.relay.example.net>", f".{index}@mx1.relay.example.net>", 1)
    return envelope, text.replace("\n", "\r\n").encode()


def wait_port(port: int, process, seconds: float = 180) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"process exited early: {process.stdout.read() if process.stdout else ''}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"port {port} did not open in time")


def stop(process) -> float:
    """SIGTERM, wait, and the process's peak RSS in MB (from the kernel)."""
    process.send_signal(signal.SIGTERM)
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return usage.ru_maxrss / 1024


def send_smtp(port: int, mails) -> float:
    import smtplib

    client = smtplib.SMTP("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    for envelope, raw in mails:
        client.sendmail("", [envelope], raw)
    elapsed = time.perf_counter() - started
    client.quit()
    return elapsed


def post_all(port: int, path: str, bodies, headers: dict) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"webhook answered {response.status}")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def brevo(index: int, pk: int, email: str) -> bytes:
    event = "soft_bounce" if index % 10 == 9 else "hard_bounce"
    return json.dumps(
        {
            "event": event,
            "email": email,
            "id": index,
            "message-id": f"<d{pk}@bench>",
            "ts_event": int(time.time()) - 60,
            "reason": "550 5.1.1 user unknown",
        }  # fmt: skip
    ).encode()


def floor_run(script: str, url: str, env, work) -> float:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(port), url],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    process.stdout.readline()
    wait_port(port, process)
    try:
        return work(port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="akkoord-bench-bounces-"))
    database = args.database or f"sqlite:///{scratch / 'bench.sqlite3'}"
    floor_database = args.database if args.database else f"sqlite:///{scratch / 'floor.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "AKKOORD_DATA_DIR": str(scratch / "data"),
        "AKKOORD_TASK_BACKEND": "immediate",
        "DJANGO_SETTINGS_MODULE": "akkoord.settings",
        "AKKOORD_LOG_LEVEL": "WARNING",
        "AKKOORD_BOUNCE_DOMAIN": "bounce.example.com",
        "AKKOORD_WEBHOOK_BREVO_SECRET": BREVO_TOKEN,
    }
    postgres = database.startswith("postgres")
    if postgres:
        fresh_postgres(database)
    python = sys.executable
    try:
        run([python, "-m", "akkoord", "migrate", "--verbosity", "0"], env)
        deliveries_file = scratch / "deliveries.json"
        run([python, "-c", SETUP, str(args.size), str(deliveries_file)], env)
        deliveries = json.loads(deliveries_file.read_text())
        hard = (FIXTURES / "postfix_hard.eml").read_text()
        soft = (FIXTURES / "postfix_delayed.eml").read_text()
        mails = [
            dsn(hard, soft, index, token, email)
            for index, (_pk, token, email) in enumerate(deliveries["receiver"])
        ]
        bodies = [brevo(i, pk, email) for i, (pk, _t, email) in enumerate(deliveries["webhook"])]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {BREVO_TOKEN}"}

        # The receiver.
        port = free_port()
        receiver = subprocess.Popen(
            [python, "-m", "akkoord", "bounce_receiver", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        wait_port(port, receiver)
        receiver_seconds = send_smtp(port, mails)
        receiver_rss = stop(receiver)

        # The webhook, through akkoord serve's web server.
        port = free_port()
        web = subprocess.Popen(
            [python, "-m", "akkoord", "serve", "--no-worker", "--port", str(port), "--threads", "4"],
            env={**env, "AKKOORD_SMTP_URL": "smtp://127.0.0.1:1", "AKKOORD_MAILCATCHER_PORT": "2"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        wait_port(port, web)
        webhook_seconds = post_all(port, "/hooks/bounces/brevo", bodies, headers)
        webhook_rss = stop(web)

        counts = json.loads(run([python, "-c", COUNT], env).stdout.strip().splitlines()[-1])

        floor_smtp = floor_run(FLOOR_SMTP, floor_database, env, lambda p: send_smtp(p, mails))
        floor_http = floor_run(
            FLOOR_HTTP, floor_database, env, lambda p: post_all(p, "/", bodies, headers)
        )
        size = args.size
        result = {
            "workload": "bounces",
            "size": size,
            "database": "postgresql" if postgres else "sqlite",
            "recorded": counts,
            "receiver_reports_per_s": round(size / receiver_seconds, 1),
            "receiver_floor_per_s": round(size / floor_smtp, 1),
            "receiver_vs_floor": round(floor_smtp / receiver_seconds, 3),
            "webhook_reports_per_s": round(size / webhook_seconds, 1),
            "webhook_floor_per_s": round(size / floor_http, 1),
            "webhook_vs_floor": round(floor_http / webhook_seconds, 3),
            "reports_per_s": round(2 * size / (receiver_seconds + webhook_seconds), 1),
            "vs_floor": round((floor_smtp + floor_http) / (receiver_seconds + webhook_seconds), 3),
            "peak_rss_mb": round(max(receiver_rss, webhook_rss), 1),
            "receiver_peak_rss_mb": round(receiver_rss, 1),
            "webhook_peak_rss_mb": round(webhook_rss, 1),
            "bench_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
        }
        print(json.dumps(result))
    finally:
        if postgres:
            drop_postgres(database)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
