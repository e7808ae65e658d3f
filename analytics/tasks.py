"""Celery entry points of the analytics: repair drifted aggregates, keep pages warm."""

from __future__ import annotations

import logging

from celery import shared_task

from analytics.aggregate_reads import aggregates_drifted
from analytics.aggregates import aggregates_rebuild, pending_catch_up
from analytics.misconceptions import course_gain, course_misconceptions
from analytics.statistics import quiz_statistics
from assessments.models import Quiz
from courses.models import Course

logger = logging.getLogger(__name__)
# Learners applied per run of aggregates_catch_up before it hands the rest to a new run.
CATCH_UP_LEARNERS = 200


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def aggregates_catch_up() -> int:
    """Add the submitted attempts still pending to the aggregates (one task per submit;
    one run drains what every earlier submit left, so most runs find little or nothing)."""
    applied = pending_catch_up(limit=CATCH_UP_LEARNERS)
    if applied == CATCH_UP_LEARNERS:
        aggregates_catch_up.delay()
    return applied


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def analytics_warm() -> int:
    """Rebuild the aggregates that drifted from the raw rows (a repair: submits, re-scores
    and deletions keep them in step), then recompute the default views of every course
    whose data changed; return how many results were looked at."""
    looked = 0
    for course in Course.objects.prefetch_related("quizzes"):
        if aggregates_drifted(course=course):
            logger.warning("analytics: rebuilding course %s's drifted aggregates", course.id)
            aggregates_rebuild(course=course)
        for quiz in course.quizzes.all():
            quiz_statistics(quiz=quiz, attempts="first")
            looked += 1
        course_misconceptions(course=course, page=1, page_size=1)
        course_gain(course=course)
        looked += 2
    for quiz in Quiz.objects.filter(course__isnull=True):
        if aggregates_drifted(quiz=quiz):
            aggregates_rebuild(quiz=quiz)
    return looked
