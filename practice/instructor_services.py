"""Writes of a course's instructors on how its practice runs: hold back or use the post-test's
items, link confused pairs, arrange the items. (A review of an explain-back is evidence on
the learner's mastery, so it stays with the learners' writes in practice.services.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assessments.models import Misconception, Question
from core.errors import ApplicationError, ConflictError, NotFoundError
from courses.models import Course
from practice.models import (
    ConfusedPair,
    PracticeItem,
    PracticeSession,
    PracticeSettings,
    PracticeStep,
)
from practice.selectors.items import BUILT_IN_PAIRS, held_questions
from practice.services import session_held_withdraw

Kind = PracticeStep.Kind
StepState = PracticeStep.State


@transaction.atomic
def practice_settings_update(
    *,
    course: Course,
    use_post_test_items: bool,
    by: User | None = None,
    now: datetime | None = None,
) -> PracticeSettings:
    """Set whether the course's practice may use the items its post-test can draw.

    Holding them back again withdraws any such item a learner has been given but not yet
    answered: their session moves on to another step.
    """
    now = now or timezone.now()
    row, _ = PracticeSettings.objects.select_for_update().get_or_create(course=course)
    row.use_post_test_items = use_post_test_items
    row.updated_by = by
    row.full_clean()
    row.save()
    if not use_post_test_items:
        held = held_questions(course_ids=[course.id])[course.id]
        waiting = PracticeStep.objects.filter(
            session__course=course,
            session__state=PracticeSession.State.ACTIVE,
            state=StepState.OPEN,
            question_id__in=held,
        ).values_list("session_id", flat=True)
        sessions = PracticeSession.objects.select_for_update().filter(id__in=set(waiting))
        for session in sessions.order_by("id"):
            session_held_withdraw(session, held, now)
    return row


def _misconception(code: str, field: str) -> Misconception:
    misconception = Misconception.objects.filter(code=code.strip()).first()
    if misconception is None:
        raise ApplicationError(
            f"Unknown misconception {code!r}.", fields={field: f"Unknown code {code!r}."}
        )
    return misconception


@transaction.atomic
def confused_pair_add(
    *, course: Course, first: str, second: str, by: User | None = None
) -> ConfusedPair:
    """Link two misconceptions the course's learners mix up."""
    one, other = _misconception(first, "first"), _misconception(second, "second")
    if one.id == other.id:
        raise ApplicationError(
            "Choose two different misconceptions.", fields={"second": "Same as the first."}
        )
    low, high = sorted((one, other), key=lambda m: m.id)
    if tuple(sorted((one.code, other.code))) in {tuple(sorted(p)) for p in BUILT_IN_PAIRS}:
        raise ConflictError(
            f"{low.code} and {high.code} are always treated as confused.", code="pair_exists"
        )
    pair, created = ConfusedPair.objects.get_or_create(
        course=course, first=low, second=high, defaults={"created_by": by}
    )
    if not created:
        raise ConflictError(f"{low.code} and {high.code} are already linked.", code="pair_exists")
    return pair


@transaction.atomic
def confused_pair_remove(*, course: Course, pair_id: int) -> None:
    """Unlink a pair the course's instructors linked."""
    deleted, _ = ConfusedPair.objects.filter(course=course, id=pair_id).delete()
    if not deleted:
        raise NotFoundError("No such pair.", fields={"pair": "No such pair."})


@transaction.atomic
def practice_items_arrange(
    *, course: Course, order: Sequence[tuple[int, bool]]
) -> list[PracticeItem]:
    """Set the course's practice order: (question id, enabled) for every item, in order."""
    known = set(Question.objects.values_list("id", flat=True))
    ids = [question_id for question_id, _ in order]
    unknown = sorted(set(ids) - known)
    if unknown:
        raise ApplicationError(
            f"Unknown question(s): {', '.join(map(str, unknown))}.",
            fields={"order": "Unknown question."},
        )
    if len(set(ids)) != len(ids):
        raise ApplicationError(
            "Each question may appear once.", fields={"order": "A question appears twice."}
        )
    PracticeItem.objects.filter(course=course).exclude(question_id__in=ids).delete()
    rows = []
    for position, (question_id, enabled) in enumerate(order):
        row, _ = PracticeItem.objects.update_or_create(
            course=course,
            question_id=question_id,
            defaults={"position": position, "is_enabled": enabled},
        )
        rows.append(row)
    return rows
