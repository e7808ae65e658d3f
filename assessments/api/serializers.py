"""Small input and output serializers of the learner's quiz API; no logic lives here."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from assessments.diagnosis import Quadrant
from assessments.models import Attempt, QuestionType
from core.api.serializers import MisconceptionOut, StrictSerializer


class AnswerIn(StrictSerializer):
    choices = serializers.ListField(child=serializers.IntegerField(), default=list, max_length=50)
    numeric_value = serializers.FloatField(required=False, allow_null=True, default=None)
    text = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    confidence = serializers.IntegerField(
        min_value=0, max_value=5, required=False, allow_null=True, default=None
    )
    seconds_spent = serializers.IntegerField(min_value=0, max_value=3600, default=0)


class ChoiceOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    text = serializers.CharField()
    tier = serializers.IntegerField()
    selected = serializers.BooleanField()


class QuestionOut(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    type = serializers.ChoiceField(choices=QuestionType.choices, source="qtype")
    stem = serializers.CharField()
    reason_prompt = serializers.CharField()
    unit = serializers.CharField()
    choices = ChoiceOut(many=True)
    numeric_value = serializers.FloatField(allow_null=True)
    text = serializers.CharField()
    confidence = serializers.IntegerField(allow_null=True)
    is_answered = serializers.BooleanField()


class AttemptOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = serializers.CharField()
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Attempt.State.choices)
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)


class QuizCardOut(serializers.Serializer[Any]):
    slug = serializers.CharField(source="quiz.slug")
    title = serializers.CharField(source="quiz.title")
    status = serializers.CharField()
    attempts_used = serializers.IntegerField()
    attempts_allowed = serializers.IntegerField(source="quiz.attempts_allowed", allow_null=True)
    time_limit_seconds = serializers.SerializerMethodField()
    unfinished_attempt_id = serializers.IntegerField(allow_null=True)
    can_start = serializers.BooleanField()

    def get_time_limit_seconds(self, card: Any) -> int | None:
        limit = card.quiz.time_limit
        return None if limit is None else int(limit.total_seconds())


class ReadIdeaOut(serializers.Serializer[Any]):
    """The service's automatic reading of an explanation, on one key idea."""

    verdict = serializers.ChoiceField(choices=["found", "missing", "contradicts"])
    quote = serializers.CharField(allow_blank=True, help_text="The learner's words it matched.")
    misconceptions = serializers.ListField(
        source="codes",
        child=serializers.CharField(),
        help_text="Codes of the misconceptions the text asserts (contradicts only).",
    )
    message = serializers.CharField(help_text="The verdict as a sentence to the learner.")


class ResultKeyIdeaOut(serializers.Serializer[Any]):
    """A key idea of an explain-back: the learner's tick beside the service's reading."""

    text = serializers.CharField()
    self_assessed = serializers.BooleanField(
        source="ticked", allow_null=True, help_text="The learner's tick; null before the check."
    )
    reading = ReadIdeaOut(
        source="read", allow_null=True, help_text="Null when the text was not read."
    )


class ResultItemOut(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    type = serializers.ChoiceField(choices=QuestionType.choices, source="qtype")
    stem = serializers.CharField()
    your_answer = serializers.ListField(child=serializers.CharField())
    correct_answer = serializers.ListField(child=serializers.CharField())
    is_correct = serializers.BooleanField(allow_null=True)
    mark = serializers.DecimalField(
        max_digits=8, decimal_places=4, allow_null=True, coerce_to_string=False
    )
    max_mark = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    confidence = serializers.IntegerField(allow_null=True)
    choice_feedback = serializers.ListField(child=serializers.CharField())
    feedback = serializers.CharField()
    misconceptions = MisconceptionOut(many=True)
    key_ideas = ResultKeyIdeaOut(
        source="ideas", many=True, help_text="Explain-backs only: per key idea, tick and reading."
    )


class QuizListOut(serializers.Serializer[Any]):
    results = QuizCardOut(many=True)


class AttemptDetailOut(AttemptOut):
    questions = QuestionOut(many=True)


class ResponseSavedOut(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    saved = serializers.BooleanField()


class DiagnosisOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    quadrant = serializers.ChoiceField(choices=[q.value for q in Quadrant])
    right = serializers.IntegerField()
    wrong = serializers.IntegerField()
    mean_confidence = serializers.FloatField()


class ExplainBackOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    prompt = serializers.CharField()


class AttemptResultOut(serializers.Serializer[Any]):
    attempt = AttemptOut()
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField()
    items = ResultItemOut(many=True)
    diagnosis = DiagnosisOut(many=True)
    explain_back = ExplainBackOut(allow_null=True)


# Code for the grader; with `attempt` and `slot` it answers a code question of the attempt.
class SubmissionIn(StrictSerializer):
    exercise = serializers.CharField(max_length=64)
    code = serializers.CharField(trim_whitespace=False, allow_blank=True)
    attempt = serializers.IntegerField(required=False, allow_null=True, default=None)
    slot = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
