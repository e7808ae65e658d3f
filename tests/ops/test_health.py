"""/healthz and /readyz: a real database, a real Redis and a real Celery worker."""

from __future__ import annotations

import json
import socket
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import Client

from quizsite.celery import app as celery_app
from quizsite.ops import store


def _worker(*, queues: list[str]):
    """A real worker (solo pool, in a thread) consuming only `queues`."""
    return start_worker(
        celery_app, pool="solo", queues=queues, perform_ping_check=False,
        loglevel="WARNING", shutdown_timeout=10,
    )  # fmt: skip


def _ready(client: Client, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_healthz_answers_without_login_or_database(client):
    # No django_db mark: a query would raise here (pytest-django blocks the database).
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_is_503_naming_the_missing_grader_worker(fresh_heartbeats, client):
    # given: the database and Redis answer, and no grader worker runs
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["grader_workers"] == {
        "ok": False,
        "alive": 0,
        "ms": body["checks"]["grader_workers"]["ms"],
    }
    assert all(check["ms"] >= 0 for check in body["checks"].values())


def test_readyz_is_ready_with_a_live_worker_and_names_no_host(
    fresh_heartbeats, celery_worker, client
):
    # when: a real worker consumes the grader queue
    response = _ready(client)
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["grader_workers"]["alive"] == 1
    text = json.dumps(body)
    database = settings.DATABASES["default"]
    for secret in (
        socket.gethostname(),
        settings.CELERY_BROKER_URL,
        str(database["NAME"]),
        celery_worker.hostname,
    ):
        assert secret not in text


def test_readyz_forgets_a_worker_that_stopped(fresh_heartbeats, transactional_db, client):
    with _worker(queues=["grader"]):
        assert _ready(client).status_code == 200
    # then: a worker that stops removes its heartbeat at once, not after it ages out
    assert client.get("/readyz").json()["checks"]["grader_workers"]["alive"] == 0


def test_a_worker_of_the_default_queue_alone_is_no_grader(
    fresh_heartbeats, transactional_db, client
):
    with _worker(queues=["default"]):
        time.sleep(0.5)  # its consumer has started by now; it must still not count
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["grader_workers"]["alive"] == 0


@pytest.mark.django_db
def test_readyz_says_which_check_failed_when_redis_is_down(client, settings, monkeypatch):
    # given: Redis is at a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    store.ops_redis.cache_clear()
    try:
        response = client.get("/readyz")
    finally:
        store.ops_redis.cache_clear()
    # then
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"] == {"ok": False, "error": "ConnectionError", "ms": checks["redis"]["ms"]}
    assert str(port) not in response.content.decode()
