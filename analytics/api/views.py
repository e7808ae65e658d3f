"""Analytics over REST: the course's instructors (session or token) and superusers, or an
LMS's API client holding `analytics:read` and bound to the course (lms.report_access; see
assessments.selectors for catalogue quizzes)."""

from __future__ import annotations

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.serializers import (
    CourseMisconceptionsOut,
    QuizStatisticsOut,
    ResponsePageOut,
)
from analytics.counted import POLICIES
from analytics.csv_export import csv_response
from analytics.misconceptions import course_misconceptions
from analytics.responses import COLUMNS, counted_responses, response_row, response_rows
from analytics.statistics import quiz_statistics
from assessments.selectors import course_quiz
from core.api.errors import error_responses
from core.api.pagination import StrictPages, positive_param
from core.errors import ApplicationError
from lms.report_access import (
    InstructorOrClientApi,
    course_for_instructor_or_client,
    quiz_for_instructor_or_client,
)

TAGS = ["analytics"]
MAX_PAGE = 10**9
MAX_PAGE_SIZE = 1000
ATTEMPTS = OpenApiParameter(
    "attempts",
    str,
    enum=POLICIES,
    default="first",
    description="Which of each learner's finished attempts count.",
)


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in allowed:
        raise ApplicationError(
            f"{name} must be one of {', '.join(allowed)}; got {value!r}.",
            fields={name: f"Must be one of {', '.join(allowed)}."},
        )
    return value


class QuizStatisticsApi(InstructorOrClientApi):
    @extend_schema(
        tags=TAGS,
        summary="Moodle's test and item statistics of the quiz",
        parameters=[ATTEMPTS],
        responses={200: QuizStatisticsOut, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz = quiz_for_instructor_or_client(request, quiz_id)
        attempts = _choice(request, "attempts", POLICIES, "first")
        return Response(quiz_statistics(quiz=quiz, attempts=attempts))


class ResponsePages(StrictPages):
    page_size = 500
    max_page_size = 5000


class QuizResponsesApi(InstructorOrClientApi):
    pagination_class = ResponsePages

    @extend_schema(
        tags=TAGS,
        summary="Every counted response, a page of JSON or the whole class as CSV",
        parameters=[
            ATTEMPTS,
            OpenApiParameter("format", str, enum=("json", "csv"), default="json"),
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1, "maximum": ResponsePages.largest_page},
                description="JSON only (checked with CSV too); a page past the last is a 404.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": ResponsePages.max_page_size},
                description=f"JSON only; {ResponsePages.page_size} unless given.",
            ),
        ],
        responses={
            (200, "application/json"): ResponsePageOut,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="With format=csv: a header line, one line a row."
            ),
            **error_responses(400, 403, 404),
        },
    )
    def get(self, request: Request, quiz_id: int) -> HttpResponseBase:
        quiz = quiz_for_instructor_or_client(request, quiz_id, learners=True)
        attempts = _choice(request, "attempts", POLICIES, "first")
        output = _choice(request, "format", ("json", "csv"), "json")
        paginator = self.pagination_class()
        paginator.validate(request)  # a CSV export ignores them, but they must make sense
        responses = counted_responses(quiz=quiz, attempts=attempts)
        if output == "csv":
            lines = ([row[column] for column in COLUMNS] for row in response_rows(responses))
            return csv_response(f"{quiz.slug}-responses-{attempts}.csv", COLUMNS, lines)
        page = paginator.paginate_queryset(responses, request, view=self)
        rows = [response_row(r) for r in page or []]
        return paginator.get_paginated_response(rows)


class CourseMisconceptionsApi(InstructorOrClientApi):
    @extend_schema(
        tags=TAGS,
        summary="What the class believes: prevalence, and learner x misconception by quadrant",
        parameters=[
            OpenApiParameter("quiz", int, description="Only this quiz of the course."),
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                description="A page of learners; past the last is the last.",
            ),
            OpenApiParameter(
                "page_size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
            ),
        ],
        responses={200: CourseMisconceptionsOut, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request, course_id: int) -> Response:
        course = course_for_instructor_or_client(request, course_id)
        quiz = None
        if "quiz" in request.query_params:
            quiz = course_quiz(course, request.query_params["quiz"])
        page = positive_param(request, "page", default=1, largest=MAX_PAGE)
        page_size = positive_param(request, "page_size", default=100, largest=MAX_PAGE_SIZE)
        return Response(
            course_misconceptions(course=course, quiz=quiz, page=page, page_size=page_size)
        )
