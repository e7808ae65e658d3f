"""Who may see which analytics: a course's instructors see its quizzes and learners.

Anything else looks absent (404), so an instructor cannot probe other courses' ids.
Staff see everything, including quizzes that belong to no course.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from assessments.errors import ApplicationError, NotFoundError
from assessments.models import Quiz
from courses.models import Course

MAX_ID = 2**63 - 1  # larger ids exist nowhere (and overflow SQLite's integers)


def courses_taught(user: Any) -> QuerySet[Course]:
    """The courses `user` may analyse, by title."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_staff:
        return Course.objects.all()
    return Course.objects.filter(instructors=user)


def course_for_instructor(*, user: Any, course_id: int) -> Course:
    """Return the course if `user` teaches it (or is staff); otherwise NotFoundError."""
    course = courses_taught(user).filter(id=course_id).first() if course_id <= MAX_ID else None
    if course is None:
        raise NotFoundError("No such course.")
    return course


def quiz_for_instructor(*, user: Any, quiz_id: int) -> Quiz:
    """Return the quiz if `user` teaches its course (or is staff); otherwise NotFoundError."""
    quiz = (
        Quiz.objects.select_related("course").filter(id=quiz_id).first()
        if quiz_id <= MAX_ID
        else None
    )
    if quiz is None or not user.is_authenticated:
        raise NotFoundError("No such quiz.")
    if user.is_staff:
        return quiz
    course = quiz.course
    if course is None or not course.instructors.filter(id=user.id).exists():
        raise NotFoundError("No such quiz.")
    return quiz


def course_quiz(course: Course, raw: str) -> Quiz:
    """One of `course`'s quizzes by the id in `raw` (a query-string value); otherwise an
    ApplicationError naming the `quiz` field."""
    raw = raw.strip()
    # Beyond 19 digits no id exists, and int() refuses strings of thousands of digits.
    valid = raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_ID
    quiz = course.quizzes.filter(id=int(raw)).first() if valid else None
    if quiz is None:
        raise ApplicationError(
            f"{raw[:40]!r} is not a quiz of this course.",
            fields={"quiz": "Not a quiz of this course."},
        )
    return quiz
