"""Confidence calibration: how sure a learner was against how often they were right."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from assessments.models import (
    CONFIDENCE_SCALE,
)
from practice.models import (
    PracticeSession,
    PracticeStep,
)

StepState = PracticeStep.State
CONFIDENCE_LEVELS = range(6)
CONFIDENCE_NAMES = dict(CONFIDENCE_SCALE)
# Within this many percentage points, confidence and results are taken to agree.
CALIBRATED_WITHIN = 5


@dataclass(frozen=True)
class CalibrationLevel:
    """The answers given at one confidence level and how many were right."""

    confidence: int
    answers: int
    right: int

    @property
    def label(self) -> str:
        """Return the level as the confidence slider names it ("4 - almost certain")."""
        return CONFIDENCE_NAMES.get(self.confidence, str(self.confidence))

    @property
    def percent_right(self) -> int | None:
        """Return the share right at this level, in percent (None without answers)."""
        return round(100 * self.right / self.answers) if self.answers else None


@dataclass(frozen=True)
class Calibration:
    """How sure the learner was against how often they were right."""

    levels: list[CalibrationLevel]
    answers: int
    right: int
    mean_confidence_right: float | None
    mean_confidence_wrong: float | None
    # mean(confidence / 5) - share right, in percentage points: above 0 is over-confidence.
    gap_points: int | None
    sentence: str

    @property
    def percent_right(self) -> int | None:
        """Return the share of answers that were right, in percent."""
        return round(100 * self.right / self.answers) if self.answers else None

    @property
    def percent_sure(self) -> int | None:
        """Return the mean confidence as a share of certainty, in percent."""
        if not self.answers:
            return None
        total = sum(level.confidence * level.answers for level in self.levels)
        return round(100 * total / (5 * self.answers))


def _calibration_sentence(gap: int | None) -> str:
    if gap is None:
        return "No answers with a verdict yet, so there is nothing to compare."
    if gap >= CALIBRATED_WITHIN:
        return f"You were more sure than right by {gap} points."
    if gap <= -CALIBRATED_WITHIN:
        return f"You were right more often than you were sure, by {-gap} points: trust yourself."
    return "Your confidence matched how often you were right."


def _mean(pairs: Iterable[tuple[int, int]]) -> float | None:
    pairs = list(pairs)
    count = sum(n for _, n in pairs)
    return round(sum(c * n for c, n in pairs) / count, 1) if count else None


def calibration_of(steps: QuerySet[PracticeStep]) -> Calibration:
    """Return the calibration of the steps that have a verdict and a confidence rating.

    An explain-back counts as right when it is credited with every key idea (ticked, and
    found by the reading where the item has one).
    """
    rows = (
        steps.filter(state=StepState.DONE, is_correct__isnull=False, confidence__isnull=False)
        .values("confidence")
        .annotate(answers=Count("id"), right=Count("id", filter=Q(is_correct=True)))
    )
    by_level = {row["confidence"]: row for row in rows}
    levels = [
        CalibrationLevel(
            confidence=level,
            answers=by_level[level]["answers"] if level in by_level else 0,
            right=by_level[level]["right"] if level in by_level else 0,
        )
        for level in CONFIDENCE_LEVELS
    ]
    answers = sum(level.answers for level in levels)
    right = sum(level.right for level in levels)
    gap: int | None = None
    if answers:
        sure = sum(level.confidence * level.answers for level in levels) / (5 * answers)
        gap = round(100 * (sure - right / answers))
    return Calibration(
        levels=levels,
        answers=answers,
        right=right,
        mean_confidence_right=_mean((lv.confidence, lv.right) for lv in levels),
        mean_confidence_wrong=_mean((lv.confidence, lv.answers - lv.right) for lv in levels),
        gap_points=gap,
        sentence=_calibration_sentence(gap),
    )


def session_calibration(*, session: PracticeSession) -> Calibration:
    """Return the calibration of one session's answers."""
    return calibration_of(PracticeStep.objects.filter(session=session))


def course_calibration(*, course_id: int, learner_id: int) -> Calibration:
    """Return the calibration of all the learner's practice answers in the course."""
    return calibration_of(
        PracticeStep.objects.filter(session__course_id=course_id, session__learner_id=learner_id)
    )
