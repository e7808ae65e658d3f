"""The grader's API: exercises, and polling a submission's verdict. Submitting code is
assessments.api.views.SubmissionCreateApi: a submission may answer a quiz's code slot,
which the grader knows nothing of."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import error_responses
from core.errors import NotFoundError
from grader.api.serializers import SubmissionOut, submission_data
from grader.exercises import EXERCISES
from grader.selectors import submission_for_learner


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


TAGS = ["grader"]


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


class SubmissionDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One of the learner's submissions, with its verdict once graded",
        responses={200: SubmissionOut, **error_responses(403, 404)},
    )
    def get(self, request: Request, submission_id: int) -> Response:
        submission = submission_for_learner(submission_id=submission_id, learner=_user(request))
        return Response(submission_data(submission))
