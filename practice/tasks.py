"""Celery entry points of practice; each takes ids and calls a service."""

from __future__ import annotations

from celery import shared_task

from grader.verdicts import TASK_TIME_LIMIT, verdict_delivery_apply
from practice.services import step_code_verdict_apply, step_code_verdict_lost

# The name practice listens for code verdicts under (practice.apps registers it).
VERDICT_CONSUMER = "practice-step"


# Applied once per verdict however often it runs (grader.verdicts), so acks_late is safe;
# the delivery's own count of tries decides when to stop. Memory: one session's rows.
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    soft_time_limit=TASK_TIME_LIMIT - 10,
    time_limit=TASK_TIME_LIMIT,
)
def step_verdict_apply(self, submission_id: int) -> None:  # type: ignore[no-untyped-def]
    """Move on the practice step a graded submission answers; if that keeps failing, ask
    the learner for the code again."""
    delay = verdict_delivery_apply(
        consumer=VERDICT_CONSUMER,
        submission_id=submission_id,
        apply=step_code_verdict_apply,
        give_up=step_code_verdict_lost,
    )
    if delay is not None:
        raise self.retry(countdown=delay)
