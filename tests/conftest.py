"""Fixtures shared by every test: users, API clients, a real Celery worker, and data made
once for a whole module (`module_state`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from rest_framework.test import APIClient

from quizsite.celery import app as celery_app
from tests.factories import UserFactory

# Tests whose outcome can depend on the database engine: raw SQL (the analytics' statistics
# and heatmap), row locks and races, constraints met under concurrency, and migrations. CI
# runs the whole suite on PostgreSQL and these again on SQLite (`-m both_backends`), the
# engine a laptop's `make test` uses; everything else means the same on either.
BOTH_BACKENDS = (
    "tests/analytics/test_statistics.py",  # analytics/responses.py, counted.py: raw SQL
    "tests/analytics/test_misconceptions.py",
    "tests/analytics/test_api.py",
    "tests/analytics/test_aggregates.py",  # upserts and integer sums in raw SQL
    "tests/analytics/test_aggregates_pending.py",  # submits applied later, in raw SQL too
    "tests/test_settings_env.py",  # SQLite's write-ahead log
    "tests/assessments/test_code_verdict_during_submit.py",  # lock order with a worker
    "tests/grader/test_rate_limit_race.py",  # select_for_update under simultaneous posts
    "tests/lms/test_races.py",
    "tests/lti/test_races.py",
    "tests/lms/test_migrations.py",  # data migrations
    "tests/lti/test_migrations.py",
    "tests/practice/test_fit_annotations.py",  # a JSON object built in SQL and decoded
    "tests/assessments/test_bank_fingerprint.py",  # hashed by PostgreSQL, by Python elsewhere
)


# The longest tests start first, so that two xdist processes end together rather than one
# finishing a minute-long test alone at the end.
LONG_FIRST = (
    "tests/analytics/test_validate_diagnosis.py",
    "tests/grader/test_exercises_statistics.py",
    "tests/browser/",
    "tests/assessments/test_blueprint.py",
    "tests/api/test_form_fuzzer.py",
    "tests/analytics/test_simulate_class.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath

    def path(item: pytest.Item) -> str:
        return item.path.relative_to(root).as_posix()

    for item in items:
        if path(item) in BOTH_BACKENDS:
            item.add_marker(pytest.mark.both_backends)
    items.sort(key=lambda item: not path(item).startswith(LONG_FIRST))


@contextlib.contextmanager
def module_state(django_db_blocker: Any) -> Iterator[None]:
    """A transaction that spans a module's tests: data made inside it (under
    `django_db_blocker.unblock()`) is made once, and each
    test's own transaction (pytest-django's `db`) is a savepoint within it, rolled back after
    the test as always, so a test still sees exactly the module's data. The whole is rolled
    back when the module ends. Django's TestCase.setUpTestData works the same way.

    Only for `db` tests: a transactional test (`transactional_db`, `live_server`, a Celery
    worker) cannot run inside another transaction, and `module_state_refuses_transactional`
    says so at once."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def catalog_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The real catalogue, loaded once for the module that asks (see `module_state`)."""
    from assessments.catalog import catalog_load

    with module_state(django_db_blocker):
        with django_db_blocker.unblock():
            catalog = catalog_load()
        yield catalog


@pytest.fixture(autouse=True)
def module_state_refuses_transactional(request: pytest.FixtureRequest) -> None:
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames)
    if transactional and transaction.get_connection().in_atomic_block:
        pytest.fail("a transactional test cannot run inside a module_state transaction")


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
