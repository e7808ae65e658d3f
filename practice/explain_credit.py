"""What an explain-back is credited with: the learner's ticks, checked by the reading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assessments.explanation_reading import Reading, Verdict
from assessments.models import (
    Question,
)


@dataclass(frozen=True)
class ExplainCredit:
    """What an explain-back is credited with: the learner's ticks, checked by the reading."""

    credited: frozenset[int]
    # Per key idea the reading found contradicted, the misconception codes the text asserts.
    contradicted: dict[int, tuple[str, ...]]

    def idea_codes(self, question: Question, index: int) -> list[str]:
        """Return the codes an uncredited idea is a wrong answer on: the ones the text
        asserts when the reading found it contradicted, else those the item lists for a
        learner who leaves the idea out (key_idea_probes)."""
        if index in self.contradicted:
            return list(self.contradicted[index])
        if index < len(question.key_idea_probes):
            return list(question.key_idea_probes[index])
        return []


def explain_credit(question: Question, ticked: Iterable[int], reading: Any) -> ExplainCredit:
    """Return the key ideas an explain-back is credited with.

    Without a reading (the item has no criteria, or the step predates them) the ticks are
    taken as they are. With one, a tick is a claim to be checked: an idea counts only when
    the learner ticked it and the reading found it, and an idea the reading found
    contradicted counts as a wrong answer on the codes the text asserts.
    """
    ticks = frozenset(ticked)
    parsed = Reading.from_json(reading)
    if parsed is None or len(parsed.ideas) != len(question.key_ideas):
        return ExplainCredit(credited=ticks, contradicted={})
    found = {i for i, idea in enumerate(parsed.ideas) if idea.verdict == Verdict.FOUND}
    return ExplainCredit(
        credited=ticks & found,
        contradicted={
            i: idea.codes
            for i, idea in enumerate(parsed.ideas)
            if idea.verdict == Verdict.CONTRADICTS
        },
    )
