"""What the grader's API returns of a submission, for its OpenAPI schema and its views."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import MisconceptionOut
from grader.models import Submission


class CheckOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()
    misconceptions = serializers.ListField(child=serializers.CharField())
    defects = serializers.ListField(child=serializers.CharField())


class SubmissionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    exercise = serializers.SlugField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    finished = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True, help_text="The share of checks passed.")
    message = serializers.CharField()
    checks = CheckOut(many=True)
    misconceptions = MisconceptionOut(many=True)
    defects = serializers.ListField(child=serializers.CharField())
    output = serializers.CharField(help_text="The start of what the code printed.")
    queued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def submission_data(submission: Submission) -> dict[str, Any]:
    """Return what a learner may see of their submission (never the hidden seed)."""
    return {
        "id": submission.id,
        "exercise": submission.exercise,
        "status": submission.status,
        "finished": submission.is_finished,
        "score": submission.score,
        "message": submission.message,
        "checks": submission.checks,
        "misconceptions": [
            {"code": m.code, "title": m.title} for m in submission.misconceptions.all()
        ],
        "defects": submission.defects,
        "output": submission.output,
        "queued_at": submission.queued_at,
        "started_at": submission.started_at,
        "finished_at": submission.finished_at,
    }
