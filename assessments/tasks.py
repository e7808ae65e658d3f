"""Celery entry points of the quiz flow; each calls a service."""

from celery import shared_task

from assessments.scores import score_deliveries_resend_overdue
from assessments.services import attempts_submit_overdue as _attempts_submit_overdue
from assessments.services import response_code_verdict_apply
from grader.verdicts import TASK_TIME_LIMIT, verdict_delivery_apply

# The name quizzes listen for code verdicts under (assessments.apps registers it).
VERDICT_CONSUMER = "quiz-slot"


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=180)
def attempts_submit_overdue() -> int:
    """Submit attempts whose time ran out; safe to run twice (it skips submitted ones)."""
    return _attempts_submit_overdue()


# Applied once per verdict however often it runs (grader.verdicts), so acks_late is safe;
# the delivery's own count of tries decides when to stop. Memory: one attempt's rows.
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    soft_time_limit=TASK_TIME_LIMIT - 10,
    time_limit=TASK_TIME_LIMIT,
)
def submission_verdict_apply(self, submission_id: int) -> None:  # type: ignore[no-untyped-def]
    """Re-score the quiz slot a graded submission answers."""
    delay = verdict_delivery_apply(
        consumer=VERDICT_CONSUMER,
        submission_id=submission_id,
        apply=response_code_verdict_apply,
    )
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def score_deliveries_resend() -> int:
    """Send again the score deliveries whose consumer's task was lost (or whose worker died)."""
    return score_deliveries_resend_overdue()
