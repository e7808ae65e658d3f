"""What the analytics API returns, for its OpenAPI schema; the selectors build the data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from analytics.counted import POLICIES
from assessments.diagnosis import Quadrant
from assessments.models import QuestionType
from core.api.serializers import LearnerOut, PageOut

PERCENT = "A percentage; null when the class is too small or uniform to say."


def _percent(**kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=PERCENT, **kwargs)


class TestStatisticsOut(serializers.Serializer[Any]):
    mean = _percent()
    median = _percent()
    sd = _percent()
    skewness = serializers.FloatField(allow_null=True)
    kurtosis = serializers.FloatField(allow_null=True)
    cic = _percent()
    error_ratio = _percent()
    standard_error = _percent()
    notes = serializers.DictField(
        child=serializers.CharField(), help_text="Why a statistic is null, by its name."
    )


class OptionStatisticsOut(serializers.Serializer[Any]):
    choice = serializers.IntegerField()
    text = serializers.CharField()
    tier = serializers.IntegerField()
    is_correct = serializers.BooleanField()
    count = serializers.IntegerField()
    point_biserial = serializers.FloatField(allow_null=True)
    misconceptions = serializers.ListField(child=serializers.CharField())
    flag = serializers.ChoiceField(choices=["distractor_positive"], allow_null=True)


class ItemStatisticsOut(serializers.Serializer[Any]):
    question = serializers.IntegerField()
    question_slug = serializers.SlugField()
    stem = serializers.CharField()
    qtype = serializers.ChoiceField(choices=QuestionType.choices)
    slot = serializers.IntegerField(
        allow_null=True, help_text="The first structural slot the question filled."
    )
    slots = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Every structural slot it filled (a section drawing several has several).",
    )
    attempts = serializers.IntegerField()
    max_mark = serializers.FloatField()
    facility = _percent()
    sd = _percent()
    random_guess_score = _percent()
    intended_weight = _percent()
    effective_weight = _percent()
    discrimination_index = _percent()
    discriminative_efficiency = _percent()
    flags = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[
                "negative_discrimination",
                "low_discriminative_efficiency",
                "negative_covariance",
            ]
        )
    )
    options = OptionStatisticsOut(many=True)


class QuizStatisticsOut(serializers.Serializer[Any]):
    quiz = serializers.IntegerField()
    attempts_policy = serializers.ChoiceField(choices=POLICIES)
    attempts_counted = serializers.IntegerField()
    items_count = serializers.IntegerField(help_text="Structural slots that carry marks.")
    max_mark = serializers.FloatField(
        allow_null=True,
        help_text="What every counted attempt is out of; null when they differ (see notes).",
    )
    test = TestStatisticsOut()
    items = ItemStatisticsOut(many=True)


class ResponseRowOut(serializers.Serializer[Any]):
    attempt = serializers.IntegerField()
    learner = serializers.IntegerField()
    attempt_number = serializers.IntegerField()
    question = serializers.IntegerField()
    slot = serializers.IntegerField(help_text="Where the learner saw it (after shuffling).")
    structural_slot = serializers.IntegerField(
        allow_null=True, help_text="The quiz slot it fills, as the statistics count it."
    )
    chosen_options = serializers.ListField(child=serializers.IntegerField())
    mark = serializers.FloatField(allow_null=True)
    max_mark = serializers.FloatField()
    confidence = serializers.IntegerField(allow_null=True)
    seconds_spent = serializers.IntegerField()
    misconceptions = serializers.ListField(child=serializers.CharField())


class ResponsePageOut(PageOut):
    results = ResponseRowOut(many=True)


class PrevalenceOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    holding = serializers.IntegerField(help_text="Learners whose evidence shows the belief.")
    confident = serializers.IntegerField(help_text="Of those, how many hold it confidently.")
    confident_share = _percent()
    evidence = serializers.IntegerField(help_text="Learners with any evidence either way.")


class CellOut(serializers.Serializer[Any]):
    learner = serializers.IntegerField()
    code = serializers.CharField()
    quadrant = serializers.ChoiceField(choices=[q.value for q in Quadrant])
    right = serializers.IntegerField()
    wrong = serializers.IntegerField()
    mean_confidence = serializers.FloatField()


class QuestionMatrixOut(serializers.Serializer[Any]):
    question = serializers.IntegerField()
    slug = serializers.SlugField()
    stem = serializers.CharField()
    right = serializers.IntegerField()
    wrong = serializers.IntegerField()
    mean_confidence_right = serializers.FloatField(allow_null=True)
    mean_confidence_wrong = serializers.FloatField(allow_null=True)
    codes = serializers.DictField(
        child=serializers.IntegerField(), help_text="Learners revealing each misconception."
    )


class CourseMisconceptionsOut(serializers.Serializer[Any]):
    course = serializers.IntegerField()
    quiz = serializers.IntegerField(allow_null=True)
    threshold = serializers.FloatField(help_text="The confidence that separates sure from unsure.")
    learners_total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    learners = LearnerOut(many=True)
    misconceptions = PrevalenceOut(many=True)
    cells = CellOut(many=True)
    questions = QuestionMatrixOut(many=True)
