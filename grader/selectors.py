"""Reads of the grader: a learner's own submissions."""

from __future__ import annotations

from django.contrib.auth.models import User

from core.errors import NotFoundError
from grader.models import Submission


def submission_for_learner(*, submission_id: int, learner: User) -> Submission:
    """Return the learner's own submission; anyone else's looks absent."""
    submission = Submission.objects.filter(id=submission_id, learner=learner).first()
    if submission is None:
        raise NotFoundError("No such submission.")
    return submission


def submission_latest(*, learner: User, exercise: str) -> Submission | None:
    """Return the learner's last submission to the exercise, if any."""
    return (
        Submission.objects.filter(learner=learner, exercise=exercise).order_by("-queued_at").first()
    )
