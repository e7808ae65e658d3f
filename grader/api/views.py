"""The grader's API: exercises, submitting code, and polling a submission's verdict."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.api.serializers import StrictSerializer
from assessments.errors import NotFoundError
from grader import services
from grader.exercises import EXERCISES
from grader.models import Submission


class SubmissionIn(StrictSerializer):
    exercise = serializers.CharField(max_length=64)
    code = serializers.CharField(trim_whitespace=False, allow_blank=True)
    attempt = serializers.IntegerField(required=False, allow_null=True, default=None)
    slot = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


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


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class ExerciseListApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(
            {
                "results": [
                    {"slug": e.slug, "title": e.title, "signature": e.signature}
                    for e in EXERCISES.values()
                ]
            }
        )


class ExerciseDetailApi(APIView):
    def get(self, request: Request, slug: str) -> Response:
        exercise = EXERCISES.get(slug)
        if exercise is None:
            raise NotFoundError(f"No exercise {slug!r}.")
        return Response(
            {
                "slug": exercise.slug,
                "title": exercise.title,
                "statement": exercise.statement,
                "signature": exercise.signature,
                "starter_code": exercise.starter_code,
                "hints": list(exercise.hints),
            }
        )


class SubmissionCreateApi(APIView):
    def post(self, request: Request) -> Response:
        body = SubmissionIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        submission = services.submission_create(
            learner=_user(request),
            exercise=values["exercise"],
            code=values["code"],
            attempt_id=values["attempt"],
            slot=values["slot"],
        )
        return Response(submission_data(submission), status=status.HTTP_202_ACCEPTED)


class SubmissionDetailApi(APIView):
    def get(self, request: Request, submission_id: int) -> Response:
        submission = services.submission_for_learner(
            submission_id=submission_id, learner=_user(request)
        )
        return Response(submission_data(submission))
