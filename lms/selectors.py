"""Reads for API clients."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from assessments.models import Quiz
from courses.models import Course, Enrollment
from grader.models import Submission


def course_submissions(
    *,
    course: Course,
    since: datetime | None = None,
    learner_id: int | None = None,
    exercise: str | None = None,
    quiz: Quiz | None = None,
) -> QuerySet[Submission]:
    """Code submissions a course's LMS may read, oldest change first: answers to the
    course's quizzes (not previews), and the practice (no quiz) of its enrolled learners.
    Answers to another course's quizzes are that course's business, never this one's."""
    enrolled = Enrollment.objects.filter(course=course).values("learner_id")
    submissions = (
        Submission.objects.filter(
            Q(response__attempt__quiz__course=course, response__attempt__is_preview=False)
            | Q(response__isnull=True, learner_id__in=enrolled)
        )
        .select_related("response__attempt")
        .prefetch_related("misconceptions")
        .order_by("updated_at", "id")
    )
    if since is not None:
        submissions = submissions.filter(updated_at__gt=since)
    if learner_id is not None:
        submissions = submissions.filter(learner_id=learner_id)
    if exercise is not None:
        submissions = submissions.filter(exercise=exercise)
    if quiz is not None:
        submissions = submissions.filter(response__attempt__quiz=quiz)
    return submissions
