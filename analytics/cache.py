"""Analytics results kept in Redis, keyed by a fingerprint of everything they read.

Computing a 10,000-learner class's statistics takes seconds (the database must aggregate
every counted response), while its data changes only when an attempt is submitted or
re-scored, a learner enrols, or a practice submission is graded. Each result is stored
under a key that includes a fingerprint of those rows (counts and latest change times,
read through indexes in milliseconds), so a change makes a new key and a stale result
can never be served; unchanged data is answered from Redis. A Celery beat task
(analytics.tasks.analytics_warm) recomputes what changed in the background, so
instructors normally find their pages warm. Entries expire after CACHE_SECONDS anyway,
which also bounds how long an edit to a question's options (not in the fingerprint)
can go unseen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Max, Sum

from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment
from grader.models import Submission

CACHE_SECONDS = 3600
# Part of every key: bump it when what a cached result holds or means changes (a new
# field, a new rule), so that a deploy never serves, or unpickles, a result of the old code.
CACHE_VERSION = 2
T = TypeVar("T")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _instructors(course_id: int | None) -> tuple[Any, ...]:
    if course_id is None:
        return ()
    links = Course.instructors.through.objects.filter(course_id=course_id)
    found = links.aggregate(n=Count("id"), ids=Sum("user_id"), last=Max("id"))
    return (found["n"], found["ids"], found["last"])


def quiz_fingerprint(quiz: Quiz) -> str:
    """Changes whenever an attempt at `quiz` or its course's instructors change."""
    attempts = Attempt.objects.filter(quiz=quiz).aggregate(
        n=Count("id"), last=Max("updated_at"), newest=Max("id")
    )
    return _digest(quiz.id, attempts, _instructors(quiz.course_id))


def course_fingerprint(course: Course) -> str:
    """Changes whenever the course's attempts, roster, instructors or its learners'
    graded practice submissions change."""
    attempts = Attempt.objects.filter(quiz__course=course).aggregate(
        n=Count("id"), last=Max("updated_at"), newest=Max("id")
    )
    roster = Enrollment.objects.filter(course=course).aggregate(n=Count("id"), last=Max("id"))
    practice = Submission.objects.filter(learner__enrollments__course=course).aggregate(
        n=Count("id"), last=Max("finished_at")
    )
    return _digest(course.id, attempts, roster, practice, _instructors(course.id))


def cached(name: str, fingerprint: str, compute: Callable[[], T]) -> T:
    """Return the stored result for (`name`, `fingerprint`), computing it on a miss."""
    key = f"analytics:v{CACHE_VERSION}:{name}:{fingerprint}"
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value
