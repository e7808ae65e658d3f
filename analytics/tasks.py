"""Celery entry points of the analytics: keep instructors' pages warm."""

from __future__ import annotations

from celery import shared_task

from analytics.misconceptions import course_gain, course_misconceptions
from analytics.statistics import quiz_statistics
from courses.models import Course


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def analytics_warm() -> int:
    """Recompute the default views of every course whose data changed; return how many
    results were looked at (unchanged ones are cache hits and cost a fingerprint)."""
    looked = 0
    for course in Course.objects.prefetch_related("quizzes"):
        for quiz in course.quizzes.all():
            quiz_statistics(quiz=quiz, attempts="first")
            looked += 1
        course_misconceptions(course=course, page=1, page_size=1)
        course_gain(course=course)
        looked += 2
    return looked
