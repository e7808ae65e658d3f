"""One crash-safe path for every verdict: written with it, applied once by each consumer.

Faults are injected for real: a consumer that raises, a worker killed with SIGKILL while
its consumers wait on locked rows, a submission the stuck sweep fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from assessments.catalog import catalog_load
from assessments.models import Attempt, Quiz
from assessments.services import attempt_start, attempt_submit, response_code_submit
from courses.models import Course
from grader import services, verdicts
from grader.exercises import exercise_get
from grader.models import Submission, VerdictDelivery
from lms.models import ApiClient, WebhookDelivery, WebhookEndpoint
from practice.models import PracticeSession, PracticeStep
from practice.services import step_code_submit, step_code_verdict_apply, step_code_verdict_lost
from quizsite.celery import app as celery_app
from tests.factories import UserFactory
from tests.grader.test_submissions import _database_url
from tests.practice.test_code_steps import _to_the_code_step

Applied = VerdictDelivery.State.APPLIED
QUIZ = "quiz-slot"
PRACTICE = "practice-step"
FLAKY = "practice-step-flaky"
CONSUMER_TASKS = {"assessments.tasks.submission_verdict_apply", "practice.tasks.step_verdict_apply"}


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)


# A consumer for the test only: practice's own effect, failing on its first try with the
# error the issue names (the database went away), like a receiver that raises once.
def _fails_once_then_moves_the_step_on(*, submission_id: int) -> None:
    delivery = VerdictDelivery.objects.get(submission_id=submission_id, consumer=FLAKY)
    if delivery.tries == 1:
        raise OperationalError("injected: server closed the connection unexpectedly")
    step_code_verdict_apply(submission_id=submission_id)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def flaky_step_verdict_apply(self: Any, submission_id: int) -> None:
    delay = verdicts.verdict_delivery_apply(
        consumer=FLAKY,
        submission_id=submission_id,
        apply=_fails_once_then_moves_the_step_on,
        give_up=step_code_verdict_lost,
    )
    if delay is not None:
        raise self.retry(countdown=delay)


@pytest.fixture
def flaky_practice_consumer() -> Iterator[None]:
    """Practice listens through the flaky consumer instead of its own, for one test."""
    own = next(c for c in verdicts.verdict_consumers() if c.name == PRACTICE)
    verdicts.verdict_consumer_unregister(name=PRACTICE)
    verdicts.verdict_consumer_register(
        name=FLAKY, task=flaky_step_verdict_apply.name, wants=own.wants
    )
    try:
        yield
    finally:
        verdicts.verdict_consumer_unregister(name=FLAKY)
        verdicts.verdict_consumer_register(name=own.name, task=own.task, wants=own.wants)


@pytest.fixture
def empty_broker() -> None:
    """Start with no task of an earlier test (or run) in the queues: one sent for a
    submission id this test reuses would count as a try of this test's delivery."""
    _redis().delete("default", "grader", "unacked", "unacked_index")


def _code_step(learner: Any) -> tuple[Course, PracticeStep]:
    course = Course.objects.create(slug="verdicts", title="Verdicts")
    _, step = _to_the_code_step(course, learner)
    return course, step


def _reference(exercise: str) -> str:
    return exercise_get(exercise).reference_source


# Which consumers hear of which verdicts


def test_every_consumer_names_a_celery_task():
    names = {c.name: c.task for c in verdicts.verdict_consumers()}
    assert names == {
        QUIZ: "assessments.tasks.submission_verdict_apply",
        PRACTICE: "practice.tasks.step_verdict_apply",
    }
    assert set(names.values()) <= set(celery_app.tasks)


@pytest.mark.django_db
def test_a_verdict_is_recorded_for_the_consumers_that_want_it(learner):
    # given: a practice code step's submission, a quiz slot's and an exercise page's
    catalog_load()
    course, step = _code_step(learner)
    step = step_code_submit(
        step_id=step.id, learner=learner, code=_reference(step.question.exercise), confidence=3
    )
    Quiz.objects.filter(slug="dropout-code").update(course=course)
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    slot = attempt.responses.get(question__exercise="dropout-forward").slot
    quiz_submission = response_code_submit(
        learner=learner, exercise="dropout-forward", code="x = 1", attempt_id=attempt.id, slot=slot
    )
    page_submission = services.submission_create(
        learner=learner, exercise="dropout-forward", code="x = 1"
    )
    # when: each gets its verdict (the stuck sweep's failure is one)
    for submission_id in (step.submission_id, quiz_submission.id, page_submission.id):
        services.submission_fail(submission_id=submission_id, message="could not be graded")
    # then: one pending delivery per interested consumer, written with the verdict
    deliveries = {
        d.submission_id: (d.consumer, d.state, d.tries) for d in VerdictDelivery.objects.all()
    }
    assert deliveries == {
        step.submission_id: (PRACTICE, "pending", 0),
        quiz_submission.id: (QUIZ, "pending", 0),
    }


@pytest.mark.django_db(transaction=True)
def test_deliveries_are_written_only_inside_the_verdict_transaction(learner):
    submission = Submission.objects.create(
        learner=learner, exercise="dropout-forward", code="x", seed=1, queued_at=timezone.now()
    )
    with pytest.raises(RuntimeError, match="verdict's transaction"):
        verdicts.verdict_deliveries_create(submission_id=submission.id)


def test_a_consumer_name_is_registered_once():
    with pytest.raises(Exception, match="Two verdict consumers"):
        verdicts.verdict_consumer_register(name=QUIZ, task="elsewhere", wants=Q())


# (a) A consumer that raises once, then succeeds


@pytest.mark.django_db(transaction=True)
def test_a_consumer_that_raises_once_is_retried_and_the_step_moves_on(
    empty_broker, celery_worker, learner, settings, flaky_practice_consumer
):
    # given: a practice code step that practice hears of through a consumer failing once
    settings.OUTBOX_RETRY_BASE_SECONDS = 1  # the retry comes 0.5 to 1 s later
    catalog_load()
    _, step = _code_step(learner)
    # when: its code is graded by the real worker
    step_code_submit(
        step_id=step.id, learner=learner, code=_reference(step.question.exercise), confidence=4
    )
    _wait(lambda: PracticeStep.objects.get(id=step.id).state == "done", "the step moving on")
    # then: the first try raised, the retry applied it, and the session moved on once
    step.refresh_from_db()
    delivery = VerdictDelivery.objects.get(submission_id=step.submission_id)
    assert (delivery.consumer, delivery.state, delivery.tries) == (FLAKY, Applied, 2)
    assert delivery.last_error.startswith("OperationalError: injected")
    assert step.is_correct is True
    assert step.session.steps.count() == step.number + 1
    assert Submission.objects.get(id=step.submission_id).claims == 1


# Giving up: nothing waits forever


@pytest.mark.django_db
def test_a_consumer_that_keeps_failing_gives_up_and_the_step_takes_code_again(
    client, learner, settings
):
    # given: a code step waiting for its verdict, and a consumer that always fails
    settings.OUTBOX_MAX_TRIES = 2
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    catalog_load()
    course, step = _code_step(learner)
    sent = "def dropout_forward(x, p, training, rng):\n    return x  # mine\n"
    step = step_code_submit(step_id=step.id, learner=learner, code=sent, confidence=3)
    services.submission_fail(submission_id=step.submission_id, message="no")

    def broken(*, submission_id: int) -> None:
        raise ValueError("a bug in the consumer")

    def try_once() -> float | None:
        return verdicts.verdict_delivery_apply(
            consumer=PRACTICE,
            submission_id=step.submission_id,
            apply=broken,
            give_up=step_code_verdict_lost,
        )

    # when: it is tried OUTBOX_MAX_TRIES times (a bug is left to the sweep: no retry now)
    assert [try_once(), try_once()] == [None, None]
    step.refresh_from_db()
    assert step.state == "grading"
    delivery = VerdictDelivery.objects.get(submission_id=step.submission_id)
    assert (delivery.state, delivery.tries) == ("pending", 2)
    assert delivery.last_error == "ValueError: a bug in the consumer"
    # and once more
    assert try_once() is None
    # then: given up, visibly, and the step asks for the code again
    delivery.refresh_from_db()
    assert delivery.state == "given_up"
    assert delivery.last_error.startswith("Given up after 2 tries. Last error: ValueError")
    assert delivery.next_try_at is None
    step.refresh_from_db()
    assert step.state == "open"
    client.force_login(learner)
    status = client.get(f"/practice/steps/{step.id}/status/").json()
    assert status == {"state": "open", "finished": False, "could_not_grade": True}
    page = client.get(f"/practice/courses/{course.id}/").content.decode()
    assert "Your code could not be graded" in page
    assert "return x  # mine" in page
    # and the learner can send it again
    again = step_code_submit(step_id=step.id, learner=learner, code=sent, confidence=3)
    assert again.state == "grading"
    assert again.submission_id != delivery.submission_id
    assert try_once() is None  # the given-up delivery is never applied


# (b) kill -9 between the verdict's commit and its consumers


def _worker(queues: str, name: str, concurrency: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": _database_url()}
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "quizsite.settings")
    command = [sys.executable, "-m", "celery", "-A", "quizsite", "worker", "--queues", queues,
               "--concurrency", str(concurrency), "--pool", "prefork", "--hostname", f"{name}@%h",
               "--loglevel", "WARNING", "--without-mingle", "--without-gossip"]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)


def _stop(worker: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(timeout=60)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _consumer_messages(client: redis.Redis) -> tuple[int, int]:
    """Return how many consumer tasks wait in the default queue, and how many a worker
    holds (taken, not acknowledged)."""
    waiting = sum(
        json.loads(raw)["headers"]["task"] in CONSUMER_TASKS
        for raw in client.lrange("default", 0, -1)
    )
    held = sum(
        json.loads(raw)[0]["headers"]["task"] in CONSUMER_TASKS for raw in client.hvals("unacked")
    )
    return waiting, held


def _redeliver_unacknowledged() -> None:
    """Put every message taken but never acknowledged back in its queue, as Redis does
    once the visibility timeout (an hour) is over."""
    with celery_app.connection_for_write(transport_options={"visibility_timeout": 0}) as conn:
        channel: Any = conn.default_channel  # kombu's Redis channel
        channel.qos.restore_visible(num=1000)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(400)
def test_a_worker_killed_between_the_verdict_and_its_consumers_is_healed_by_the_sweep(
    empty_broker, learner
):
    # given: a practice code step and a quiz code slot, both sent for grading; the quiz is
    # submitted while its slot is graded; the course's LMS hears of every scored attempt
    catalog_load()
    course, step = _code_step(learner)
    Quiz.objects.filter(slug="dropout-code").update(course=course)
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    slot = attempt.responses.get(question__exercise="dropout-forward")
    quiz_submission = response_code_submit(
        learner=learner,
        exercise="dropout-forward",
        code=_reference("dropout-forward"),
        attempt_id=attempt.id,
        slot=slot.slot,
    )
    step = step_code_submit(
        step_id=step.id, learner=learner, code=_reference(step.question.exercise), confidence=4
    )
    attempt_submit(attempt_id=attempt.id, learner=learner)
    lms, _ = ApiClient.issue(name="LMS", scopes=["grades:read"])
    lms.courses.add(course)
    WebhookEndpoint.objects.create(
        client=lms, url="https://192.0.2.1/hook", secret="s", events=["attempt.scored"]
    )
    broker = _redis()
    submission_ids = [quiz_submission.id, step.submission_id]
    # and the verdicts are committed by a grader worker of its own
    grader = _worker("grader", "grader", 1)
    try:
        _wait(
            lambda: Submission.objects.filter(id__in=submission_ids, status="passed").count() == 2,
            "grading",
        )
    finally:
        _stop(grader)
    assert VerdictDelivery.objects.filter(state="pending").count() == 2
    assert _consumer_messages(broker) == (2, 0)
    # when: a worker takes both consumers' tasks while their rows are locked, and is killed
    # with SIGKILL before either could apply its verdict
    doomed = _worker("default", "doomed", 2)
    try:
        with transaction.atomic():
            Attempt.objects.select_for_update().get(id=attempt.id)
            PracticeSession.objects.select_for_update().get(id=step.session_id)
            _wait(lambda: _consumer_messages(broker) == (0, 2), "the doomed worker's take")
            # A moment for the pool to start them: on SQLite they wait for the database's
            # lock, on PostgreSQL for the rows'. Killed earlier, they are as unapplied.
            time.sleep(0.5)
            _stop(doomed, signal.SIGKILL)
    finally:
        _stop(doomed, signal.SIGKILL)
    # then: nothing was applied and the tasks are gone with the worker (Redis would hand
    # them out again only after its visibility timeout, an hour)
    assert VerdictDelivery.objects.filter(state="pending").count() == 2
    assert Attempt.objects.get(id=attempt.id).responses.get(id=slot.id).mark is None
    assert PracticeStep.objects.get(id=step.id).state == "grading"
    assert _consumer_messages(broker) == (0, 2)
    # when: the beat sweep runs once their lease is over, and a new worker starts
    later = timezone.now() + verdicts.LEASE + verdicts.OVERDUE_AFTER + timedelta(seconds=1)
    assert verdicts.verdict_deliveries_resend_overdue(now=later) == 2
    healer = _worker("default", "healer", 1)
    try:
        _wait(
            lambda: VerdictDelivery.objects.filter(state=Applied).count() == 2,
            "the sweep's tasks applying the verdicts",
        )
        # and the dead worker's own tasks come back too, as they would after the hour
        _redeliver_unacknowledged()
        _wait(lambda: _consumer_messages(broker) == (0, 0), "the redelivered tasks")
    finally:
        _stop(healer)
    # then: every consumer applied its verdict exactly once
    assert verdicts.verdict_deliveries_resend_overdue(now=later) == 0
    deliveries = VerdictDelivery.objects.filter(submission_id__in=submission_ids)
    assert {(d.consumer, d.state) for d in deliveries} == {(QUIZ, Applied), (PRACTICE, Applied)}
    assert all(d.tries <= 2 for d in deliveries)  # a try the kill cut short counts
    response = Attempt.objects.get(id=attempt.id).responses.get(id=slot.id)
    assert (response.mark, response.is_correct) == (1, True)
    scored = WebhookDelivery.objects.filter(attempt_id=attempt.id, event="attempt.scored")
    assert scored.count() == 1  # the slot re-scored once: one score sent to the LMS
    step.refresh_from_db()
    assert (step.state, step.is_correct) == ("done", True)
    assert step.session.steps.count() == step.number + 1  # the session moved on once
    assert all(s.claims == 1 for s in Submission.objects.filter(id__in=submission_ids))


# (c) The stuck sweep's failure re-scores its quiz slot


@pytest.mark.django_db(transaction=True)
def test_a_submission_the_sweep_fails_rescores_its_quiz_slot(empty_broker, celery_worker, learner):
    # given: a submitted attempt whose code slot's submission is stuck in a dead worker
    catalog_load()
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    slot = attempt.responses.get(question__exercise="dropout-forward")
    long_ago = timezone.now() - timedelta(seconds=settings.GRADER_STUCK_AFTER_SECONDS + 60)
    stuck = Submission.objects.create(
        learner=learner,
        exercise="dropout-forward",
        code="x = 1",
        seed=1,
        response=slot,
        queued_at=long_ago,
        status=Submission.Status.RUNNING,
        started_at=long_ago,
        claims=settings.GRADER_MAX_CLAIMS,
        worker="gone:1",
    )
    attempt_submit(attempt_id=attempt.id, learner=learner)
    assert attempt.responses.get(id=slot.id).mark is None  # still being graded
    # when: the sweep gives up on it
    services.submissions_requeue_stuck()
    # then: the verdict reaches the slot: scored, and the attempt's score with it
    _wait(lambda: attempt.responses.get(id=slot.id).mark is not None, "the slot's re-score")
    stuck.refresh_from_db()
    assert stuck.status == "error"
    assert "does not count against you" in stuck.message
    response = attempt.responses.get(id=slot.id)
    assert (response.mark, response.is_correct) == (0, False)
    delivery = VerdictDelivery.objects.get(submission=stuck)
    assert (delivery.consumer, delivery.state, delivery.tries) == (QUIZ, Applied, 1)


# The outbox in the admin


@pytest.mark.django_db
def test_the_admin_shows_deliveries_read_only_to_superusers(client, learner):
    submission = Submission.objects.create(
        learner=learner, exercise="dropout-forward", code="x", seed=1, queued_at=timezone.now()
    )
    old = timezone.now() - timedelta(hours=1)
    VerdictDelivery.objects.create(
        submission=submission, consumer=QUIZ, created_at=old, next_try_at=old, tries=3,
        last_error="OperationalError: locked",
    )  # fmt: skip
    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    staff = UserFactory.create(username="teacher", is_staff=True)
    url = "/admin/grader/verdictdelivery/"
    # when / then: the superuser sees it, overdue, and cannot change it
    client.force_login(admin)
    listing = client.get(url + "?overdue=yes")
    assert listing.status_code == 200
    assert "OperationalError: locked" in listing.content.decode()
    delivery = VerdictDelivery.objects.get()
    assert client.get(f"{url}add/").status_code == 403
    assert client.post(f"{url}{delivery.id}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"{url}{delivery.id}/change/")
    assert page.status_code == 200
    assert 'name="state"' not in page.content.decode()
    # and other staff do not
    client.force_login(staff)
    assert client.get(url).status_code == 403
