"""The grader's API: exercises, submitting code, and polling a submission's verdict."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import error_responses
from core.api.serializers import MisconceptionOut, StrictSerializer
from core.errors import NotFoundError
from grader import services
from grader.exercises import EXERCISES
from grader.models import Submission


class SubmissionIn(StrictSerializer):
    exercise = serializers.CharField(max_length=64)
    code = serializers.CharField(trim_whitespace=False, allow_blank=True)
    attempt = serializers.IntegerField(required=False, allow_null=True, default=None)
    slot = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class ExerciseOut(serializers.Serializer[Any]):
    slug = serializers.SlugField()
    title = serializers.CharField()
    signature = serializers.CharField()


class ExerciseListOut(serializers.Serializer[Any]):
    results = ExerciseOut(many=True)


class ExerciseDetailOut(ExerciseOut):
    statement = serializers.CharField()
    starter_code = serializers.CharField()
    hints = serializers.ListField(child=serializers.CharField())


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


TAGS = ["grader"]


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
    @extend_schema(
        tags=TAGS,
        summary="The coding exercises",
        operation_id="exercises_list",
        responses={200: ExerciseListOut, **error_responses(403)},
    )
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
    @extend_schema(
        tags=TAGS,
        summary="One exercise: statement, signature, starter code and hints",
        responses={200: ExerciseDetailOut, **error_responses(403, 404)},
    )
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
    @extend_schema(
        tags=TAGS,
        summary="Submit code for grading; poll the submission for its verdict",
        description=(
            "The submission is saved as queued and graded by a worker. With `attempt` and "
            "`slot` it answers a code question of the learner's unfinished attempt."
        ),
        request=SubmissionIn,
        responses={202: SubmissionOut, **error_responses(400, 403, 404, 409, 415, 429)},
    )
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
    @extend_schema(
        tags=TAGS,
        summary="One of the learner's submissions, with its verdict once graded",
        responses={200: SubmissionOut, **error_responses(403, 404)},
    )
    def get(self, request: Request, submission_id: int) -> Response:
        submission = services.submission_for_learner(
            submission_id=submission_id, learner=_user(request)
        )
        return Response(submission_data(submission))
