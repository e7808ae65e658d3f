"""An attempt's score reaches the LMS through the score outbox: recorded with the score,
handed on once per score however often its task runs, healed by the sweep when lost."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Attempt, ScoreDelivery
from assessments.scores import score_deliveries_record, score_deliveries_resend_overdue
from assessments.services import attempt_start, attempt_submit
from core.outbox import LEASE, OVERDUE_AFTER
from courses.models import Course
from lms.models import LmsIdentity, WebhookDelivery
from lms.tasks import SCORE_CONSUMER, attempt_score_webhooks
from quizsite.celery import app as celery_app
from tests.factories import quiz_of, single

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate: Any, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def empty_broker() -> None:
    """No task of an earlier test in the queues (ids repeat from test to test)."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(
        "default", "grader", "unacked", "unacked_index"
    )


@pytest.fixture
def scored_course(lms_client: Any, receiver: Any, settings: Any) -> Any:
    """A course whose API client has a grade webhook, a learner of it, and a quiz."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    course = Course.objects.create(slug="outbox", title="Outbox")
    _, http = lms_client(course, scopes=["roster:write", "grades:read", "webhooks:manage"])
    target = receiver([200] * 10)
    created = http.post("/api/v1/webhooks/", {"url": target.url}, format="json")
    assert created.status_code == 201, created.json()
    roster = {"members": [{"lms_user_id": "u1", "role": "learner"}]}
    assert (
        http.put(f"/api/v1/courses/{course.id}/roster/", roster, format="json").status_code == 200
    )
    learner = LmsIdentity.objects.get(lms_user_id="u1").user
    return course, learner, quiz_of(single(), course=course), target


def _answer_and_submit(quiz: Any, learner: Any) -> Attempt:
    attempt = attempt_start(quiz=quiz, learner=learner)
    right = attempt.responses.get(slot=1).question.choices.get(text="Right").id
    client = APIClient()
    client.force_authenticate(learner)
    body = {"choices": [right], "confidence": 4}
    assert (
        client.put(f"/api/v1/attempts/{attempt.id}/responses/1/", body, format="json").status_code
        == 200
    )
    return attempt_submit(attempt_id=attempt.id, learner=learner)


def test_the_score_is_recorded_with_it_for_the_consumers_that_want_it(scored_course):
    # given a course quiz whose client has a webhook, and a catalogue quiz nobody hears of
    _, learner, quiz, _ = scored_course
    catalogue = quiz_of(single())
    # when both are submitted (no worker runs: only what the score's transaction wrote)
    attempt = _answer_and_submit(quiz, learner)
    other = _answer_and_submit(catalogue, learner)
    # then the course quiz's score owes the webhooks one delivery, the catalogue's nothing
    assert list(ScoreDelivery.objects.filter(attempt=attempt).values_list("consumer", "state")) == [
        (SCORE_CONSUMER, "pending")
    ]
    assert not ScoreDelivery.objects.filter(attempt=other).exists()


def _queue_drained(client: redis.Redis) -> bool:
    return client.llen("default") == 0 and client.zcard("unacked_index") == 0


def test_a_lost_task_is_healed_by_the_sweep_and_handed_on_once(empty_broker, scored_course):
    # given: a submitted attempt whose consumer task was lost (the broker emptied after the
    # score committed, as a Redis restart without persistence does); no worker runs yet
    _, learner, quiz, target = scored_course
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    attempt = _answer_and_submit(quiz, learner)
    queued = [json.loads(m)["headers"]["task"] for m in broker.lrange("default", 0, -1)]
    # the score's consumer task, beside the analytics' catch-up every submit enqueues
    assert sorted(queued) == [
        "analytics.tasks.aggregates_catch_up",
        attempt_score_webhooks.name,
    ]
    broker.delete("default")
    with start_worker(
        celery_app, pool="solo", queues=["default"], perform_ping_check=False, loglevel="WARNING"
    ):
        time.sleep(1.0)
        assert not WebhookDelivery.objects.filter(attempt=attempt).exists()
        # when the sweep runs once the delivery is overdue
        later = timezone.now() + LEASE + OVERDUE_AFTER + timedelta(seconds=1)
        assert score_deliveries_resend_overdue(now=later) == 1
        # then the worker hands the score on: one webhook delivery, delivered
        _wait(
            lambda: WebhookDelivery.objects.filter(attempt=attempt, state="delivered").exists(),
            "the webhook delivery",
        )
        # and the consumer's task arriving again (a redelivered message) hands on nothing
        attempt_score_webhooks.delay(attempt.id)
        _wait(lambda: _queue_drained(broker), "the redelivered task")
        time.sleep(0.5)
    assert WebhookDelivery.objects.filter(attempt=attempt).count() == 1
    assert ScoreDelivery.objects.get(attempt=attempt).state == "applied"
    assert len(target.requests) == 1


def test_a_new_score_re_arms_the_delivery(empty_broker, scored_course, celery_worker):
    # given a score handed on already
    _, learner, quiz, _ = scored_course
    attempt = _answer_and_submit(quiz, learner)
    _wait(lambda: ScoreDelivery.objects.get(attempt=attempt).state == "applied", "the delivery")
    # when the score is recorded again (a code slot re-scored, say)
    with transaction.atomic():
        score_deliveries_record(attempt_id=attempt.id)
    # then it is handed on again: a second webhook delivery
    _wait(lambda: WebhookDelivery.objects.filter(attempt=attempt).count() == 2, "a second delivery")
    delivery = ScoreDelivery.objects.get(attempt=attempt)
    assert (delivery.state, delivery.tries) == ("applied", 1)


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _in_a_thread(work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="SQLite runs one writing transaction at a time: the race needs row locks",
)
def test_a_score_set_while_the_last_is_handed_on_reaches_the_lms(empty_broker, scored_course):
    # given: a submitted attempt whose score is to be handed on (no worker runs yet) --
    # found by make chaos: an LMS kept a code quiz's earlier score
    _, learner, quiz, target = scored_course
    attempt = _answer_and_submit(quiz, learner)
    Attempt.objects.filter(id=attempt.id).update(score=Decimal("0.25"))
    # and webhook deliveries cannot be written for now (a lock held on their table)
    holding, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {WebhookDelivery._meta.db_table} IN SHARE MODE")
            holding.set()
            release.wait(timeout=60)

    def rescore() -> None:
        with transaction.atomic():
            rescored = Attempt.objects.select_for_update().get(id=attempt.id)
            rescored.score = Decimal("0.75")
            rescored.save(update_fields=["score", "updated_at"])
            score_deliveries_record(attempt_id=attempt.id)

    holder = _in_a_thread(hold_the_table)
    assert holding.wait(timeout=30)
    rescorer = None
    try:
        with start_worker(
            celery_app,
            pool="solo",
            queues=["default"],
            perform_ping_check=False,
            loglevel="WARNING",
        ):
            # when: a real worker has read the score (0.25) to hand it on, and waits to
            # write its delivery; meanwhile the attempt is re-scored (0.75)
            _wait(lambda: _waiting_for_locks() == 1, "the hand-on waiting to write")
            rescorer = _in_a_thread(rescore)
            _wait(
                lambda: not rescorer.is_alive() or _waiting_for_locks() == 2,
                "the new score set, or waiting for the hand-on",
            )
            release.set()
            rescorer.join(timeout=60)
            # then every hand-on owed is made and delivered
            _wait(
                lambda: ScoreDelivery.objects.get(attempt=attempt).state == "applied",
                "the score handed on",
            )
            time.sleep(1.0)  # a hand-on of the new score, if one is owed, is taken by now
            _wait(
                lambda: (
                    ScoreDelivery.objects.get(attempt=attempt).state == "applied"
                    and not WebhookDelivery.objects.filter(
                        attempt=attempt, state="pending"
                    ).exists()
                ),
                "every delivery sent",
            )
    finally:
        release.set()
        holder.join(timeout=60)
        if rescorer is not None:
            rescorer.join(timeout=60)
    # then: the LMS's latest word on the attempt is the score it has now
    assert Attempt.objects.get(id=attempt.id).score == Decimal("0.75")
    sent = list(WebhookDelivery.objects.filter(attempt=attempt).order_by("id"))
    assert sent[-1].payload["data"]["score"] == 0.75, [d.payload["data"]["score"] for d in sent]
    assert b'"score":0.75' in target.requests[-1].body
