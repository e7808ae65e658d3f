"""Celery entry points of the LMS integration; each takes ids and calls a service."""

from __future__ import annotations

from celery import shared_task

from assessments.scores import TASK_TIME_LIMIT, score_delivery_apply
from lms import webhooks

# The name the grade webhooks listen for scores under (lms.apps registers it).
SCORE_CONSUMER = "lms-webhooks"


# One try per run; the next is a Celery retry after the backoff the service chose. A
# duplicate or early run takes nothing (conditional UPDATE), so acks_late is safe.
# Memory: one small JSON payload; the reply is read to its first 200 bytes only.
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,  # the delivery's own count (WEBHOOK_MAX_TRIES) decides
    soft_time_limit=webhooks.TRY_TIME_LIMIT - 10,
    time_limit=webhooks.TRY_TIME_LIMIT,
)
def webhook_deliver(self, delivery_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make the delivery's next try; schedule the one after if it failed transiently."""
    delay = webhooks.webhook_delivery_try(delivery_id=delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def webhook_deliveries_requeue_overdue() -> int:
    """Re-enqueue pending deliveries whose task was lost (or whose worker died)."""
    return webhooks.webhook_deliveries_requeue_overdue()


# Handed on once per score however often it runs (assessments.scores), so acks_late is
# safe; the delivery's own count of tries decides when to stop. Memory: one attempt.
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    soft_time_limit=TASK_TIME_LIMIT - 10,
    time_limit=TASK_TIME_LIMIT,
)
def attempt_score_webhooks(self, attempt_id: int) -> None:  # type: ignore[no-untyped-def]
    """Create a webhook delivery of the attempt's score for every endpoint that wants it."""
    delay = score_delivery_apply(
        consumer=SCORE_CONSUMER, attempt_id=attempt_id, apply=webhooks.attempt_deliveries_create
    )
    if delay is not None:
        raise self.retry(countdown=delay)
