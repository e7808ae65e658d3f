"""The learner's quiz API: one view per operation, each calling a service or a selector."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors, services
from assessments.answers import AnswerInput
from assessments.api.serializers import (
    AnswerIn,
    AttemptDetailOut,
    AttemptOut,
    AttemptResultOut,
    QuestionOut,
    QuizCardOut,
    QuizListOut,
    ResponseSavedOut,
    ResultItemOut,
    SubmissionIn,
)
from assessments.models import Quiz
from assessments.results import attempt_result
from core.api.errors import error_responses
from core.errors import ApplicationError
from grader.api.serializers import SubmissionOut, submission_data
from grader.services import submission_create

TAGS = ["learners"]
GRADER_TAGS = ["grader"]
# Django's <int:...> matches digits only.
ATTEMPT_ID = OpenApiParameter(
    "attempt_id",
    {"type": "integer", "minimum": 0},
    OpenApiParameter.PATH,
    description="One of the learner's own attempts.",
)


def _learner(request: Request) -> Any:
    return request.user


class QuizListApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The published quizzes the learner may take, with their progress on each",
        responses={200: QuizListOut, **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        cards = selectors.quizzes_for_learner(learner=_learner(request))
        return Response({"results": QuizCardOut(cards, many=True).data})


class AttemptStartApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Start an attempt at the quiz, or return the unfinished one",
        request=None,
        responses={201: AttemptOut, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(Quiz, slug=slug, is_published=True)
        attempt = services.attempt_start(quiz=quiz, learner=_learner(request))
        return Response(
            AttemptOut(selectors.attempt_summary(attempt=attempt)).data,
            status=status.HTTP_201_CREATED,
        )


class AttemptDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The attempt and its questions as the learner sees them (no answers)",
        parameters=[ATTEMPT_ID],
        responses={200: AttemptDetailOut, **error_responses(403, 404)},
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_for_learner(attempt_id=attempt_id, learner=_learner(request))
        questions = selectors.attempt_questions(attempt=attempt)
        data = dict(AttemptOut(selectors.attempt_summary(attempt=attempt)).data)
        data["questions"] = QuestionOut(questions, many=True).data
        return Response(data)


class ResponseSaveApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Save (or clear) the answer in one slot of an unfinished attempt",
        parameters=[
            ATTEMPT_ID,
            OpenApiParameter(
                "slot",
                {"type": "integer", "minimum": 0},
                OpenApiParameter.PATH,
                description="The question's position in the attempt, from 1.",
            ),
        ],
        request=AnswerIn,
        responses={200: ResponseSavedOut, **error_responses(400, 403, 404, 409, 415)},
    )
    def put(self, request: Request, attempt_id: int, slot: int) -> Response:
        answer = AnswerIn(data=request.data)
        answer.is_valid(raise_exception=True)
        values = answer.validated_data
        services.response_save(
            attempt_id=attempt_id,
            learner=_learner(request),
            slot=slot,
            answer=AnswerInput(
                choice_ids=values["choices"],
                numeric_value=values["numeric_value"],
                text=values["text"],
                confidence=values["confidence"],
                seconds_spent=values["seconds_spent"],
            ),
        )
        return Response({"slot": slot, "saved": True})


class AttemptSubmitApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Submit the attempt for scoring",
        request=None,
        parameters=[ATTEMPT_ID],
        responses={200: AttemptOut, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = services.attempt_submit(attempt_id=attempt_id, learner=_learner(request))
        return Response(AttemptOut(selectors.attempt_summary(attempt=attempt)).data)


class AttemptResultApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The submitted attempt's marks, feedback and diagnosis",
        parameters=[ATTEMPT_ID],
        responses={200: AttemptResultOut, **error_responses(403, 404)},
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_for_learner(attempt_id=attempt_id, learner=_learner(request))
        result = attempt_result(attempt=attempt)
        return Response(
            {
                "attempt": AttemptOut(selectors.attempt_summary(attempt=attempt)).data,
                "score": attempt.score,
                "max_score": attempt.max_score,
                "items": ResultItemOut(result.items, many=True).data,
                "diagnosis": [
                    {
                        "code": verdict.code,
                        "title": misconception.title,
                        "quadrant": verdict.quadrant.value,
                        "right": verdict.right,
                        "wrong": verdict.wrong,
                        "mean_confidence": verdict.mean_confidence,
                    }
                    for verdict, misconception in result.diagnosis
                ],
                "explain_back": None
                if result.strongest is None
                else {
                    "code": result.strongest[1].code,
                    "prompt": result.strongest[1].explain_prompt,
                },
            }
        )


# The grader's endpoint (its tag), served here: with `attempt` and `slot` the code answers a
# quiz's code slot, which the quiz checks and locks before the grader saves the submission.
class SubmissionCreateApi(APIView):
    @extend_schema(
        tags=GRADER_TAGS,
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
        learner, attempt_id, slot = _learner(request), values["attempt"], values["slot"]
        if attempt_id is None and slot is None:
            submission = submission_create(
                learner=learner, exercise=values["exercise"], code=values["code"]
            )
        elif attempt_id is None or slot is None:
            raise ApplicationError(
                "Give both attempt and slot, or neither.", fields={"slot": "Give both."}
            )
        else:
            submission = services.response_code_submit(
                learner=learner,
                attempt_id=attempt_id,
                slot=slot,
                exercise=values["exercise"],
                code=values["code"],
            )
        return Response(submission_data(submission), status=status.HTTP_202_ACCEPTED)
