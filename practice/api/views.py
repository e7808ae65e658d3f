"""Guided practice over REST, for a course's instructors (session or token) and for an
LMS's API client holding `analytics:read` and bound to the course (lms.report_access), as
the analytics API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import error_responses
from core.api.pagination import StrictPages
from core.errors import ApplicationError
from lms.report_access import InstructorOrClientApi, course_for_instructor_or_client
from practice.api.serializers import PracticeExplanationPageOut, PracticeSummaryOut
from practice.selectors.course_report import (
    EXPLANATION_STATES,
    explanation_row,
    explanation_steps,
    practice_settings_summary,
    practice_summary,
)

TAGS = ["analytics"]


class PracticeSummaryApi(InstructorOrClientApi):
    @extend_schema(
        tags=TAGS,
        summary="Guided practice in numbers: sessions, misconceptions resolved or persisting, "
        "prerequisite gaps, explain-backs awaiting review, and the course's practice settings",
        responses={200: PracticeSummaryOut, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, course_id: int) -> Response:
        course = course_for_instructor_or_client(request, course_id)
        return Response(
            {
                **practice_summary(course=course),
                "settings": practice_settings_summary(course=course),
            }
        )


class ExplanationPages(StrictPages):
    page_size = 50
    max_page_size = 500


class PracticeExplanationsApi(InstructorOrClientApi):
    pagination_class = ExplanationPages

    @extend_schema(
        tags=TAGS,
        summary="Learners' explain-backs: awaiting review first (oldest first), then reviewed",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=EXPLANATION_STATES,
                description="Only those awaiting a review, or only reviewed ones; both if absent.",
            ),
        ],
        responses={200: PracticeExplanationPageOut, **error_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request: Request, course_id: int) -> Response:
        course = course_for_instructor_or_client(request, course_id)
        state = request.query_params.get("state")
        if state is not None and state not in EXPLANATION_STATES:
            raise ApplicationError(
                f"state must be one of {', '.join(EXPLANATION_STATES)}; got {state[:40]!r}.",
                fields={"state": f"Must be one of {', '.join(EXPLANATION_STATES)}."},
            )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            explanation_steps(course=course, state=state), request, view=self
        )
        return paginator.get_paginated_response([explanation_row(step) for step in page or []])
