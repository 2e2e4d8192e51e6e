"""A real `akkoord serve` on a database of its own, for tests that need real
concurrency: many threads posting to a real WSGI server while another real
process (an import) writes to the same database.

The database is a SQLite file in the test's folder, or, when the suite runs on
PostgreSQL (``DATABASE_URL``), a fresh PostgreSQL database dropped at the end.
Set-up code runs in a subprocess against that database (``Served.run_script``),
so the test's own database is never involved.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import dj_database_url

from akkoord.front.tests.subprocess_env import clean_environment

STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports. All probes stay bound until every port is
    chosen: two calls of ``free_port`` in a row may get the same port back
    (seen in CI: the web server and the mail catcher were given one port)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def http(url: str, data: bytes | None = None, timeout: float = 120) -> tuple[int, str]:
    """GET (or POST ``data``); the status and body, also for error statuses."""
    request = Request(url, data=data)  # noqa: S310 - local test URL
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urlopen(request, timeout=timeout) as response:  # noqa: S310 - local test URL
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


class ProcessOutput(threading.Thread):
    """Collects a process's output without letting the pipe fill up."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self):
        for line in self.stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


class OwnDatabase:
    """A SQLite file, or a fresh PostgreSQL database when the suite runs on PostgreSQL."""

    def __init__(self, folder):
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith("postgres")
        if self.postgres:
            self.name = f"akkoord_served_{uuid.uuid4().hex[:8]}"
            self.admin = dj_database_url.parse(url)
            self.url = urlsplit(url)._replace(path="/" + self.name).geturl()
            with closing(self._connect("postgres")) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.path = folder / "served.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _connect(self, dbname):
        import psycopg

        cfg = self.admin
        return psycopg.connect(
            host=cfg["HOST"] or "127.0.0.1",
            port=cfg["PORT"] or 5432,
            user=cfg["USER"],
            password=cfg["PASSWORD"] or None,
            dbname=dbname,
            autocommit=True,
        )

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of ``sql`` (``%s`` placeholders on both backends)."""
        if self.postgres:
            with closing(self._connect(self.name)) as conn:
                return conn.execute(sql, params).fetchall()
        with closing(sqlite3.connect(self.path, timeout=60)) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def drop(self) -> None:
        if self.postgres:
            with closing(self._connect("postgres")) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Served:
    """`akkoord serve --no-worker` on its own port, data folder and database."""

    def __init__(self, folder, extra_env: dict[str, str] | None = None):
        self.folder = folder
        self.database = OwnDatabase(folder)
        self.port, unused, catcher = free_ports(3)
        self.base = f"http://127.0.0.1:{self.port}"
        # Mail goes nowhere: these tests send none, and no catcher is started.
        self.env = clean_environment(
            AKKOORD_DATA_DIR=str(folder / "data"),
            DATABASE_URL=self.database.url,
            AKKOORD_BASE_URL=self.base,
            AKKOORD_SMTP_URL=f"smtp://127.0.0.1:{unused}",
            AKKOORD_MAILCATCHER_PORT=str(catcher),
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        self.process: subprocess.Popen | None = None
        self.output: ProcessOutput | None = None

    def run_script(self, code: str, *args: str, timeout: float = 600) -> dict:
        """Run ``code`` (after ``django.setup()``) against this database; it prints JSON."""
        script = "import django, json, sys\ndjango.setup()\n" + code
        done = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-c", script, *args],
            env={**self.env, "DJANGO_SETTINGS_MODULE": "akkoord.settings"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"set-up script failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def akkoord(self, *args: str) -> subprocess.Popen:
        """Start another `akkoord` command on this database (output collected)."""
        return subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "akkoord", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def start(self, *options: str) -> None:
        command = [sys.executable, "-m", "akkoord", "serve", "--no-worker"]
        command += ["--port", str(self.port), *options]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output = ProcessOutput(self.process.stdout)
        self.output.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"akkoord serve exited early:\n{self.output.text}")
            try:
                if http(self.base + "/healthz", timeout=5)[0] == 200:
                    return
            except (URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"akkoord serve did not answer in time:\n{self.output.text}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.database.drop()
