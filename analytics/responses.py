"""Every counted response of a quiz, one row per (attempt, question), for export.

`slot` is where the learner saw the question (after any shuffling); `structural_slot` is
the quiz slot it fills, the one the statistics count by.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from analytics.counted import counted_attempts_cte
from assessments.models import Quiz, Response

COLUMNS = (
    "attempt",
    "learner",
    "attempt_number",
    "question",
    "slot",
    "structural_slot",
    "chosen_options",
    "mark",
    "max_mark",
    "confidence",
    "seconds_spent",
    "misconceptions",
)


def counted_responses(*, quiz: Quiz, attempts: str) -> QuerySet[Response]:
    """The responses of the attempts that count under `attempts`, in attempt and slot order."""
    counted, params = counted_attempts_cte(
        course_id=quiz.course_id, quiz_id=quiz.id, policy=attempts
    )
    # Table names come from models, values are parameters.
    ids = RawSQL(counted + "SELECT id FROM counted", params)  # noqa: S608, S611
    return (
        Response.objects.filter(attempt_id__in=ids)
        .select_related("attempt")
        .prefetch_related("selected_choices", "misconceptions")
        .order_by("attempt_id", "slot")
    )


def response_row(response: Response) -> dict[str, Any]:
    """One export row; marks as numbers, lists of ids and codes."""
    return {
        "attempt": response.attempt_id,
        "learner": response.attempt.learner_id,
        "attempt_number": response.attempt.number,
        "question": response.question_id,
        "slot": response.slot,
        "structural_slot": response.structural_slot,
        "chosen_options": sorted(c.id for c in response.selected_choices.all()),
        "mark": None if response.mark is None else float(response.mark),
        "max_mark": float(response.max_mark),
        "confidence": response.confidence,
        "seconds_spent": response.seconds_spent,
        "misconceptions": sorted(m.code for m in response.misconceptions.all()),
    }


def response_rows(queryset: QuerySet[Response]) -> Iterator[dict[str, Any]]:
    """Rows in chunks, so an export of a large class streams in bounded memory."""
    for response in queryset.iterator(chunk_size=2000):
        yield response_row(response)
