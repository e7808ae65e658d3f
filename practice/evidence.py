"""Answers as BKT observations: which misconception each answer bears on, and how.

One rule everywhere (live mastery, seeding it from quizzes, fitting): a right answer is a
right observation on every misconception the item probes; a wrong answer is a wrong
observation on the misconceptions it pointed at, and says nothing about the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from assessments.models import Attempt, Question, Response
from courses.models import Course
from practice.models import PracticeStep


@dataclass(frozen=True)
class Observation:
    """One answer's bearing on one misconception."""

    learner_id: int
    code: str
    correct: bool
    at: datetime


def _answered(at: datetime | None) -> datetime:
    # The queries below keep answered rows only.
    assert at is not None
    return at


def observations_of(
    *, correct: bool, probes: Iterable[str], revealed: Iterable[str]
) -> list[tuple[str, bool]]:
    """Return (code, right?) for one scored answer, by the rule above."""
    codes = probes if correct else revealed
    return [(code, correct) for code in sorted(set(codes))]


def _probes_by_question(question_ids: set[int]) -> dict[int, list[str]]:
    probes: dict[int, list[str]] = defaultdict(list)
    rows = Question.probes.through.objects.filter(question_id__in=question_ids).values_list(
        "question_id", "misconception__code"
    )
    for question_id, code in rows:
        probes[question_id].append(code)
    return probes


Row = tuple[int, int, int, bool | None, datetime | None]


def _observations(rows: list[Row], links: Iterable[tuple[int, str]]) -> list[Observation]:
    """Turn answer rows (id, learner, question, right?, when) and their (id, code) links to
    revealed misconceptions into observations."""
    revealed: dict[int, list[str]] = defaultdict(list)
    for answer_id, code in links:
        revealed[answer_id].append(code)
    probes = _probes_by_question({row[2] for row in rows})
    return [
        Observation(learner, code, correct, _answered(at))
        for answer_id, learner, question_id, is_correct, at in rows
        for code, correct in observations_of(
            correct=bool(is_correct), probes=probes[question_id], revealed=revealed[answer_id]
        )
    ]


def quiz_observations(*, course: Course, learner_id: int | None = None) -> list[Observation]:
    """Return the observations in the course's submitted, counted quiz attempts."""
    responses = Response.objects.filter(
        attempt__quiz__course=course,
        attempt__state=Attempt.State.SUBMITTED,
        attempt__is_preview=False,
        answered_at__isnull=False,
        is_correct__isnull=False,
    )
    if learner_id is not None:
        responses = responses.filter(attempt__learner_id=learner_id)
    rows = list(
        responses.values_list(
            "id", "attempt__learner_id", "question_id", "is_correct", "answered_at"
        )
    )
    links = Response.misconceptions.through.objects.filter(
        response_id__in=[row[0] for row in rows]
    ).values_list("response_id", "misconception__code")
    return _observations(rows, links)


def practice_observations(*, course: Course) -> list[Observation]:
    """Return the observations in the course's practice items (not explain-backs, not previews)."""
    steps = PracticeStep.objects.filter(
        session__course=course,
        session__is_preview=False,
        state=PracticeStep.State.DONE,
        is_correct__isnull=False,
        answered_at__isnull=False,
    ).exclude(kind=PracticeStep.Kind.EXPLAIN_BACK)
    rows = list(
        steps.values_list("id", "session__learner_id", "question_id", "is_correct", "answered_at")
    )
    links = PracticeStep.revealed.through.objects.filter(
        practicestep_id__in=[row[0] for row in rows]
    ).values_list("practicestep_id", "misconception__code")
    return _observations(rows, links)


def course_sequences(*, course: Course) -> dict[str, list[list[bool]]]:
    """Return, per misconception code, each learner's answers on it in time order."""
    observations = quiz_observations(course=course) + practice_observations(course=course)
    by_key: dict[tuple[str, int], list[Observation]] = defaultdict(list)
    for item in observations:
        by_key[(item.code, item.learner_id)].append(item)
    sequences: dict[str, list[list[bool]]] = defaultdict(list)
    for (code, _learner), items in sorted(by_key.items()):
        items.sort(key=lambda o: o.at)
        sequences[code].append([o.correct for o in items])
    return dict(sequences)
