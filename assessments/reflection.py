"""What a learner adds to an attempt once it is submitted: the key ideas they tick in their
explain-back answer and the explanations they write back for a misconception."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from assessments.answers import MAX_TEXT_LENGTH
from assessments.models import Attempt, Explanation, Misconception, QuestionType, Response
from core.errors import ApplicationError, ConflictError, NotFoundError


def _submitted_attempt(attempt_id: int, learner: User) -> Attempt:
    attempt = Attempt.objects.filter(id=attempt_id, learner=learner).first()
    if attempt is None:
        raise NotFoundError("No such attempt.", code="not_found")
    if not attempt.is_submitted:
        raise ConflictError("Submit the attempt first.", code="not_submitted")
    return attempt


@transaction.atomic
def self_assessment_save(
    *, attempt_id: int, learner: User, slot: int, ideas: list[int]
) -> Response:
    """Record which key ideas of the model answer the learner says their explanation has."""
    attempt = _submitted_attempt(attempt_id, learner)
    response = attempt.responses.select_related("question").filter(slot=slot).first()
    if response is None or response.question.qtype != QuestionType.EXPLAIN:
        raise NotFoundError(
            f"Question {slot} of this attempt is not an explain-it-back item.",
            fields={"slot": "Not an explain-it-back item."},
        )
    count = len(response.question.key_ideas)
    bad = [i for i in ideas if not 0 <= i < count]
    if bad:
        raise ApplicationError(
            f"Key idea numbers must be between 0 and {count - 1}.",
            fields={"ideas": f"Unknown key idea(s): {', '.join(map(str, bad))}."},
        )
    response.self_assessed_ideas = sorted(set(ideas))
    response.save(update_fields=["self_assessed_ideas"])
    return response


@transaction.atomic
def explanation_save(*, attempt_id: int, learner: User, code: str, text: str) -> Explanation:
    """Store the learner's explain-back text for one misconception of a submitted attempt."""
    attempt = _submitted_attempt(attempt_id, learner)
    misconception = Misconception.objects.filter(code=code).first()
    if misconception is None:
        raise ApplicationError(
            f"Unknown misconception {code!r}.", fields={"misconception": "Unknown code."}
        )
    text = text.strip()
    if not text:
        raise ApplicationError(
            "Write your explanation before saving it.", fields={"text": "This field is required."}
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise ApplicationError(
            f"Keep the explanation under {MAX_TEXT_LENGTH} characters.",
            fields={"text": f"At most {MAX_TEXT_LENGTH} characters."},
        )
    explanation, _ = Explanation.objects.update_or_create(
        attempt=attempt, misconception=misconception, defaults={"text": text}
    )
    return explanation
