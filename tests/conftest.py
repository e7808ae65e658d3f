"""Fixtures shared by every test: users, API clients, and a real Celery worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

from quizsite.celery import app as celery_app
from tests.factories import UserFactory


@pytest.fixture
def learner() -> Any:
    return UserFactory.create(username="ada")


@pytest.fixture
def other_learner() -> Any:
    return UserFactory.create(username="bob")


@pytest.fixture
def api(learner: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(learner)
    return client


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[Any]:
    """Run a real Celery worker (solo pool, in a thread) against the real Redis broker.

    Per test, so that tests which start worker processes of their own own the queues.
    The test's writes are committed (transactional_db) so the worker sees them.
    """
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        queues=["default", "grader"],
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ) as worker:
        yield worker


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
