"""A code verdict that lands while its attempt is being submitted still scores the slot.

The submit scores every slot from what it reads once it holds the attempt's lock; a verdict
committed after that read is the quiz consumer's to apply. `make chaos` found the consumer
asking whether the attempt was submitted before taking that lock: it saw the submit still
uncommitted, applied nothing, and the slot kept no mark however right the code was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection, transaction
from rest_framework.test import APIClient

from assessments.catalog import catalog_load
from assessments.models import Attempt, Response
from grader.exercises import exercise_get
from grader.models import Submission, VerdictDelivery
from quizsite.celery import app as celery_app

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="SQLite runs one writing transaction at a time: the race needs row locks",
    ),
]


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.05)


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.fixture
def empty_broker() -> None:
    """No task of an earlier test in the queues (ids repeat from test to test)."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(
        "default", "grader", "unacked", "unacked_index"
    )


def test_a_verdict_committed_during_the_submit_scores_its_slot(empty_broker, learner):
    # given: a code slot answered with right code, not graded yet (no worker runs)
    catalog_load()
    api = APIClient()
    api.force_authenticate(learner)
    started = api.post("/api/v1/quizzes/dropout-code/attempts/")
    assert started.status_code == 201, started.json()
    attempt = Attempt.objects.get(id=started.json()["id"])
    slot = attempt.responses.select_related("question").get(slot=1)
    body = {
        "exercise": slot.question.exercise,
        "code": exercise_get(slot.question.exercise).reference_source,
        "attempt": attempt.id,
        "slot": 1,
    }
    sent = api.post("/api/v1/submissions/", body, format="json")
    assert sent.status_code == 202, sent.json()
    submission_id = sent.json()["id"]
    # and the learner submits the attempt, whose transaction has read the slot's
    # submission (queued) and then waits to write the marks: a row lock holds it there
    locked, release = threading.Event(), threading.Event()
    submitted: dict[str, Any] = {}

    def hold_a_slot() -> None:
        try:
            with transaction.atomic():
                Response.objects.select_for_update().get(id=attempt.responses.get(slot=2).id)
                locked.set()
                release.wait(timeout=120)
        finally:
            connection.close()

    def submit() -> None:
        try:
            reply = api.post(f"/api/v1/attempts/{attempt.id}/submit/")
            submitted.update(status=reply.status_code, body=reply.json())
        finally:
            connection.close()

    holder = threading.Thread(target=hold_a_slot)
    holder.start()
    assert locked.wait(timeout=30)
    submitter = threading.Thread(target=submit)
    submitter.start()
    try:
        _wait(_someone_waits_for_a_row_lock, "the submit waiting to write")
        # when: a real worker grades the code and hands the verdict to the quiz's consumer
        # while the submit is uncommitted; then the submit goes on
        with start_worker(
            celery_app,
            pool="solo",
            queues=["default", "grader"],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ):
            _wait(lambda: Submission.objects.get(id=submission_id).is_finished, "the verdict")
            delivery = VerdictDelivery.objects.filter(submission_id=submission_id)
            _wait(lambda: delivery.filter(tries__gte=1).exists(), "the consumer taking it")
            time.sleep(1.0)  # a consumer that does not wait for the submit is done by now
            release.set()
            submitter.join(timeout=60)
            _wait(lambda: delivery.get().state == "applied", "the verdict applied")
    finally:
        release.set()
        holder.join(timeout=60)
        submitter.join(timeout=60)
    assert submitted.get("status") == 200, submitted
    # then: the slot is scored from the verdict, and the attempt's score counts it
    answered = Response.objects.get(id=slot.id)
    assert Submission.objects.get(id=submission_id).status == "passed"
    assert answered.mark == answered.max_mark
    assert answered.is_correct is True
    assert Attempt.objects.get(id=attempt.id).score >= answered.max_mark
