"""What a question shows and how it is scored, cached under the question's stamp.

Every autosave checks the chosen ids against the question's options, every question page
shows them, and every submit scores each answer against the question's options, distractors
and their misconceptions. They change only when an author edits the question, and any edit of
a choice, a distractor, their misconceptions or the question moves `Question.updated_at`
(assessments/receivers.py). The stamp, read with the question, keys a cache that can never
serve content an edit changed: an answer costs no query for the options, a submit none for
the scoring key."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Prefetch

from assessments.models import Choice, NumericDistractor, Question

# Long enough that a class's quiz stays cached all session; stale keys just expire.
CACHE_SECONDS = 24 * 3600


def _key(kind: str, question: Question) -> str:
    return f"{kind}:{question.id}:{question.updated_at.timestamp():.6f}"


def question_choices(*, question: Question) -> list[Choice]:
    """Return the question's choices (no feedback), from the cache when it has them."""
    key = _key("question-choices", question)
    choices: list[Choice] | None = cache.get(key)
    if choices is None:
        choices = list(
            question.choices.only("id", "question_id", "tier", "text", "is_correct", "position")
        )
        cache.set(key, choices, CACHE_SECONDS)
    return choices


def questions_for_scoring(*, questions: Iterable[Question]) -> dict[int, Question]:
    """Return the questions by id with their probes, choices and distractors (and theirs
    misconceptions) loaded, from the cache when it has them."""
    keys = {question.id: _key("question-scoring", question) for question in questions}
    found = cache.get_many(list(keys.values()))
    scored = {qid: found[key] for qid, key in keys.items() if key in found}
    missing = [qid for qid in keys if qid not in scored]
    if missing:
        loaded = Question.objects.filter(id__in=missing).prefetch_related(
            "probes",
            Prefetch("choices", queryset=Choice.objects.prefetch_related("misconceptions")),
            Prefetch(
                "distractors", queryset=NumericDistractor.objects.prefetch_related("misconceptions")
            ),
        )
        # Each under its own stamp: one edited since the caller read it is not filed as older.
        fresh = {question.id: question for question in loaded}
        cache.set_many({_key("question-scoring", q): q for q in fresh.values()}, CACHE_SECONDS)
        scored.update(fresh)
    return scored
