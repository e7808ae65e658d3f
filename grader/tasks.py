"""Celery entry points of the grader; each takes ids and calls a service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_shutdown
from django.db import OperationalError

from core.backoff import backoff_seconds
from grader import services, verdicts
from grader.sandbox.parent import SandboxBroken, SandboxUnavailable, process_sandbox_stop

log = logging.getLogger(__name__)
# A broken sandbox waits about 1, 2, then 4 s (core.backoff) before the next try.
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 8.0


# Learner failures (wrong answers, crashes, timeouts) are results, not retries: only a
# broken sandbox or a lost database connection is retried, with backoff. Memory: one
# submission at a time per worker process (prefetch 1); arrays are a few MB at most.
@shared_task(
    bind=True,
    queue="grader",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=3,
)
def grade_submission(self, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    """Grade one submission; a redelivered task finds it claimed and does nothing."""
    worker = services.worker_name()
    try:
        return services.submission_grade(submission_id=submission_id, worker=worker)
    except SandboxUnavailable as error:
        log.error("Grading refused: %s", error)
        services.submission_fail(submission_id=submission_id, message=str(error))
        return "refused"
    except (SandboxBroken, OperationalError) as error:
        services.submission_release(submission_id=submission_id, worker=worker)
        wait = backoff_seconds(
            self.request.retries + 1, base=RETRY_BASE_SECONDS, cap=RETRY_MAX_SECONDS
        )
        raise self.retry(exc=error, countdown=wait) from error


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def submissions_requeue_stuck() -> int:
    """Re-enqueue submissions stuck in queued or running past their deadline."""
    return services.submissions_requeue_stuck()


# Memory: at most SWEEP_BATCH (500) rows of ids per run; the rest wait for the next run.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def verdict_deliveries_resend() -> int:
    """Send again the verdict deliveries whose consumer's task was lost (or whose worker died)."""
    return verdicts.verdict_deliveries_resend_overdue()


@worker_process_shutdown.connect
def _stop_sandbox(**kwargs: object) -> None:
    process_sandbox_stop()
