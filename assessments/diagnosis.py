"""Diagnosis: per misconception, which CRI quadrant the learner's answers fall in.

Following Hasan, Bagayoko & Kelley (1999): on the 0-5 Certainty of Response Index, a
wrong answer given with CRI > 2.5 indicates a misconception, a wrong one with CRI <= 2.5
a gap in knowledge, a right one with CRI <= 2.5 a lucky guess, a right and sure one
knowledge. Wrong answers dominate: one confident wrong answer is a held belief even
when the learner got another item on it right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

CRI_THRESHOLD = 2.5


class Quadrant(StrEnum):
    MISCONCEPTION = "misconception"
    GAP = "gap"
    LUCKY_GUESS = "lucky_guess"
    KNOWLEDGE = "knowledge"

    @property
    def label(self) -> str:
        """Return the quadrant's name for learners and instructors."""
        return {
            "misconception": "Misconception",
            "gap": "Gap in knowledge",
            "lucky_guess": "Lucky guess",
            "knowledge": "Knowledge",
        }[self.value]


@dataclass(frozen=True)
class Evidence:
    """One answered item's bearing on one misconception."""

    code: str
    correct: bool
    confidence: int


@dataclass(frozen=True)
class MisconceptionDiagnosis:
    """The verdict on one misconception for one attempt."""

    code: str
    quadrant: Quadrant
    right: int
    wrong: int
    mean_confidence: float
    # Confidence summed over wrong answers: how firmly the wrong belief is held.
    strength: int


def quadrant_of(*, correct: bool, confidence: float) -> Quadrant:
    """Return the CRI quadrant of one answer or of a mean confidence."""
    sure = confidence > CRI_THRESHOLD
    if correct:
        return Quadrant.KNOWLEDGE if sure else Quadrant.LUCKY_GUESS
    return Quadrant.MISCONCEPTION if sure else Quadrant.GAP


def diagnose(evidence: Iterable[Evidence]) -> list[MisconceptionDiagnosis]:
    """Return one diagnosis per misconception touched, the most firmly held first."""
    by_code: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_code[item.code].append(item)
    verdicts = []
    for code, items in by_code.items():
        wrong = [e.confidence for e in items if not e.correct]
        right = [e.confidence for e in items if e.correct]
        judged = wrong or right
        mean = sum(judged) / len(judged)
        verdicts.append(
            MisconceptionDiagnosis(
                code=code,
                quadrant=quadrant_of(correct=not wrong, confidence=mean),
                right=len(right),
                wrong=len(wrong),
                mean_confidence=round(mean, 2),
                strength=sum(wrong),
            )
        )
    order = list(Quadrant)
    verdicts.sort(key=lambda d: (order.index(d.quadrant), -d.strength, -d.wrong, d.code))
    return verdicts


def strongest_misconception(
    verdicts: list[MisconceptionDiagnosis],
) -> MisconceptionDiagnosis | None:
    """Return the belief to ask the learner to explain back: held, else a gap; else none."""
    for verdict in verdicts:
        if verdict.quadrant in (Quadrant.MISCONCEPTION, Quadrant.GAP):
            return verdict
    return None
