"""What follows an attempt's score: the quiz's outbox (core.outbox), applied once per
consumer and per score.

A submitted attempt's score is set on submit (by the learner or the overdue sweep) and
changes when a code question's grading finishes. The transaction that sets it records a
delivery per consumer that wants the attempt (an LMS's grade webhooks, LTI gradebooks),
re-arming one already applied, and their tasks are sent once it commits. Each consumer
hands on the attempt's current score, so one run covers every change before it; a worker
that dies after the score commits leaves pending rows, which the sweep sends again.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from assessments.models import ScoreDelivery
from core.outbox import TASK_TIME_LIMIT, Consumer, Effect, Outbox

__all__ = [
    "SCORES",
    "TASK_TIME_LIMIT",
    "score_consumer_register",
    "score_consumers",
    "score_deliveries_record",
    "score_deliveries_resend_overdue",
    "score_delivery_apply",
]

SCORES = Outbox(kind="score", model=ScoreDelivery, subject="attempt")


def score_consumer_register(*, name: str, task: str, wants: Q) -> None:
    """Have the Celery task `task` hand on every score of an attempt matching `wants`."""
    SCORES.register(name=name, task=task, wants=wants)


def score_consumers() -> list[Consumer]:
    """Return the registered consumers."""
    return SCORES.consumers()


def score_deliveries_record(*, attempt_id: int, now: datetime | None = None) -> list[str]:
    """Record, in the transaction that sets the attempt's score, what must follow it."""
    return SCORES.record(subject_id=attempt_id, now=now)


def score_delivery_apply(*, consumer: str, attempt_id: int, apply: Effect) -> float | None:
    """Hand the attempt's score on for `consumer` unless done already; return the delay of
    a retry, or None."""
    return SCORES.apply(consumer=consumer, subject_id=attempt_id, apply=apply)


def score_deliveries_resend_overdue(*, now: datetime | None = None) -> int:
    """Send again the pending deliveries whose try is overdue; return how many."""
    return SCORES.resend_overdue(now=now)
