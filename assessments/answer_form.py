"""The question form as a page posts it: read into an answer, for quizzes and practice alike."""

from __future__ import annotations

import math

from django.http import HttpRequest

from assessments.answers import CONFIDENCE_MESSAGE, MAX_SECONDS_PER_SAVE, AnswerInput
from assessments.models import CONFIDENCE_SCALE
from core.errors import ApplicationError
from core.inputs import int_field, text_field

CONFIDENCE_LABELS = [label for _, label in CONFIDENCE_SCALE]


def answer_parse(request: HttpRequest) -> tuple[AnswerInput, dict[str, str]]:
    """Turn the question form into an answer; return field errors for what is not well formed."""
    errors: dict[str, str] = {}
    choice_ids: list[int] = []
    raw_choices = [
        raw
        for name in ("choice", "choice-tier1", "choice-tier2")
        for raw in request.POST.getlist(name)
    ]
    for raw in raw_choices:
        message = f"{raw[:20]!r} is not an option of this question."
        try:
            choice_ids.append(int_field(raw, field="choices", message=message))
        except ApplicationError as error:
            errors.update(error.fields)
    numeric_value: float | None = None
    raw_number = request.POST.get("numeric_value", "").strip().replace(",", ".")
    if raw_number:
        try:
            numeric_value = float(raw_number)
        except ValueError:
            errors["numeric_value"] = (
                f"{raw_number[:40]!r} is not a number; enter digits, e.g. 800 or 0.8."
            )
        else:
            if not math.isfinite(numeric_value):
                errors["numeric_value"] = "Enter a finite number, for example 800 or 0.8."
    confidence: int | None = None
    raw_confidence = request.POST.get("confidence", "").strip()
    if raw_confidence:
        try:
            confidence = int_field(
                raw_confidence, field="confidence", maximum=5, message=CONFIDENCE_MESSAGE
            )
        except ApplicationError as error:
            errors.update(error.fields)
    seconds = 0
    raw_seconds = request.POST.get("seconds_spent", "").strip()
    if raw_seconds:
        try:
            # A page left open longer than a save may count is cut to the most it may count.
            seconds = min(int_field(raw_seconds, field="seconds_spent"), MAX_SECONDS_PER_SAVE)
        except ApplicationError as error:
            errors.update(error.fields)
    text = request.POST.get("text", "")
    try:
        text_field(text, field="text")
    except ApplicationError as error:
        errors.update(error.fields)
    answer = AnswerInput(
        choice_ids=choice_ids,
        numeric_value=numeric_value,
        text=text,
        confidence=confidence,
        seconds_spent=seconds,
    )
    return answer, errors
