"""Submissions through the API, Redis and a real Celery worker; nothing is ever lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from assessments.catalog import catalog_load
from grader import services
from grader.exercises import exercise_get
from grader.models import Submission
from tests.factories import UserFactory

SLOW_BUT_RIGHT = """
import time
time.sleep(4)
"""


def _wait_finished(submission_id: int, seconds: float = 60.0) -> Submission:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        submission = Submission.objects.get(id=submission_id)
        if submission.is_finished:
            return submission
        time.sleep(0.1)
    raise AssertionError(
        f"submission {submission_id} not graded in {seconds} s: {submission.status}"
    )


@pytest.mark.django_db(transaction=True)
def test_the_reference_passes_and_a_wrong_solution_names_its_misconception(celery_worker, api):
    catalog_load()  # the misconception rows a verdict links to
    forward = exercise_get("dropout-forward")
    # when: the reference and an unscaled solution are submitted through the API
    right = api.post(
        "/api/v1/submissions/",
        {"exercise": "dropout-forward", "code": forward.reference_source},
        format="json",
    )
    unscaled = forward.reference_source.replace("/ (1.0 - p)", "").replace("/ (1 - p)", "")
    assert unscaled != forward.reference_source, "the reference's scaling expression changed"
    wrong = api.post(
        "/api/v1/submissions/", {"exercise": "dropout-forward", "code": unscaled}, format="json"
    )
    assert right.status_code == wrong.status_code == 202
    assert right.json()["status"] == "queued"
    # then
    passed = _wait_finished(right.json()["id"])
    failed = _wait_finished(wrong.json()["id"])
    assert passed.status == "passed", passed.checks
    assert passed.score == 1.0
    assert passed.worker and passed.started_at and passed.finished_at
    assert failed.status == "failed"
    assert "DO-NOSCALE" in {m.code for m in failed.misconceptions.all()}
    shown = api.get(f"/api/v1/submissions/{failed.id}/").json()
    assert shown["finished"] is True
    assert any(not c["passed"] and "DO-NOSCALE" in c["misconceptions"] for c in shown["checks"])
    assert "seed" not in shown


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_task_grades_nothing_twice(celery_worker, learner):
    forward = exercise_get("dropout-forward")
    submission = services.submission_create(
        learner=learner, exercise="dropout-forward", code=forward.reference_source
    )
    graded = _wait_finished(submission.id)
    assert services.submission_grade(submission_id=submission.id, worker="another") == "not claimed"
    again = Submission.objects.get(id=submission.id)
    assert (again.claims, again.worker, again.finished_at) == (1, graded.worker, graded.finished_at)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exercise": "no-such", "code": "x = 1"}, "exercise"),
        ({"exercise": "dropout-forward", "code": "   "}, "code"),
        ({"exercise": "dropout-forward", "code": "x" * 20_001}, "code"),
        ({"exercise": "dropout-forward"}, "code"),
        ({"exercise": "dropout-forward", "code": "x = 1", "seed": 1}, "seed"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(api, body, field):
    response = api.post("/api/v1/submissions/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_submissions_are_rate_limited(api, learner, settings):
    settings.GRADER_SUBMISSIONS_PER_MINUTE = 2
    for _ in range(2):
        Submission.objects.create(
            learner=learner, exercise="dropout-forward", code="x", seed=1, queued_at=timezone.now()
        )
    response = api.post(
        "/api/v1/submissions/", {"exercise": "dropout-forward", "code": "x = 1"}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert Submission.objects.count() == 2


@pytest.mark.django_db
def test_a_learner_sees_only_their_own_submissions(api, other_learner):
    theirs = Submission.objects.create(
        learner=other_learner,
        exercise="dropout-forward",
        code="x",
        seed=1,
        queued_at=timezone.now(),
    )
    assert api.get(f"/api/v1/submissions/{theirs.id}/").status_code == 404


@pytest.mark.django_db
def test_the_exercise_api_lists_and_describes_exercises(api):
    slugs = {e["slug"] for e in api.get("/api/v1/exercises/").json()["results"]}
    assert slugs == {
        "dropout-forward",
        "dropout-backward",
        "dropout-classic",
        "mc-dropout",
        "spatial-dropout",
    }
    detail = api.get("/api/v1/exercises/dropout-forward/").json()
    assert detail["signature"].startswith("def dropout_forward(x")
    assert "reference" not in str(detail).lower()
    assert api.get("/api/v1/exercises/nope/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_killing_a_worker_mid_grading_loses_no_submission():
    # given: a real prefork worker in its own process, grading a slow but right submission
    forward = exercise_get("dropout-forward")
    learner = UserFactory.create(username="patient")
    code = SLOW_BUT_RIGHT + forward.reference_source
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quizsite.settings"}
    env["DATABASE_URL"] = _database_url()
    command = [sys.executable, "-m", "celery", "-A", "quizsite", "worker", "--queues", "grader",
               "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING", "--without-mingle", "--without-gossip"]  # fmt: skip
    worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        submission = services.submission_create(
            learner=learner, exercise="dropout-forward", code=code
        )
        deadline = time.monotonic() + 60
        while Submission.objects.get(id=submission.id).status != "running":
            assert time.monotonic() < deadline, "the worker never started grading"
            time.sleep(0.1)
        # when: the whole worker is killed while it grades
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert Submission.objects.get(id=submission.id).status == "running"
    # then: the periodic sweep puts it back, and another worker grades it exactly once
    later = timezone.now() + timedelta(seconds=settings.GRADER_STUCK_AFTER_SECONDS + 1)
    assert services.submissions_requeue_stuck(now=later) == 1
    replacement = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        graded = _wait_finished(submission.id, seconds=90)
    finally:
        os.killpg(replacement.pid, signal.SIGTERM)
        replacement.wait(timeout=30)
    assert graded.status == "passed", graded.checks
    assert graded.claims == 2


def _database_url() -> str:
    """Return a URL of the test database the test process is using."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME'])}"
    return (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="PostgreSQL drops a connection on request (pg_terminate_backend); SQLite has none",
)
def test_a_worker_whose_database_connection_was_dropped_grades_the_next_one(celery_worker, learner):
    # given a worker that graded one submission and kept its connection (CELERY_DB_REUSE_MAX)
    from django.db import connection

    forward = exercise_get("dropout-forward")
    first = services.submission_create(
        learner=learner, exercise="dropout-forward", code=forward.reference_source
    )
    assert _wait_finished(first.id).status == "passed"
    # when the database drops every other connection to it, the worker's included
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (dropped,) = cursor.fetchone()
    assert dropped >= 1
    # then the next submission is graded on a new connection, not failed
    second = services.submission_create(
        learner=learner, exercise="dropout-forward", code=forward.reference_source
    )
    graded = _wait_finished(second.id)
    assert graded.status == "passed", graded.checks
