"""What an answer may be, in a quiz or in practice: the limits, the answer as the learner
sent it, and its check against the question."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from assessments.models import Choice, Question, QuestionType
from core.errors import ApplicationError

MAX_TEXT_LENGTH = 5000
MAX_SECONDS_PER_SAVE = 3600
CONFIDENCE_MESSAGE = "Rate your confidence from 0 (a total guess) to 5 (certain)."


@dataclass(frozen=True)
class AnswerInput:
    """An answer as the learner sent it; fields a question does not use stay empty."""

    choice_ids: list[int] = field(default_factory=list)
    numeric_value: float | None = None
    text: str = ""
    confidence: int | None = None
    seconds_spent: int = 0


def answer_validate(
    question: Question, answer: AnswerInput, *, choices: Sequence[Choice] | None = None
) -> tuple[list[Choice], bool]:
    """Return the chosen choices and whether anything was answered; raise on bad input.

    `choices` are the question's options when the caller has them already (from a cache);
    otherwise they are the question's `choices` as loaded (prefetched or queried)."""
    errors: dict[str, str] = {}
    options = {c.id: c for c in (question.choices.all() if choices is None else choices)}
    chosen: list[Choice] = []
    takes_choices = bool(options)
    if answer.choice_ids and not takes_choices:
        errors["choices"] = "This question takes no choices."
    elif answer.choice_ids:
        unknown = sorted(set(answer.choice_ids) - options.keys())
        if unknown:
            errors["choices"] = f"Not an option of this question: {', '.join(map(str, unknown))}."
        else:
            chosen = [options[i] for i in dict.fromkeys(answer.choice_ids)]
            if question.qtype in (QuestionType.SINGLE, QuestionType.TRUE_FALSE) and len(chosen) > 1:
                errors["choices"] = "Choose only one option."
            if question.qtype == QuestionType.TWO_TIER:
                for tier, name in ((1, "answer"), (2, "reason")):
                    if sum(1 for c in chosen if c.tier == tier) > 1:
                        errors["choices"] = f"Choose only one {name}."
    if answer.numeric_value is not None:
        if question.qtype != QuestionType.NUMERIC:
            errors["numeric_value"] = "This question does not take a number."
        elif not math.isfinite(answer.numeric_value):
            errors["numeric_value"] = "Enter a finite number, for example 800 or 0.8."
    if answer.text and question.qtype != QuestionType.EXPLAIN:
        errors["text"] = "This question does not take a written answer."
    elif len(answer.text) > MAX_TEXT_LENGTH:
        errors["text"] = f"Keep the answer under {MAX_TEXT_LENGTH} characters."
    answered = bool(chosen) or answer.numeric_value is not None or bool(answer.text.strip())
    answer_refuse_on_errors(answer, answered=answered, errors=errors)
    return chosen, answered


def answer_refuse_on_errors(answer: AnswerInput, *, answered: bool, errors: dict[str, str]) -> None:
    """Add the confidence and time checks every answer takes to `errors`; raise if any."""
    out_of_range = answer.confidence is not None and not 0 <= answer.confidence <= 5
    if out_of_range or (answered and answer.confidence is None):
        errors["confidence"] = CONFIDENCE_MESSAGE
    if not 0 <= answer.seconds_spent <= MAX_SECONDS_PER_SAVE:
        errors["seconds_spent"] = f"Seconds spent must be between 0 and {MAX_SECONDS_PER_SAVE}."
    if errors:
        raise ApplicationError(
            "The answer was not saved: " + " ".join(errors.values()), fields=errors
        )
