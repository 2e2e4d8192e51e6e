"""``akkoord worker``: the database task worker that also reports that it is alive.

It is django-tasks-db's ``db_worker`` plus a heartbeat: while the worker's
main loop runs, a small thread in the same process writes a
``WorkerHeartbeat`` row every few seconds. ``/healthz`` and the dashboard read
those rows, so "worker ok" means a worker process really runs. On a clean
stop the row is removed at once instead of going stale.

The same thread runs the sending watchdog (``campaigns.watchdog``) at start
and with every beat: a campaign whose sending worker was killed is queued
again, so this worker or another takes it over by itself.
"""

import logging
import os
import signal
import socket
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from akkoord.campaigns.watchdog import requeue_stalled
from akkoord.front.models import HEARTBEAT_SECONDS, WorkerHeartbeat

# Tries to remove the heartbeat row on the way out (a busy SQLite may refuse one).
STOP_ATTEMPTS = 5

logger = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Writes the heartbeat of ``worker_id`` while the process's main thread lives."""

    def __init__(
        self, worker_id: str, interval: float = HEARTBEAT_SECONDS, parent_pid: int | None = None
    ):
        super().__init__(name="akkoord-heartbeat", daemon=True)
        self.worker_id = worker_id[:100]
        self.interval = interval
        self.parent_pid = parent_pid
        self.stopping = threading.Event()
        # Held while the row is written or removed, so that a beat that was
        # already under way when stop() began cannot write the row again after
        # stop() removed it (seen on a busy machine: the row outlived the worker).
        self._row_lock = threading.Lock()

    def parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def beat(self) -> None:
        with self._row_lock:
            if self.stopping.is_set():
                return
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id, defaults={"seen_at": timezone.now()}
            )

    def watch(self) -> None:
        """Take over campaigns whose sending worker died (see campaigns.watchdog)."""
        if self.stopping.is_set():
            return
        try:
            requeue_stalled()
        except Exception:  # noqa: BLE001 - a busy database must not kill the worker
            logger.warning("the sending watchdog could not run", exc_info=True)

    def run(self) -> None:
        main = threading.main_thread()
        next_beat = 0.0
        while main.is_alive() and not self.stopping.is_set():
            if self.parent_gone():
                logger.warning("akkoord serve is gone; stopping this worker")
                # The same clean stop as Ctrl-C: the current task finishes first.
                os.kill(os.getpid(), signal.SIGTERM)
                break
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.interval
                try:
                    close_old_connections()
                    self.beat()
                except Exception:  # noqa: BLE001 - a busy database must not kill the worker
                    logger.warning("could not write the worker heartbeat", exc_info=True)
                self.watch()
            self.stopping.wait(min(1.0, self.interval))
        connection.close()

    def stop(self) -> None:
        """Stop beating and remove the row, so /healthz stops saying "ok" at once."""
        with self._row_lock:
            self.stopping.set()
            for attempt in range(STOP_ATTEMPTS):
                try:
                    WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
                    break
                except Exception:  # noqa: BLE001 - a busy database: try again, then give up
                    if attempt == STOP_ATTEMPTS - 1:
                        logger.warning("could not remove the worker heartbeat", exc_info=True)
                    else:
                        time.sleep(0.5 * (attempt + 1))
        if self.ident is not None:
            self.join(timeout=self.interval + 5)


class Command(DbWorkerCommand):
    help = "Run a database task worker that reports its heartbeat to /healthz."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--stop-with-parent",
            type=int,
            metavar="PID",
            help="Stop when the process PID (akkoord serve) is no longer this worker's parent.",
        )

    def handle(self, *args, **options):
        worker_id = f"{socket.gethostname()}:{options['worker_id']}"
        if options.get("reload"):
            # The reloader runs the worker in a child process; a heartbeat from
            # this parent would say nothing about it.
            logger.warning("akkoord worker: --reload is not supported, running without it")
            options["reload"] = False
        parent_pid = options.pop("stop_with_parent", None)
        heartbeat = Heartbeat(worker_id, parent_pid=parent_pid)
        heartbeat.beat()
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stop()
