"""Writes of guided practice."""

from __future__ import annotations


def step_code_verdict_apply(*, submission_id: int) -> None:
    """Apply a graded submission's verdict to the practice step it answers, if any."""
