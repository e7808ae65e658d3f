"""What guided practice shows a course's instructors: who practised and how far they got,
which misconceptions practice resolved and which persist, which prerequisites were missing,
and the explain-backs waiting for a review.

Only learners' own practice counts: never an instructor's preview, nor anything done by
one of the course's instructors. Counting happens in the database, in a fixed number of
queries whatever the size of the class; Python only shapes the rows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet

from assessments.models import Misconception
from assessments.selectors import reading_ideas
from courses.models import Course
from practice.mastery import mastery_threshold
from practice.models import Mastery, PracticeSession, PracticeStep
from practice.selectors.items import post_test_questions, practice_settings_of

SessionState = PracticeSession.State
EXPLANATION_STATES = ("awaiting", "reviewed")


def counted_sessions(*, course: Course) -> QuerySet[PracticeSession]:
    """Return the course's practice sessions that count: learners', not previews."""
    instructors = Course.instructors.through.objects.filter(course_id=course.id).values("user_id")
    return PracticeSession.objects.filter(course=course, is_preview=False).exclude(
        learner_id__in=instructors
    )


def _median_steps(finished: QuerySet[PracticeSession], count: int) -> float | None:
    """Return the median number of steps of the `count` sessions in `finished`."""
    if not count:
        return None
    # The middle session, or the two middle ones of an even count, by number of steps.
    middle = (
        finished.annotate(steps_count=Count("steps"))
        .order_by("steps_count", "id")
        .values_list("steps_count", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    counts: list[int] = list(middle)
    return sum(counts) / len(counts)


def _mastery_rows(course: Course, learners: QuerySet[Any], threshold: float) -> list[Any]:
    """One row per misconception: the practising learners' mastery, counted in SQL."""
    known = Q(p_known__gte=threshold)
    return list(
        Mastery.objects.filter(course=course, learner_id__in=learners)
        .order_by()
        .values("misconception__code", "misconception__title", "misconception__kind")
        .annotate(
            # Names unlike the fields: an annotation called `held` would shadow the field.
            n_learners=Count("id"),
            n_evidence=Count("id", filter=Q(observations__gt=0)),
            n_held=Count("id", filter=Q(held=True)),
            n_resolved=Count("id", filter=Q(held=True) & known),
            n_persisting=Count("id", filter=Q(held=True) & ~known),
            n_unheld_mastered=Count("id", filter=Q(held=False) & known),
            mean_p_known=Avg("p_known"),
        )
        .order_by("misconception__code")
    )


def explanation_steps(*, course: Course, state: str | None = None) -> QuerySet[PracticeStep]:
    """Return the course's finished explain-backs, awaiting review first (oldest first),
    then the reviewed ones (latest review first); `state` keeps one of the two."""
    if state is not None and state not in EXPLANATION_STATES:
        raise ValueError(f"state must be one of {', '.join(EXPLANATION_STATES)}")
    sessions = counted_sessions(course=course)
    steps = PracticeStep.objects.filter(
        session__in=sessions,
        kind=PracticeStep.Kind.EXPLAIN_BACK,
        state=PracticeStep.State.DONE,
    )
    if state == "awaiting":
        steps = steps.filter(reviewed_at__isnull=True)
    elif state == "reviewed":
        steps = steps.filter(reviewed_at__isnull=False)
    return steps.select_related("session__learner", "question", "target", "reviewed_by").order_by(
        F("reviewed_at").desc(nulls_first=True), "answered_at", "id"
    )


def practice_summary(*, course: Course) -> dict[str, Any]:
    """Return the course's practice in numbers (at most four queries)."""
    threshold = mastery_threshold()
    sessions = counted_sessions(course=course)
    totals = sessions.aggregate(
        learners=Count("learner", distinct=True),
        finished=Count("id", filter=Q(state=SessionState.FINISHED)),
        stopped=Count("id", filter=Q(state=SessionState.STOPPED)),
        active=Count("id", filter=Q(state=SessionState.ACTIVE)),
    )
    rows = _mastery_rows(course, sessions.values("learner_id"), threshold)
    reviews = (
        explanation_steps(course=course)
        .order_by()
        .aggregate(
            awaiting=Count("id", filter=Q(reviewed_at__isnull=True)),
            reviewed=Count("id", filter=Q(reviewed_at__isnull=False)),
        )
    )
    prerequisite = Misconception.Kind.PREREQUISITE
    return {
        "course": course.id,
        "threshold": threshold,
        "learners_practised": totals["learners"],
        "sessions": {
            "finished": totals["finished"],
            "stopped": totals["stopped"],
            "active": totals["active"],
        },
        "median_steps_finished": _median_steps(
            sessions.filter(state=SessionState.FINISHED), totals["finished"]
        ),
        "misconceptions": [
            {
                "code": row["misconception__code"],
                "title": row["misconception__title"],
                "learners": row["n_learners"],
                "evidence": row["n_evidence"],
                "held": row["n_held"],
                "resolved": row["n_resolved"],
                "persisting": row["n_persisting"],
                "mastered_without_holding": row["n_unheld_mastered"],
                "mean_p_known": row["mean_p_known"],
            }
            for row in rows
            if row["misconception__kind"] != prerequisite
        ],
        "prerequisites": [
            {
                "code": row["misconception__code"],
                "title": row["misconception__title"],
                "learners": row["n_learners"],
                "missed": row["n_held"],
                "mastered_since": row["n_resolved"],
                "still_missing": row["n_persisting"],
            }
            for row in rows
            if row["misconception__kind"] == prerequisite
        ],
        "explanations_awaiting": reviews["awaiting"],
        "explanations_reviewed": reviews["reviewed"],
    }


def practice_settings_summary(*, course: Course) -> dict[str, Any]:
    """Return the course's practice settings and how many post-test items practice holds back."""
    use = practice_settings_of(course=course).use_post_test_items
    reserved = post_test_questions(course_ids=[course.id])[course.id]
    return {
        "use_post_test_items": use,
        "post_test_items": len(reserved),
        "held_back": 0 if use else len(reserved),
    }


def explanation_row(step: PracticeStep) -> dict[str, Any]:
    """Return one explain-back as the review queue and the API show it."""
    question = step.prompt
    ticked = set(step.self_assessed_ideas or [])
    found = None if step.review_ideas is None else set(step.review_ideas)
    read = reading_ideas(key_ideas=question.key_ideas, reading=step.reading, beliefs={})
    learner = step.session.learner
    return {
        "id": step.id,
        "session": step.session_id,
        "learner": {"id": learner.id, "username": learner.username},
        "question": {"id": question.id, "slug": question.slug, "stem": question.stem},
        "text": step.text,
        "answered_at": step.answered_at,
        "key_ideas": [
            {
                "index": index,
                "text": idea,
                "self_assessed": index in ticked,
                "reviewed": None if found is None else index in found,
                "reading": None
                if read[index].verdict is None
                else {
                    "verdict": read[index].verdict,
                    "quote": read[index].quote,
                    "misconceptions": read[index].codes,
                },
            }
            for index, idea in enumerate(question.key_ideas)
        ],
        "self_assessed_ideas": sorted(ticked),
        "reviewed_at": step.reviewed_at,
        "reviewed_by": step.reviewed_by.username if step.reviewed_by else None,
        "review_ideas": None if found is None else sorted(found),
        "review_comment": step.review_comment,
    }
