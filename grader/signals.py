"""Grader signals: other apps learn of a verdict without the grader knowing them."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# Sent once a submission's verdict is committed, with `submission_id`.
submission_graded = Signal()


def submission_graded_on_commit(submission_id: int) -> None:
    """Send `submission_graded` once the current transaction commits."""
    transaction.on_commit(lambda: submission_graded.send(sender=None, submission_id=submission_id))
