"""The grader's exercises, one module each, registered by slug.

Each module defines EXERCISE (see base.Exercise): statement, signature, starter code, the
reference solution as source text, hints, a plan of hidden inputs drawn from a per-submission
seed, a check suite that evaluates the sandbox's decoded results, and `check_codes`: per
check id, the misconception codes that check can name (read without running anything;
`misconception_checks` turns them round, per code).
"""

from __future__ import annotations

from grader.exercises import (
    dropout_backward,
    dropout_classic,
    dropout_forward,
    mc_dropout,
    spatial_dropout,
)
from grader.exercises.base import Exercise

EXERCISES: dict[str, Exercise] = {
    module.EXERCISE.slug: module.EXERCISE
    for module in (dropout_forward, dropout_backward, dropout_classic, mc_dropout, spatial_dropout)
}


def exercise_get(slug: str) -> Exercise:
    """The exercise registered under `slug`; KeyError (listing the valid slugs) otherwise."""
    try:
        return EXERCISES[slug]
    except KeyError:
        valid = ", ".join(sorted(EXERCISES))
        raise KeyError(f"unknown exercise {slug!r}; valid slugs: {valid}") from None


def misconception_checks() -> dict[str, list[tuple[str, str]]]:
    """Return, per misconception code, the (exercise slug, check id) pairs that can name it."""
    checks: dict[str, list[tuple[str, str]]] = {}
    for slug, exercise in EXERCISES.items():
        for check_id, codes in exercise.check_codes.items():
            for code in codes:
                checks.setdefault(code, []).append((slug, check_id))
    return dict(sorted(checks.items()))
