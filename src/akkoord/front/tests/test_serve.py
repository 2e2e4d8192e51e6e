"""`akkoord serve`: the one command that runs everything, started as a user would."""

import os
import re
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.shortcuts import resolve_url
from django.utils import timezone

from akkoord.front.management.commands.serve import Command as Serve
from akkoord.front.management.commands.worker import Heartbeat
from akkoord.front.models import WorkerHeartbeat
from akkoord.front.tests.served import ProcessOutput, free_ports
from akkoord.front.tests.subprocess_env import clean_environment

STARTUP_SECONDS = 90


def _get(url: str) -> tuple[int, str]:
    try:
        with urlopen(url, timeout=5) as response:  # noqa: S310 - local test URL
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served(request, tmp_path):
    demo = getattr(request, "param", True)
    web_port, mail_port = free_ports(2)
    # SQLite in a fresh data folder, the database worker, the local catcher:
    # exactly what a newcomer gets.
    env = clean_environment(
        AKKOORD_DATA_DIR=str(tmp_path / "data"),
        AKKOORD_MAILCATCHER_PORT=str(mail_port),
        AKKOORD_SMTP_URL=f"smtp://127.0.0.1:{mail_port}",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "akkoord", "serve", "--port", str(web_port)]
        + (["--demo"] if demo else []),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(process.stdout)
    output.start()
    try:
        yield {
            "process": process,
            "output": output,
            "base": f"http://127.0.0.1:{web_port}",
            "mail_port": mail_port,
            "db": tmp_path / "data" / "akkoord.sqlite3",
        }
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_healthy(served) -> dict:
    import json

    deadline = time.monotonic() + STARTUP_SECONDS
    last = None
    while time.monotonic() < deadline:
        if served["process"].poll() is not None:
            pytest.fail(f"akkoord serve exited early:\n{served['output'].text}")
        try:
            status, body = _get(served["base"] + "/healthz")
            last = (status, body)
            if status == 200 and json.loads(body)["worker"] == "ok":
                return json.loads(body)
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"not healthy in time (last answer {last}):\n{served['output'].text}")


def _rows(db_path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=30) as db:
        return db.execute(sql).fetchall()


def test_serve_demo_runs_web_worker_and_mail_catcher_and_stops_cleanly(served):
    health = _wait_until_healthy(served)
    assert health == {"status": "ok", "database": "ok", "worker": "ok", "campaigns": "ok"}
    text = served["output"].text
    assert "Demo data created." in text
    assert "password:" in text and "otpauth://totp/" in text
    assert f"running at {served['base']}/" in text
    assert "task worker: running" in text
    assert "No staff user yet" not in text
    assert f"caught on 127.0.0.1:{served['mail_port']}" in text

    status, page = _get(served["base"] + resolve_url(settings.LOGIN_URL))
    assert status == 200
    assert "<form" in page

    message = EmailMessage()
    message["From"] = "winkel@example.nl"
    message["To"] = "klant@example.nl"
    message["Subject"] = "Proef via de mailcatcher"
    message.set_content("Hallo")
    with smtplib.SMTP("127.0.0.1", served["mail_port"], timeout=10) as smtp:
        smtp.send_message(message)
    subjects = [row[0] for row in _rows(served["db"], "SELECT subject FROM mail_caughtmessage")]
    assert "Proef via de mailcatcher" in subjects
    assert _rows(served["db"], "SELECT COUNT(*) FROM contacts_contact") == [(60,)]

    served["process"].send_signal(signal.SIGTERM)
    try:
        code = served["process"].wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"akkoord serve did not stop within 15 s:\n{served['output'].text}")
    served["output"].join(timeout=5)
    assert code == 0, served["output"].text
    assert "Akkoord stopped." in served["output"].text
    # The worker stopped too and took its heartbeat with it: no false "ok".
    assert _rows(served["db"], "SELECT COUNT(*) FROM front_workerheartbeat") == [(0,)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("served", [False], indirect=True)
def test_the_worker_stops_by_itself_when_serve_is_killed(served):
    _wait_until_healthy(served)
    text = served["output"].text
    assert "Demo data" not in text
    assert "No staff user yet" in text
    worker_pid = int(re.search(r"task worker: running \(process (\d+)\)", text).group(1))
    assert _alive(worker_pid)
    served["process"].kill()
    served["process"].wait(timeout=5)
    deadline = time.monotonic() + 15
    while _alive(worker_pid):
        assert time.monotonic() < deadline, "the worker outlived akkoord serve"
        time.sleep(0.2)
    assert _rows(served["db"], "SELECT COUNT(*) FROM front_workerheartbeat") == [(0,)]


def test_serve_says_so_when_mail_goes_to_a_real_server(settings):
    settings.AKKOORD_SMTP_URL = "smtp+starttls://user:secret@mail.example.nl:587"
    catcher, line = Serve()._start_catcher()
    assert catcher is None
    assert "mail.example.nl:587" in line and "not started" in line
    assert "secret" not in line


def test_serve_skips_the_worker_for_other_task_backends(settings):
    settings.AKKOORD_TASK_BACKEND = "rq"
    worker, line = Serve()._start_worker(no_worker=False)
    assert worker is None
    assert "not started" in line and "rqworker" in line


def test_serve_refuses_a_port_that_is_taken(transactional_db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match="Cannot listen"):
            call_command("serve", port=port, skip_checks=True)


def _seen_at(worker_id: str):
    """The heartbeat's time, or None. The test database is SQLite in memory with a
    shared cache, where a read that meets the heartbeat thread's write fails at
    once ("table is locked") instead of waiting: such a read is simply retried."""
    try:
        return (
            WorkerHeartbeat.objects.filter(worker_id=worker_id)
            .values_list("seen_at", flat=True)
            .first()
        )
    except OperationalError:
        return None


def test_worker_heartbeat_is_written_while_running_and_removed_on_stop(transactional_db):
    heartbeat = Heartbeat("host:abc", interval=0.05)
    heartbeat.start()
    try:
        deadline = time.monotonic() + 10
        while (first := _seen_at("host:abc")) is None:
            assert time.monotonic() < deadline, "no heartbeat written"
            time.sleep(0.05)
        while _seen_at("host:abc") in (None, first):
            assert time.monotonic() < deadline, "the heartbeat is not renewed"
            time.sleep(0.05)
        assert (timezone.now() - first).total_seconds() < 5
    finally:
        # Always stop the thread: left running, it outlives the test database.
        heartbeat.stop()
    assert not heartbeat.is_alive()
    assert not WorkerHeartbeat.objects.filter(worker_id="host:abc").exists()
