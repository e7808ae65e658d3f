"""Signals other apps listen to; sent only after the transaction that caused them commits."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# Sent with `attempt_id` when a submitted attempt's score is set or changes: on submit
# (by the learner or the overdue sweep) and when a code question's grading finishes.
# Receivers (grade passback to an LMS, grade webhooks) enqueue work; they must not raise.
attempt_scored = Signal()


def attempt_scored_on_commit(attempt_id: int) -> None:
    """Send `attempt_scored` once the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: attempt_scored.send_robust(sender=attempt_scored_on_commit, attempt_id=attempt_id)
    )
