"""Scaling out: with AKKOORD_TASK_BACKEND=rq the same tasks run in RQ workers
through Redis. End to end, in subprocesses (settings are read at start-up):
enqueue from one process, run `akkoord rqworker --burst` in another, read the
result from a third. Uses the machine's Redis on 127.0.0.1, database 15."""

import subprocess
import sys

import pytest

from akkoord.front.tests.subprocess_env import clean_environment

REDIS_URL = "redis://127.0.0.1:6379/15"


def _akkoord(env, *args, timeout=120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "akkoord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture
def rq_env(tmp_path):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # Redis is part of this project's machine: no silent skip when it is down.
    connection.flushdb()
    env = clean_environment(
        AKKOORD_DATA_DIR=str(tmp_path / "data"), AKKOORD_TASK_BACKEND="rq", REDIS_URL=REDIS_URL
    )
    _akkoord(env, "migrate", "--verbosity", "0")
    yield env
    connection.flushdb()


def test_a_task_enqueued_with_rq_runs_in_an_rq_worker_and_reports_its_result(rq_env):
    enqueue = (
        "from akkoord.accountability.tasks import run_retention;"
        "print(run_retention.enqueue(dry_run=True).id)"
    )
    result_id = _akkoord(rq_env, "shell", "-c", enqueue).splitlines()[-1]

    _akkoord(rq_env, "rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job")

    read = (
        "from akkoord.accountability.tasks import run_retention;"
        f"r = run_retention.get_result({result_id!r});"
        "print(r.status, sorted(r.return_value) if r.return_value else None)"
    )
    status, _sep, keys = _akkoord(rq_env, "shell", "-c", read).splitlines()[-1].partition(" ")
    assert status == "SUCCESSFUL", keys
    assert "contacts_erased" in keys
