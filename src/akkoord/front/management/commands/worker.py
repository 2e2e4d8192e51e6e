"""``akkoord worker``: the database task worker that also reports that it is alive.

It is django-tasks-db's ``db_worker`` plus a heartbeat: while the worker's
main loop runs, a small thread in the same process writes a
``WorkerHeartbeat`` row every few seconds. ``/healthz`` and the dashboard read
those rows, so "worker ok" means a worker process really runs. On a clean
stop the row is removed at once instead of going stale.
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

from akkoord.front.models import HEARTBEAT_SECONDS, WorkerHeartbeat

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

    def parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id, defaults={"seen_at": timezone.now()}
        )

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
            self.stopping.wait(min(1.0, self.interval))
        connection.close()

    def stop(self) -> None:
        """Stop beating and remove the row, so /healthz stops saying "ok" at once."""
        self.stopping.set()
        if self.ident is not None:
            self.join(timeout=self.interval + 5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except Exception:  # noqa: BLE001 - best effort on the way out
            logger.warning("could not remove the worker heartbeat", exc_info=True)


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
