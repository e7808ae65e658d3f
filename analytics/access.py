"""Who may see which analytics: a course's instructors (and superusers) see its quizzes
and learners; being staff, or authoring banks, grants nothing over any course.

A catalogue quiz (no course) belongs to no course's instructors. Its statistics describe
the catalogue's items, with no learner named: superusers and bank authors read them, as
judging and fixing items is the authors' work. Its responses name learners of any course:
superusers alone read those.

Anything else looks absent (404), so an instructor cannot probe other courses' ids.
"""

from __future__ import annotations

from typing import Any

from assessments.errors import ApplicationError, NotFoundError
from assessments.models import Quiz
from courses.access import courses_taught
from courses.models import Course
from courses.roles import is_bank_author
from quizsite.inputs import MAX_ID, int_field

# courses_taught and MAX_ID are imported from here too.
__all__ = [
    "MAX_ID",
    "course_for_instructor",
    "course_quiz",
    "courses_taught",
    "quiz_for_instructor",
]


def course_for_instructor(*, user: Any, course_id: int) -> Course:
    """Return the course if `user` teaches it (or is a superuser); otherwise NotFoundError."""
    course = courses_taught(user).filter(id=course_id).first() if course_id <= MAX_ID else None
    if course is None:
        raise NotFoundError("No such course.")
    return course


def quiz_for_instructor(*, user: Any, quiz_id: int, learners: bool = False) -> Quiz:
    """Return the quiz if `user` teaches its course or is a superuser, or, for a catalogue
    quiz's statistics (not `learners`' rows), authors banks; otherwise NotFoundError."""
    quiz = (
        Quiz.objects.select_related("course").filter(id=quiz_id).first()
        if quiz_id <= MAX_ID
        else None
    )
    if quiz is None:
        raise NotFoundError("No such quiz.")
    if quiz.course_id is None:
        allowed = user.is_superuser or (not learners and is_bank_author(user))
    else:
        allowed = courses_taught(user).filter(id=quiz.course_id).exists()
    if not allowed:
        raise NotFoundError("No such quiz.")
    return quiz


def course_quiz(course: Course, raw: str) -> Quiz:
    """One of `course`'s quizzes by the id in `raw` (a query-string value); otherwise an
    ApplicationError naming the `quiz` field."""
    raw = raw.strip()
    try:
        quiz = course.quizzes.filter(id=int_field(raw, field="quiz")).first()
    except ApplicationError:
        quiz = None
    if quiz is None:
        raise ApplicationError(
            f"{raw[:40]!r} is not a quiz of this course.",
            fields={"quiz": "Not a quiz of this course."},
        )
    return quiz
