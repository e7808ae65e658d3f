"""What follows a verdict: the grader's outbox (core.outbox), applied once per consumer.

The grader knows its consumers only by name. Each one (quizzes re-score a code slot,
practice moves a code step on) registers in its AppConfig.ready() with a name, the Celery
task that applies a verdict (sent the submission's id) and which submissions it wants.
The transaction that commits a verdict (graded, or failed by the sweep) records a
delivery per consumer that wants it; see core/outbox.py for the rest of the path.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from core.outbox import LEASE, OVERDUE_AFTER, TASK_TIME_LIMIT, Consumer, Effect, Outbox
from grader.models import VerdictDelivery

__all__ = [
    "LEASE",
    "OVERDUE_AFTER",
    "TASK_TIME_LIMIT",
    "VERDICTS",
    "verdict_consumer_register",
    "verdict_consumer_unregister",
    "verdict_consumers",
    "verdict_deliveries_create",
    "verdict_deliveries_resend_overdue",
    "verdict_delivery_apply",
]

VERDICTS = Outbox(kind="verdict", model=VerdictDelivery, subject="submission")


def verdict_consumer_register(*, name: str, task: str, wants: Q) -> None:
    """Have the Celery task `task` apply every verdict on a submission matching `wants`."""
    VERDICTS.register(name=name, task=task, wants=wants)


def verdict_consumer_unregister(*, name: str) -> None:
    """Stop delivering verdicts to `name` (pending deliveries are given up by the sweep)."""
    VERDICTS.unregister(name=name)


def verdict_consumers() -> list[Consumer]:
    """Return the registered consumers."""
    return VERDICTS.consumers()


def verdict_deliveries_create(*, submission_id: int, now: datetime | None = None) -> list[str]:
    """Record, in the verdict's own transaction, a delivery for every consumer that wants
    the submission, and send their tasks once it commits; return the consumers' names."""
    return VERDICTS.record(subject_id=submission_id, now=now)


def verdict_delivery_apply(
    *, consumer: str, submission_id: int, apply: Effect, give_up: Effect | None = None
) -> float | None:
    """Apply the submission's verdict for `consumer` unless it is applied already (see
    core.outbox.Outbox.apply); return the delay of a retry, or None."""
    return VERDICTS.apply(consumer=consumer, subject_id=submission_id, apply=apply, give_up=give_up)


def verdict_deliveries_resend_overdue(*, now: datetime | None = None) -> int:
    """Send again the pending deliveries whose try is overdue; return how many."""
    return VERDICTS.resend_overdue(now=now)
