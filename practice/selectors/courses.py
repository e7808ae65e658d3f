"""The courses a learner may practise in, with what is left to practise in each."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q

from assessments.models import (
    Question,
    QuestionType,
)
from core.errors import NotFoundError
from courses.models import Course
from practice.mastery import mastery_threshold
from practice.models import (
    Mastery,
    PracticeItem,
    PracticeSession,
)
from practice.selectors.items import held_questions


@dataclass(frozen=True)
class CourseCard:
    """One course on the learner's practice list."""

    course: Course
    mastered: int
    total: int
    has_active_session: bool
    is_instructor: bool


def _practice_codes(course_ids: list[int]) -> dict[int, set[str]]:
    """Return, per course, the codes its enabled practice items probe (explain-backs and
    the items held for the post-test aside)."""
    disabled = set(
        PracticeItem.objects.filter(course_id__in=course_ids, is_enabled=False).values_list(
            "course_id", "question_id"
        )
    )
    for course_id, held in held_questions(course_ids=course_ids).items():
        disabled.update((course_id, question_id) for question_id in held)
    probes = list(
        Question.probes.through.objects.exclude(question__qtype=QuestionType.EXPLAIN).values_list(
            "question_id", "misconception__code"
        )
    )
    return {
        course_id: {
            code for question_id, code in probes if (course_id, question_id) not in disabled
        }
        for course_id in course_ids
    }


def practice_courses(*, learner: User) -> list[CourseCard]:
    """Return the courses the learner is enrolled in or teaches, with their mastery so far."""
    courses = list(
        Course.objects.filter(Q(enrollments__learner=learner) | Q(instructors=learner))
        .distinct()
        .order_by("title")
    )
    ids = [course.id for course in courses]
    taught = set(learner.courses_taught.filter(id__in=ids).values_list("id", flat=True))
    codes = _practice_codes(ids)
    mastered: dict[int, set[str]] = defaultdict(set)
    for course_id, code in Mastery.objects.filter(
        learner=learner, course_id__in=ids, p_known__gte=mastery_threshold()
    ).values_list("course_id", "misconception__code"):
        mastered[course_id].add(code)
    active = set(
        PracticeSession.objects.filter(
            learner=learner, course_id__in=ids, state=PracticeSession.State.ACTIVE
        ).values_list("course_id", flat=True)
    )
    return [
        CourseCard(
            course=course,
            mastered=len(mastered[course.id] & codes[course.id]),
            total=len(codes[course.id]),
            has_active_session=course.id in active,
            is_instructor=course.id in taught,
        )
        for course in courses
    ]


def practice_course(*, course_id: int, user: User) -> Course:
    """Return the course if `user` may practise in it (enrolled, teaching or a superuser)."""
    courses = Course.objects.filter(id=course_id)
    if not user.is_superuser:
        courses = courses.filter(Q(enrollments__learner=user) | Q(instructors=user)).distinct()
    course = courses.first()
    if course is None:
        raise NotFoundError("No such course.", fields={"course": "No such course."})
    return course
