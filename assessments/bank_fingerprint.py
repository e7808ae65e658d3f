"""A fingerprint of banks' content, for caches of what their questions show."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from assessments.models import Question


def banks_fingerprint(*, bank_ids: Collection[int] | None) -> str:
    """Return a digest that changes whenever a question of the banks (None: of every bank)
    or anything it shows (choices, distractors, misconception links, codes, its bank) is
    created, edited or deleted; one query.

    It hashes every question's id, bank and `updated_at` (assessments.receivers moves that
    for changes outside the question's row) rather than a count and max(updated_at) per bank:
    two writers whose transactions overlap can commit the later stamp first, and web hosts'
    clocks differ, so an edit can leave the maximum where it was.
    """
    questions = Question.objects.order_by("id")
    if bank_ids is not None:
        questions = questions.filter(bank_id__in=bank_ids)
    digest = hashlib.blake2b(digest_size=16)
    for question_id, bank_id, updated_at in questions.values_list("id", "bank_id", "updated_at"):
        digest.update(f"{question_id}:{bank_id}:{updated_at.isoformat()};".encode())
    return digest.hexdigest()
