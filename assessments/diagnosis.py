"""Diagnosis: per misconception, which CRI quadrant the learner's answers fall in.

Following Hasan, Bagayoko & Kelley (1999): on the 0-5 Certainty of Response Index, a
wrong answer given with CRI > 2.5 indicates a misconception, a wrong one with CRI <= 2.5
a gap in knowledge, a right one with CRI <= 2.5 a lucky guess, a right and sure one
knowledge.

Per misconception the answers that bear on it are combined (`quadrant_from_tally`): it is
held (quadrant "misconception") when the learner was sure of a wrong answer pointing at it
more often than sure of a right answer on it. A confident wrong answer outweighs unsure
right ones and any number of guesses, but one confident slip does not outweigh a confident
right answer on the same idea: the learner is then sure both ways, which is a gap in
knowledge, not a held belief. (Simulated learners who guess with high confidence showed
the one-slip rule calling such learners holders: `manage.py validate_diagnosis`.) With no
wrong answer the mean confidence of the right ones tells knowledge from a lucky guess.
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


def quadrant_from_tally(
    *, wrong: int, sure_wrong: int, right: int, sure_right: int, mean_right_confidence: float
) -> Quadrant:
    """Return the quadrant of one misconception from the answers that bear on it."""
    if wrong:
        return Quadrant.MISCONCEPTION if sure_wrong > sure_right else Quadrant.GAP
    return quadrant_of(correct=True, confidence=mean_right_confidence)


def is_sure(confidence: float) -> bool:
    """Return whether a confidence rating counts as sure (CRI above the threshold)."""
    return confidence > CRI_THRESHOLD


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
                quadrant=quadrant_from_tally(
                    wrong=len(wrong),
                    sure_wrong=sum(1 for c in wrong if is_sure(c)),
                    right=len(right),
                    sure_right=sum(1 for c in right if is_sure(c)),
                    mean_right_confidence=sum(right) / len(right) if right else 0.0,
                ),
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
