"""Practice's receivers: a graded code step moves its session on."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from grader.signals import submission_graded


@receiver(submission_graded, dispatch_uid="practice-code-verdict")
def on_submission_graded(*, submission_id: int, **_: Any) -> None:
    """Apply a practice code step's verdict when its submission is graded."""
    from practice.services import step_code_verdict_apply

    step_code_verdict_apply(submission_id=submission_id)
