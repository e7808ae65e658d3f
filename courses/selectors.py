"""Who may see a course's data: its instructors, and superusers; nobody else.

Being staff (what Django's admin needs to let someone log in) or authoring banks grants
nothing over any course. Pages, the API and the admin all ask `courses_taught`. Anything
else looks absent (404), so an instructor cannot probe other courses' ids.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.errors import NotFoundError
from core.inputs import MAX_ID
from courses.models import Course


def courses_taught(user: Any) -> QuerySet[Course]:
    """Return the courses whose data `user` may see: those they teach (superusers: all)."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(instructors=user)


def course_for_instructor(*, user: Any, course_id: int) -> Course:
    """Return the course if `user` teaches it (or is a superuser); otherwise NotFoundError."""
    course = courses_taught(user).filter(id=course_id).first() if course_id <= MAX_ID else None
    if course is None:
        raise NotFoundError("No such course.")
    return course


def takes_part_as_preview(*, course: Course, user: Any) -> bool | None:
    """Return whether `user` takes part in `course`'s quizzes and practice as a preview,
    which never counts (its instructors and superusers: True; its enrolled learners: False),
    or None for anyone else, to whom the course's quizzes and practice look absent."""
    if user.is_superuser or course.instructors.filter(id=user.id).exists():
        return True
    if course.enrollments.filter(learner=user).exists():
        return False
    return None
