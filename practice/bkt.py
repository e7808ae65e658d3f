"""Bayesian Knowledge Tracing (Corbett & Anderson, 1995), one skill at a time.

The "skill" is holding the right idea about one misconception: P(L) is the chance the
learner does. After each answer bearing on it,

    P(L | right) = P(L)(1-S) / (P(L)(1-S) + (1-P(L))G)
    P(L | wrong) = P(L)S / (P(L)S + (1-P(L))(1-G))
    P(L next)    = P(L | answer) + (1 - P(L | answer)) T

with prior P(L0), learn T, guess G and slip S. No forgetting, as in the standard model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class BktParams:
    """One misconception's four BKT parameters."""

    prior: float
    learn: float
    guess: float
    slip: float

    def __post_init__(self) -> None:
        for name in ("prior", "learn", "guess", "slip"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"BKT {name} must be a probability, not {value!r}.")
        if self.guess + self.slip >= 1:
            raise ValueError("BKT guess + slip must stay below 1.")


# The documented defaults (README, "Guided practice"): half the learners are taken to hold
# the right idea before any evidence; a four-option item is guessed about one time in five;
# one answer in ten slips; one opportunity in ten teaches it. Two right answers from the
# prior reach 0.95; after a wrong one, three.
DEFAULT_PARAMS = BktParams(prior=0.5, learn=0.1, guess=0.2, slip=0.1)
# Prerequisites (what a neuron is, what overfitting is): most learners of a course on dropout
# know them, and a miss comes with a lesson, so one right answer settles one and learning
# per opportunity is higher. A miss then takes two right answers.
PREREQUISITE_PARAMS = BktParams(prior=0.8, learn=0.3, guess=0.2, slip=0.1)


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """Return P(known) given one answer, before the chance to learn from it."""
    if correct:
        knew = p_known * (1 - params.slip)
        total = knew + (1 - p_known) * params.guess
    else:
        knew = p_known * params.slip
        total = knew + (1 - p_known) * (1 - params.guess)
    return knew / total if total > 0 else p_known


def bkt_update(p_known: float, correct: bool, params: BktParams) -> float:
    """Return P(known) at the next opportunity, after one right or wrong answer."""
    known = posterior(p_known, correct, params)
    return known + (1 - known) * params.learn


def p_correct(p_known: float, params: BktParams) -> float:
    """Return the chance of a right answer at the next opportunity."""
    return p_known * (1 - params.slip) + (1 - p_known) * params.guess


def bkt_trace(observations: Iterable[bool], params: BktParams) -> list[float]:
    """Return P(known) after each answer in turn, starting from the prior."""
    p_known = params.prior
    trace = []
    for correct in observations:
        p_known = bkt_update(p_known, correct, params)
        trace.append(p_known)
    return trace
