"""``akkoord serve``: everything Akkoord needs on one machine, in one command.

It brings the database up to date, starts the local mail catcher (when the
outgoing mail goes to it), starts a task worker in a child process, and serves
the web app with waitress. Ctrl-C (or SIGTERM) stops all of it. ``--demo``
first fills an empty install with a demo organisation and prints how to sign in.

Production runs the same parts separately (docs/deploy.md); this command is
for trying Akkoord, development and small single-machine installs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from akkoord.mail.backends import LOCAL_HOSTS, parse_smtp_url

WORKER_STOP_SECONDS = 10
WORKER_MAX_RESTARTS = 5


def _stop_on_signal(signum, frame):
    # waitress stops its loop cleanly on KeyboardInterrupt; treat SIGTERM like Ctrl-C.
    raise KeyboardInterrupt


class WorkerProcess:
    """The task worker as a child process, restarted a few times if it dies."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.watcher = threading.Thread(
            name="akkoord-worker-watch", target=self._watch, daemon=True
        )

    def _spawn(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "akkoord", "worker", "--queue-name", "*", "--no-reload"]
        # serve has run the system checks already.
        command.append("--skip-checks")
        # If serve dies without stopping it (SIGKILL), the worker stops by itself.
        command += ["--stop-with-parent", str(os.getpid())]
        # Own process group: Ctrl-C in the terminal reaches only us, and we stop
        # the worker in order (it finishes its current task first).
        return subprocess.Popen(command, start_new_session=True)  # noqa: S603 - fixed argv

    def start(self) -> None:
        self.process = self._spawn()
        self.watcher.start()

    def _watch(self) -> None:
        restarts = 0
        while not self.stopping.wait(1.0):
            code = self.process.poll()
            if code is None:
                continue
            if self.stopping.is_set():
                return
            if restarts >= WORKER_MAX_RESTARTS:
                self.stdout.write(
                    f"The task worker stopped (exit code {code}) {restarts} times; giving up. "
                    "Background work (mail, imports) will wait until Akkoord is restarted."
                )
                return
            restarts += 1
            self.stdout.write(f"The task worker stopped (exit code {code}); starting it again.")
            time.sleep(min(2**restarts, 30))
            if not self.stopping.is_set():
                self.process = self._spawn()

    def stop(self) -> int | None:
        """Ask the worker to finish its current task and stop; kill it if it hangs."""
        self.stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.stdout.write("The task worker did not stop in time; killing it.")
            process.kill()
            return process.wait()


def web_options(threads: int) -> dict:
    """waitress settings that keep idle and slow clients from starving the others.

    waitress stops accepting new connections once ``connection_limit`` are
    open (its default, 100, let 100 idle sockets take the server down), and
    closes a connection idle for ``channel_timeout`` seconds (checked every
    ``cleanup_interval``). Waiting connections cost no thread, only a file
    descriptor, so the limit can be high; ``poll`` is needed past ``select``'s
    1,024 descriptors.
    """
    limit = settings.AKKOORD_WEB_CONNECTION_LIMIT
    timeout = settings.AKKOORD_WEB_CHANNEL_TIMEOUT
    if limit < 1 or timeout < 1:
        raise CommandError(
            "AKKOORD_WEB_CONNECTION_LIMIT and AKKOORD_WEB_CHANNEL_TIMEOUT must be at least 1."
        )
    _allow_open_files(limit + 100)
    return {
        "threads": threads,
        "connection_limit": limit,
        "channel_timeout": timeout,
        "cleanup_interval": max(1, min(10, timeout // 2)),
        "asyncore_use_poll": True,
    }


def _allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Command(BaseCommand):
    help = (
        "Run Akkoord on this machine: update the database, start the mail catcher and a task "
        "worker, and serve the web app. Ctrl-C stops everything."
    )
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument("--threads", type=int, default=8, help="Web server threads.")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Create a demo organisation with contacts and a staff user (once) and "
            "print how to sign in.",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a task worker here."
        )

    def handle(self, *args, host, port, threads, demo, no_worker, **options):
        from waitress import create_server

        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if threads < 1:
            raise CommandError("--threads must be at least 1.")
        base_url = self._base_url(host, port)

        self.stdout.write("Bringing the database up to date...")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)

        # whitenoise serves from the finders; it only warns when this folder is missing.
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)

        # Bind the web port first: if it is taken, fail before starting anything else.
        from akkoord.wsgi import application

        try:
            server = create_server(application, host=host, port=port, **web_options(threads))
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({error.strerror}). Is Akkoord already "
                "running? Choose another port with --port."
            ) from None

        catcher, mail_line = self._start_catcher()
        bounces = None
        worker = None
        try:
            bounces, bounce_line = self._start_bounce_receiver()
            if demo:
                from akkoord.front.demo import create_demo

                self.stdout.write("Creating the demo organisation...")
                try:
                    sign_in = create_demo()
                except RuntimeError as error:
                    raise CommandError(str(error)) from None
                self.stdout.write(sign_in.describe(base_url))
            worker, worker_line = self._start_worker(no_worker)
            self._print_startup(base_url, mail_line, worker_line, bounce_line)
            # Also for SIGINT: a process started in the background by a script
            # inherits "ignore SIGINT", and Ctrl-C must still stop it.
            signal.signal(signal.SIGTERM, _stop_on_signal)
            signal.signal(signal.SIGINT, _stop_on_signal)
            with contextlib.suppress(KeyboardInterrupt):
                server.run()
            self.stdout.write("Stopping...")
        finally:
            # Ctrl-C often arrives twice (the terminal signals the whole process
            # group, and `uv run` forwards it): let the clean stop finish. It is
            # bounded: a worker that does not stop in time is killed.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            server.close()
            if worker is not None:
                worker.stop()
            if catcher is not None:
                catcher.stop()
            if bounces is not None:
                bounces.stop()
            connection.close()
        self.stdout.write("Akkoord stopped.")

    def _base_url(self, host: str, port: int) -> str:
        """The address printed and put in mail links.

        When AKKOORD_BASE_URL is not set, it follows --host/--port so that the
        demo's links work on any port; the worker child inherits it.
        """
        if os.environ.get("AKKOORD_BASE_URL") or os.environ.get("AKKOORD_BASE_URL_FILE"):
            return settings.AKKOORD_BASE_URL
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        base_url = f"http://{shown_host}:{port}"
        settings.AKKOORD_BASE_URL = base_url
        os.environ["AKKOORD_BASE_URL"] = base_url
        return base_url

    def _start_catcher(self):
        try:
            smtp = parse_smtp_url(settings.AKKOORD_SMTP_URL)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        catcher_port = settings.AKKOORD_MAILCATCHER_PORT
        is_local_catcher = (
            smtp["host"] in LOCAL_HOSTS
            and smtp["port"] == catcher_port
            and not (smtp["use_tls"] or smtp["use_ssl"])
        )
        if not is_local_catcher:
            return None, (
                f"sent through {smtp['host']}:{smtp['port']} "
                "(AKKOORD_SMTP_URL; the local mail catcher is not started)"
            )
        from akkoord.mail.catcher import start_catcher

        try:
            catcher = start_catcher(catcher_port)
        except Exception as error:  # noqa: BLE001 - aiosmtpd reports bind errors in several types
            raise CommandError(
                f"Cannot start the mail catcher on 127.0.0.1:{catcher_port} ({error}). Is "
                "Akkoord already running? Set AKKOORD_MAILCATCHER_PORT and AKKOORD_SMTP_URL "
                "to another port."
            ) from None
        return catcher, (
            f"caught on 127.0.0.1:{catcher_port}, nothing leaves this machine "
            "(read it under Mail catcher)"
        )

    def _start_bounce_receiver(self):
        """The bounce receiver, when AKKOORD_BOUNCE_RECEIVER names where to listen."""
        if not settings.AKKOORD_BOUNCE_RECEIVER:
            return None, "not started (AKKOORD_BOUNCE_RECEIVER is empty)"
        from akkoord.deliverability.receiver import parse_listen, start_receiver

        try:
            host, port = parse_listen(settings.AKKOORD_BOUNCE_RECEIVER)
            receiver = start_receiver(host, port, lmtp=settings.AKKOORD_BOUNCE_RECEIVER_LMTP)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        except Exception as error:  # noqa: BLE001 - aiosmtpd reports bind errors in several types
            raise CommandError(
                f"Cannot start the bounce receiver on {settings.AKKOORD_BOUNCE_RECEIVER} "
                f"({error}). Is Akkoord already running?"
            ) from None
        return receiver, f"listening on {host}:{port}"

    def _start_worker(self, no_worker: bool):
        backend = settings.AKKOORD_TASK_BACKEND
        if no_worker:
            return None, "not started (--no-worker); run `akkoord worker` elsewhere"
        if backend != "database":
            how = {
                "rq": "run `akkoord rqworker --job-class django_tasks_rq.Job` separately",
                "immediate": "tasks run inside each request",
            }.get(backend, "see docs/deploy.md")
            return None, f"not started: AKKOORD_TASK_BACKEND={backend} ({how})"
        worker = WorkerProcess(self.stdout)
        worker.start()
        return worker, f"running (process {worker.process.pid})"

    def _database_line(self) -> str:
        db = settings.DATABASES["default"]
        if connection.vendor == "sqlite":
            return f"SQLite, {db['NAME']}"
        where = f"{db.get('HOST') or 'local socket'}"
        if db.get("PORT"):
            where += f":{db['PORT']}"
        return f"{connection.display_name} database {db.get('NAME')!s} on {where}"

    def _print_startup(
        self, base_url: str, mail_line: str, worker_line: str, bounce_line: str = ""
    ) -> None:
        lines = [
            "",
            f"Akkoord is running at {base_url}/",
            f"  database:    {self._database_line()}",
            f"  data folder: {settings.DATA_DIR}",
            f"  mail:        {mail_line}",
            f"  task worker: {worker_line}",
            f"  bounces:     {bounce_line}",
            f"  health:      {base_url}/healthz",
        ]
        if not get_user_model().objects.exists():
            lines.append(
                "No staff user yet: create the first administrator with `akkoord "
                "createstaffuser --role admin --email you@example.org`, or try the demo "
                "with `akkoord serve --demo`."
            )
        lines += ["Press Ctrl-C to stop.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
