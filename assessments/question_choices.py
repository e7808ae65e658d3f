"""A question's choices as an answer is checked against them, cached by the question's stamp.

Every autosave checks the chosen ids against the question's options, and every question page
shows them. They change only when an author edits the question, and any edit of a choice, of
its misconceptions or of the question moves `Question.updated_at` (assessments/receivers.py).
The stamp, read with the question in the same query as the answer's row, keys a cache that
can never serve options an edit removed: an answer costs no query for them."""

from __future__ import annotations

from django.core.cache import cache

from assessments.models import Choice, Question

# Long enough that a class's quiz stays cached all session; stale keys just expire.
CHOICES_CACHE_SECONDS = 24 * 3600


def question_choices(*, question: Question) -> list[Choice]:
    """Return the question's choices (no feedback), from the cache when it has them."""
    key = f"question-choices:{question.id}:{question.updated_at.timestamp():.6f}"
    choices: list[Choice] | None = cache.get(key)
    if choices is None:
        choices = list(
            question.choices.only("id", "question_id", "tier", "text", "is_correct", "position")
        )
        cache.set(key, choices, CHOICES_CACHE_SECONDS)
    return choices
