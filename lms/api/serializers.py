"""What the LMS API reads and answers: its request and response bodies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from assessments.models import Quiz
from core.api.serializers import StrictSerializer
from grader.models import Submission
from lms.models import WEBHOOK_EVENTS, WebhookDelivery

MAX_MEMBERS = 5000


class CourseOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()


class MemberIn(StrictSerializer):
    lms_user_id = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=["learner", "instructor"])
    given_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


class RosterIn(StrictSerializer):
    members = MemberIn(many=True, allow_empty=False)

    def validate_members(self, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(members) > MAX_MEMBERS:
            raise serializers.ValidationError(
                f"At most {MAX_MEMBERS} members per request; send the roster in parts."
            )
        seen = set()
        for index, member in enumerate(members):
            if member["lms_user_id"] in seen:
                raise serializers.ValidationError(
                    {str(index): {"lms_user_id": "This LMS user id appears twice in the payload."}}
                )
            seen.add(member["lms_user_id"])
        return members


class RosterResultOut(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class MemberOut(serializers.Serializer[Any]):
    lms_user_id = serializers.CharField(allow_null=True)
    user = serializers.IntegerField()
    role = serializers.CharField()


class GradeOut(serializers.Serializer[Any]):
    attempt = serializers.IntegerField(source="id")
    quiz = serializers.IntegerField(source="quiz_id")
    user = serializers.IntegerField(source="learner_id")
    lms_user_id = serializers.CharField(allow_null=True)
    number = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField()
    submitted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class QuizOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    role = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    time_limit_seconds = serializers.SerializerMethodField()
    attempts_allowed = serializers.IntegerField(allow_null=True)
    is_published = serializers.BooleanField()

    def get_time_limit_seconds(self, quiz: Quiz) -> int | None:
        return None if quiz.time_limit is None else int(quiz.time_limit.total_seconds())


class CourseSubmissionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="learner_id")
    lms_user_id = serializers.CharField(allow_null=True)
    exercise = serializers.SlugField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    finished = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True, help_text="0 to 1, once graded.")
    misconceptions = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the misconceptions it showed."
    )
    quiz = serializers.IntegerField(allow_null=True, help_text="Empty for practice.")
    attempt = serializers.IntegerField(allow_null=True)
    slot = serializers.IntegerField(allow_null=True)
    queued_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class WebhookIn(StrictSerializer):
    url = serializers.URLField(
        max_length=2000, help_text="https on a public address (see the README on SSRF)."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(WEBHOOK_EVENTS)),
        allow_empty=False,
        max_length=len(WEBHOOK_EVENTS),
        default=sorted(WEBHOOK_EVENTS),
    )
    is_active = serializers.BooleanField(default=True)


class WebhookOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(
        help_text="The signing secret, shown only in this answer: store it now."
    )


class TryOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class DeliveryOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField(help_text="Sent as X-Quiz-Delivery and as the body's id.")
    event = serializers.CharField()
    attempt = serializers.IntegerField(source="attempt_id", allow_null=True)
    state = serializers.ChoiceField(choices=WebhookDelivery.State.choices)
    tries = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    next_try_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField()
    log = TryOut(many=True, source="log.all", help_text="Every try, first first.")
