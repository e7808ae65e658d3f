"""Keep the analytics' aggregates in step with attempts and enrolments (see
analytics/aggregates.py): connected by AnalyticsConfig.ready."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from analytics.aggregates import (
    attempt_count,
    deletion_finish,
    deletion_prepare,
    enrollment_count,
    pending_record,
)
from analytics.tasks import aggregates_catch_up
from assessments.models import Attempt
from assessments.signals import attempt_rescoring, attempt_scored
from courses.models import Enrollment

SCORED_UID = "analytics_attempt_scored"


def attempt_scored_receive(sender: Any, attempt_id: int, rescored: bool, **kwargs: Any) -> None:
    """Add what a re-scored attempt changes to the aggregates; record a submitted one as
    pending, for a worker to add off the learner's request."""
    if rescored:
        attempt_count(attempt_id=attempt_id, sign=1)
        return
    pending_record(attempt_id=attempt_id)
    # Robust: a broker that is down must not fail the submit; reads and beat catch up.
    transaction.on_commit(aggregates_catch_up.delay, robust=True)


def _rescoring(sender: Any, attempt_id: int, **kwargs: Any) -> None:
    attempt_count(attempt_id=attempt_id, sign=-1)


def _counted(instance: Attempt) -> bool:
    return instance.state == Attempt.State.SUBMITTED and not instance.is_preview


def _attempt_deleting(sender: Any, instance: Attempt, **kwargs: Any) -> None:
    if _counted(instance):
        course_id = instance.quiz.course_id
        deletion_prepare(learner=instance.learner_id, quiz_id=instance.quiz_id, course_id=course_id)


def _attempt_deleted(sender: Any, instance: Attempt, **kwargs: Any) -> None:
    if _counted(instance):
        course_id = instance.quiz.course_id
        deletion_finish(learner=instance.learner_id, quiz_id=instance.quiz_id, course_id=course_id)


def _enrollment_saved(sender: Any, instance: Enrollment, created: bool, **kwargs: Any) -> None:
    if created:
        enrollment_count(learner=instance.learner_id, course_id=instance.course_id, sign=1)


def _enrollment_deleting(sender: Any, instance: Enrollment, **kwargs: Any) -> None:
    deletion_prepare(learner=instance.learner_id, quiz_id=None, course_id=instance.course_id)


def _enrollment_deleted(sender: Any, instance: Enrollment, **kwargs: Any) -> None:
    deletion_finish(learner=instance.learner_id, quiz_id=None, course_id=instance.course_id)


def receivers_connect() -> None:
    """Connect the aggregates' receivers (once: dispatch_uid)."""
    attempt_scored.connect(attempt_scored_receive, dispatch_uid=SCORED_UID)
    attempt_rescoring.connect(_rescoring, dispatch_uid="analytics_attempt_rescoring")
    pre_delete.connect(_attempt_deleting, sender=Attempt, dispatch_uid="analytics_attempt_pre")
    post_delete.connect(_attempt_deleted, sender=Attempt, dispatch_uid="analytics_attempt_post")
    post_save.connect(_enrollment_saved, sender=Enrollment, dispatch_uid="analytics_enrol")
    pre_delete.connect(
        _enrollment_deleting, sender=Enrollment, dispatch_uid="analytics_unenrol_pre"
    )
    post_delete.connect(
        _enrollment_deleted, sender=Enrollment, dispatch_uid="analytics_unenrol_post"
    )
