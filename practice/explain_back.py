"""Explain-backs: whether an answer to a catalogue prompt can be saved, which key ideas an
explanation is credited with (the learner's ticks, checked by the reading), and what the
missing ones are wrong on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assessments.answers import (
    MAX_TEXT_LENGTH,
    AnswerInput,
    answer_refuse_on_errors,
)
from assessments.explanation_reading import Reading, Verdict
from assessments.models import (
    Question,
)
from core.errors import ApplicationError


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


def ideas_validate(ideas: Sequence[int], count: int) -> list[int]:
    """Return the key ideas' numbers, sorted and once each; refuse any out of range."""
    bad = [i for i in ideas if not 0 <= i < count]
    if bad:
        raise ApplicationError(
            f"Key idea numbers must be between 0 and {count - 1}.",
            fields={"ideas": f"Unknown key idea(s): {', '.join(map(str, bad))}."},
        )
    return sorted(set(ideas))


def missing_idea_codes(question: Question, missing: Iterable[int]) -> list[str]:
    """Return the codes a learner who leaves out the `missing` key ideas is wrong on."""
    codes: dict[str, None] = {}
    for index in missing:
        if index < len(question.key_idea_probes):
            codes.update(dict.fromkeys(question.key_idea_probes[index]))
    return list(codes)


def explanation_validate(answer: AnswerInput) -> bool:
    """Check an answer to a catalogue prompt as `answer_validate` checks one to an explain
    item (text only, within limits, rated when written); return whether there is text."""
    errors: dict[str, str] = {}
    if answer.choice_ids:
        errors["choices"] = "This question takes no choices."
    if answer.numeric_value is not None:
        errors["numeric_value"] = "This question does not take a number."
    if len(answer.text) > MAX_TEXT_LENGTH:
        errors["text"] = f"Keep the answer under {MAX_TEXT_LENGTH} characters."
    answered = bool(answer.text.strip())
    answer_refuse_on_errors(answer, answered=answered, errors=errors)
    return answered
