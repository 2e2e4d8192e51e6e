"""/healthz: what load balancers and `akkoord serve`'s test read."""

from datetime import timedelta
from unittest import mock

from django.db import OperationalError
from django.utils import timezone

from akkoord.front.models import WorkerHeartbeat


def test_healthz_says_ok_with_a_recent_worker_heartbeat(client, db):
    WorkerHeartbeat.objects.create(worker_id="host:1", seen_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker": "ok",
        "campaigns": "ok",
    }


def test_healthz_without_any_worker_says_not_seen(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "not seen"


def test_healthz_reports_a_stale_worker(client, db):
    WorkerHeartbeat.objects.create(
        worker_id="host:1", seen_at=timezone.now() - timedelta(minutes=10)
    )
    assert client.get("/healthz").json()["worker"] == "stale"


def test_healthz_uses_the_newest_heartbeat_of_several_workers(client, db):
    WorkerHeartbeat.objects.create(worker_id="old", seen_at=timezone.now() - timedelta(hours=1))
    WorkerHeartbeat.objects.create(worker_id="new", seen_at=timezone.now())
    assert client.get("/healthz").json()["worker"] == "ok"


def test_healthz_answers_503_when_the_database_is_down(client, db):
    with mock.patch("akkoord.front.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["status"] == "error"


def test_healthz_refuses_writes(client, db):
    assert client.post("/healthz").status_code == 405


def test_healthz_needs_no_sign_in_and_reveals_nothing_personal(client, contact):
    body = client.get("/healthz").content.decode()
    assert contact.email not in body
    assert set(client.get("/healthz").json()) == {"status", "database", "worker", "campaigns"}


def test_healthz_answers_head_for_load_balancers(client, db):
    assert client.head("/healthz").status_code == 200


def test_healthz_calls_a_worker_stale_after_a_few_missed_heartbeats(client, db):
    WorkerHeartbeat.objects.create(
        worker_id="host:1", seen_at=timezone.now() - timedelta(seconds=15)
    )
    assert client.get("/healthz").json()["worker"] == "ok"
    WorkerHeartbeat.objects.filter(worker_id="host:1").update(
        seen_at=timezone.now() - timedelta(seconds=45)
    )
    assert client.get("/healthz").json()["worker"] == "stale"
