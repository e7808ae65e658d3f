"""What the practice API returns, for its OpenAPI schema; practice.analytics builds the data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import LearnerOut, PageOut

P_KNOWN = "The mean P(known) of the learners' mastery rows, by BKT; null when there are none."


class PracticeSessionsOut(serializers.Serializer[Any]):
    finished = serializers.IntegerField(help_text="Sessions that reached their end.")
    stopped = serializers.IntegerField(help_text="Sessions the learner stopped.")
    active = serializers.IntegerField(help_text="Sessions still in progress.")


class PracticeMisconceptionOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    learners = serializers.IntegerField(help_text="Practising learners with a mastery estimate.")
    evidence = serializers.IntegerField(help_text="Of those, learners with at least one answer.")
    held = serializers.IntegerField(help_text="Learners whose practice answers showed the belief.")
    resolved = serializers.IntegerField(help_text="Of those, learners who now master it.")
    persisting = serializers.IntegerField(help_text="Of those, learners who do not yet.")
    mastered_without_holding = serializers.IntegerField(
        help_text="Learners who master it and never showed the belief."
    )
    mean_p_known = serializers.FloatField(allow_null=True, help_text=P_KNOWN)


class PracticePrerequisiteOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    learners = serializers.IntegerField(help_text="Practising learners with a mastery estimate.")
    missed = serializers.IntegerField(help_text="Learners who missed it in practice.")
    mastered_since = serializers.IntegerField(help_text="Of those, learners who now master it.")
    still_missing = serializers.IntegerField(help_text="Of those, learners who do not yet.")


class PracticeSettingsOut(serializers.Serializer[Any]):
    use_post_test_items = serializers.BooleanField(
        help_text="The instructor lets practice use the items the course's post-test can draw "
        "(off by default: they are held back, and so are their answers)."
    )
    post_test_items = serializers.IntegerField(
        help_text="Questions the course's post-tests can draw (their sections' pools)."
    )
    held_back = serializers.IntegerField(
        help_text="Of those, the ones practice holds back: all of them unless released, else 0."
    )


class PracticeSummaryOut(serializers.Serializer[Any]):
    course = serializers.IntegerField()
    threshold = serializers.FloatField(help_text="P(known) at which a code counts as mastered.")
    learners_practised = serializers.IntegerField(help_text="Learners with a session.")
    sessions = PracticeSessionsOut()
    median_steps_finished = serializers.FloatField(
        allow_null=True, help_text="Median steps of a finished session; null when none finished."
    )
    misconceptions = PracticeMisconceptionOut(many=True)
    prerequisites = PracticePrerequisiteOut(many=True)
    explanations_awaiting = serializers.IntegerField(help_text="Explain-backs not yet reviewed.")
    explanations_reviewed = serializers.IntegerField()
    settings = PracticeSettingsOut()


class PracticeQuestionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(
        allow_null=True,
        help_text="Null: a misconception's own prompt from the catalogue (catalogue-<code>).",
    )
    slug = serializers.SlugField()
    stem = serializers.CharField()


class PracticeReadingOut(serializers.Serializer[Any]):
    verdict = serializers.ChoiceField(choices=["found", "missing", "contradicts"])
    quote = serializers.CharField(allow_blank=True, help_text="The learner's words it matched.")
    misconceptions = serializers.ListField(
        child=serializers.CharField(), help_text="Codes the text asserts (contradicts only)."
    )


class PracticeKeyIdeaOut(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="The idea's number, from 0, as reviews send it.")
    text = serializers.CharField()
    self_assessed = serializers.BooleanField(help_text="The learner ticked it in their text.")
    reviewed = serializers.BooleanField(
        allow_null=True, help_text="A reviewer found it in the text; null before any review."
    )
    reading = PracticeReadingOut(
        allow_null=True,
        help_text="The service's automatic reading of the text; null when it was not read.",
    )


class PracticeExplanationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The practice step.")
    session = serializers.IntegerField()
    learner = LearnerOut()
    question = PracticeQuestionOut()
    text = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    key_ideas = PracticeKeyIdeaOut(many=True)
    self_assessed_ideas = serializers.ListField(child=serializers.IntegerField())
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.CharField(allow_null=True, help_text="The reviewer's username.")
    review_ideas = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    review_comment = serializers.CharField(allow_blank=True)


class PracticeExplanationPageOut(PageOut):
    results = PracticeExplanationOut(many=True)
