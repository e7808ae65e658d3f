"""Celery entry points of the quiz flow; each calls a service."""

from celery import shared_task

from assessments.services import attempts_submit_overdue as _attempts_submit_overdue


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=180)
def attempts_submit_overdue() -> int:
    """Submit attempts whose time ran out; safe to run twice (it skips submitted ones)."""
    return _attempts_submit_overdue()
