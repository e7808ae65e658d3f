"""Writes of the grader: save a submission, claim it, grade it, requeue stuck ones."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from core.errors import ApplicationError
from grader.exercises import EXERCISES
from grader.grading import GradeReport, grade
from grader.models import Submission
from grader.sandbox.parent import Limits, process_sandbox
from grader.verdicts import verdict_deliveries_create


def worker_name() -> str:
    """Return this process's name as recorded on the submissions it grades."""
    return f"{socket.gethostname()}:{os.getpid()}"


def grader_limits() -> Limits:
    """Return the per-submission limits from settings."""
    return Limits(
        wall_seconds=settings.GRADER_WALL_SECONDS,
        cpu_seconds=settings.GRADER_CPU_SECONDS,
        memory_bytes=settings.GRADER_MEMORY_MB * 1024 * 1024,
    )


@transaction.atomic
def submission_create(
    *,
    learner: User,
    exercise: str,
    code: str,
    response_id: int | None = None,
    now: datetime | None = None,
) -> Submission:
    """Save the learner's code as queued and enqueue its grading once the row is committed.

    `response_id` is the quiz slot the code answers, if any, checked and locked by the
    caller (assessments.services.response_code_submit): the grader only keeps it, for the
    quiz's consumer of the verdict (it wants submissions with a response)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if exercise not in EXERCISES:
        errors["exercise"] = (
            f"Unknown exercise {exercise!r}; choose one of {', '.join(sorted(EXERCISES))}."
        )
    size = len(code.encode("utf-8"))
    if not code.strip():
        errors["code"] = "Write some code before submitting."
    elif size > settings.GRADER_MAX_CODE_BYTES:
        errors["code"] = (
            f"The code is {size} bytes; the limit is {settings.GRADER_MAX_CODE_BYTES} bytes."
        )
    if errors:
        raise ApplicationError(
            "The submission was not accepted: " + " ".join(errors.values()), fields=errors
        )
    # Count and insert under a lock on the learner's row, so that simultaneous submissions
    # are counted one after another (no_key: it does not block rows that refer to the user).
    User.objects.select_for_update(no_key=True).filter(id=learner.id).exists()
    window = now - timedelta(seconds=60)
    recent = Submission.objects.filter(learner=learner, queued_at__gte=window).count()
    if recent >= settings.GRADER_SUBMISSIONS_PER_MINUTE:
        raise ApplicationError(
            f"You have submitted {recent} times in the last minute; wait a moment and try again.",
            code="rate_limited",
            status=429,
        )
    submission = Submission.objects.create(
        learner=learner,
        exercise=exercise,
        code=code,
        seed=secrets.randbits(62),
        queued_at=now,
        response_id=response_id,
    )
    _enqueue_on_commit(submission.id)
    return submission


def _enqueue_on_commit(submission_id: int) -> None:
    from grader.tasks import grade_submission

    # The row is committed first: if the broker cannot take the task, the learner's code is
    # saved all the same and the stuck sweep sends it later, so the request succeeds.
    transaction.on_commit(lambda: grade_submission.delay(submission_id), robust=True)


def submission_claim(*, submission_id: int, worker: str, now: datetime | None = None) -> bool:
    """Take a queued submission for grading; False when someone else has (or it is done)."""
    now = now or timezone.now()
    taken = Submission.objects.filter(id=submission_id, status=Submission.Status.QUEUED).update(
        status=Submission.Status.RUNNING, started_at=now, worker=worker, claims=F("claims") + 1
    )
    return taken == 1


def _report_save(submission_id: int, worker: str, report: GradeReport) -> bool:
    with transaction.atomic():
        saved = Submission.objects.filter(
            id=submission_id, status=Submission.Status.RUNNING, worker=worker
        ).update(
            status=report.status,
            score=report.score,
            checks=[
                {
                    "id": c.id,
                    "passed": c.passed,
                    "message": c.message,
                    "misconceptions": list(c.misconceptions),
                    "defects": list(c.defects),
                }
                for c in report.checks
            ],
            defects=report.defects,
            message=report.message,
            output=report.stdout[:8000],
            finished_at=timezone.now(),
            duration_ms=report.duration_ms,
        )
        if saved and report.misconceptions:
            # A claimed submission has no misconceptions yet (they are written only here,
            # once, with the verdict): add them in one insert.
            links = Submission.misconceptions.through
            # The catalogue's misconceptions, found through the submission's own relation:
            # checks name them by code, and the grader imports no quiz code.
            catalogue = cast(type[Model], Submission.misconceptions.field.related_model)
            codes = catalogue._default_manager.filter(code__in=report.misconceptions).values_list(
                "id", flat=True
            )
            links.objects.bulk_create(
                [links(submission_id=submission_id, misconception_id=code) for code in codes],
                ignore_conflicts=True,
            )
        if saved:
            # What must follow the verdict commits with it (grader/verdicts.py).
            verdict_deliveries_create(submission_id=submission_id)
    return saved == 1


def submission_grade(*, submission_id: int, worker: str | None = None) -> str:
    """Claim and grade one submission; return what happened (for logs)."""
    worker = worker or worker_name()
    if not submission_claim(submission_id=submission_id, worker=worker):
        return "not claimed"
    submission = Submission.objects.only("exercise", "code", "seed").get(id=submission_id)
    parent = process_sandbox(allow_unsandboxed=settings.GRADER_ALLOW_UNSANDBOXED)
    report = grade(
        exercise=EXERCISES[submission.exercise],
        code=submission.code,
        seed=submission.seed,
        parent=parent,
        limits=grader_limits(),
    )
    if not _report_save(submission_id, worker, report):
        return "lost the claim"
    return report.status


def submission_release(*, submission_id: int, worker: str) -> None:
    """Put a submission this worker could not grade (the sandbox failed) back in the queue."""
    Submission.objects.filter(
        id=submission_id, status=Submission.Status.RUNNING, worker=worker
    ).update(status=Submission.Status.QUEUED, worker="")


@transaction.atomic
def submission_fail(*, submission_id: int, message: str) -> None:
    """Record that a submission could not be graded at all (not the learner's fault)."""
    failed = (
        Submission.objects.filter(id=submission_id)
        .exclude(status__in=Submission.FINISHED)
        .update(status=Submission.Status.ERROR, message=message, finished_at=timezone.now())
    )
    if failed:
        verdict_deliveries_create(submission_id=submission_id)


def submissions_requeue_stuck(*, now: datetime | None = None) -> int:
    """Re-enqueue submissions left queued or running past their deadline; return how many."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.GRADER_STUCK_AFTER_SECONDS)
    stuck_running = Submission.objects.filter(
        status=Submission.Status.RUNNING, started_at__lt=deadline
    )
    given_up = stuck_running.filter(claims__gte=settings.GRADER_MAX_CLAIMS)
    for submission_id in given_up.values_list("id", flat=True):
        submission_fail(
            submission_id=submission_id,
            message=(
                "This submission could not be graded (the grader stopped repeatedly); "
                "it does not count against you."
            ),
        )
    stuck_running.update(status=Submission.Status.QUEUED, worker="")
    stuck_queued = list(
        Submission.objects.filter(
            status=Submission.Status.QUEUED, queued_at__lt=deadline
        ).values_list("id", flat=True)[:500]
    )
    from grader.tasks import grade_submission

    for submission_id in stuck_queued:
        grade_submission.delay(submission_id)
    return len(stuck_queued)
