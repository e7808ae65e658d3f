"""The REST API for LMS servers: API clients with scoped tokens, bound to courses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.selectors import course_quiz
from core.api.errors import error_responses
from core.api.pagination import StrictPages
from core.errors import ApplicationError
from grader.exercises import EXERCISES
from lms.api.serializers import (
    CourseOut,
    CourseSubmissionOut,
    GradeOut,
    MemberOut,
    QuizOut,
    RosterIn,
    RosterResultOut,
)
from lms.auth import ApiClientAuthentication, api_client, client_course, scope_required
from lms.models import ApiClient
from lms.selectors import (
    client_courses,
    course_grades,
    course_members,
    course_quizzes,
    course_submissions,
    lms_user,
    lms_user_ids,
)
from lms.services import roster_upsert, write_once_per_key

TAGS = ["lms"]


class Pages(StrictPages):
    page_size = 100
    max_page_size = 1000


class ClientApi(APIView):
    """Base of the LMS endpoints: Bearer tokens of API clients only."""

    authentication_classes = [ApiClientAuthentication]
    # Read by the OpenAPI schema, which then describes the lists as pages.
    pagination_class = Pages


class CourseListApi(ClientApi):
    permission_classes = [scope_required("courses:read")]

    @extend_schema(
        tags=TAGS,
        responses={200: CourseOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="The courses this client may touch",
    )
    def get(self, request: Request) -> Response:
        client = api_client(request)
        assert client is not None
        paginator = Pages()
        page = paginator.paginate_queryset(client_courses(client=client), request, view=self)
        return paginator.get_paginated_response(CourseOut(page, many=True).data)


class RosterApi(ClientApi):
    def get_permissions(self) -> list[Any]:
        scope = "roster:write" if self.request.method == "PUT" else "roster:read"
        return [scope_required(scope)()]

    @extend_schema(
        tags=TAGS,
        responses={200: MemberOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="The course's roster",
    )
    def get(self, request: Request, course_id: int) -> Response:
        client = api_client(request)
        assert client is not None
        course = client_course(client, course_id)
        ids = lms_user_ids(client=client)
        members = [
            {"lms_user_id": ids.get(member.user_id), "user": member.user_id, "role": member.role}
            for member in course_members(course=course)
        ]
        paginator = Pages()
        page = paginator.paginate_queryset(cast(Any, members), request, view=self)
        return paginator.get_paginated_response(MemberOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=RosterIn,
        responses={200: RosterResultOut, **error_responses(400, 401, 403, 404, 409, 415, 429)},
        summary="Create or update members by the LMS's user id (idempotent)",
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def put(self, request: Request, course_id: int) -> Response:
        client = api_client(request)
        assert client is not None
        course = client_course(client, course_id)
        payload = RosterIn(data=request.data)
        payload.is_valid(raise_exception=True)
        members = payload.validated_data["members"]

        def write() -> tuple[int, Any]:
            result = roster_upsert(client=client, course=course, members=members)
            return status.HTTP_200_OK, result.as_dict()

        code, body = write_once_per_key(
            client=client,
            key=request.headers.get("Idempotency-Key"),
            payload={"course": course.id, "members": request.data.get("members")},
            write=write,
        )
        return Response(body, status=code)


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("updated_since")
    if raw is None:
        return None
    try:
        # parse_datetime raises on well-formed impossible dates (2026-02-30T10:00:00Z), and
        # an offset can carry an edge date out of the years that exist (9999-12-31T23:59-23:00).
        moment = parse_datetime(raw)
        if moment is not None and moment.tzinfo is not None:
            moment.astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApplicationError(
            "updated_since must be an ISO 8601 date-time with a time zone, "
            f"e.g. 2026-11-22T10:00:00Z; got {raw[:40]!r}.",
            fields={"updated_since": "An ISO 8601 date-time with a time zone."},
        )
    return moment


def _learner(request: Request, client: ApiClient) -> int | None:
    """The user id behind ?learner=<the LMS's user id>, if given; unknown ids are a 400."""
    raw = request.query_params.get("learner")
    if raw is None:
        return None
    user_id = lms_user(client=client, lms_user_id=raw[:255])
    if user_id is None:
        raise ApplicationError(
            f"No learner has the LMS user id {raw[:40]!r}; send the roster first.",
            fields={"learner": "An LMS user id from this client's rosters."},
        )
    return user_id


class GradeListApi(ClientApi):
    permission_classes = [scope_required("grades:read")]

    @extend_schema(
        tags=TAGS,
        responses={200: GradeOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="Finished attempts and their scores, oldest change first",
        parameters=[
            OpenApiParameter("updated_since", datetime, description="Only later changes."),
            OpenApiParameter("quiz", int, description="One quiz of the course (its id)."),
            OpenApiParameter("learner", str, description="One learner (the LMS's user id)."),
        ],
    )
    def get(self, request: Request, course_id: int) -> Response:
        client = api_client(request)
        assert client is not None
        course = client_course(client, course_id)
        since = _since(request)
        raw = request.query_params.get("quiz")
        # An empty ?quiz= is a 400 naming it, not "every quiz".
        quiz = course_quiz(course, raw) if raw is not None else None
        attempts = course_grades(
            course=course, since=since, quiz=quiz, learner_id=_learner(request, client)
        )
        paginator = Pages()
        page = paginator.paginate_queryset(attempts, request, view=self) or []
        ids = lms_user_ids(client=client, user_ids={a.learner_id for a in page})
        rows = [
            {
                "id": a.id,
                "quiz_id": a.quiz_id,
                "learner_id": a.learner_id,
                "lms_user_id": ids.get(a.learner_id),
                "number": a.number,
                "score": None if a.score is None else float(a.score),
                "max_score": float(a.max_score),
                "submitted_at": a.submitted_at,
                "updated_at": a.updated_at,
            }
            for a in page
        ]
        return paginator.get_paginated_response(GradeOut(rows, many=True).data)


class QuizListApi(ClientApi):
    permission_classes = [scope_required("quizzes:read")]

    @extend_schema(
        tags=TAGS,
        responses={200: QuizOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="The course's quizzes and schedule",
    )
    def get(self, request: Request, course_id: int) -> Response:
        client = api_client(request)
        assert client is not None
        course = client_course(client, course_id)
        paginator = Pages()
        page = paginator.paginate_queryset(course_quizzes(course=course), request, view=self)
        return paginator.get_paginated_response(QuizOut(page, many=True).data)


class SubmissionListApi(ClientApi):
    """Code submissions (see course_submissions); the code itself stays here, its verdict
    and the misconceptions it showed are listed."""

    permission_classes = [scope_required("grades:read")]

    @extend_schema(
        tags=TAGS,
        responses={200: CourseSubmissionOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="Code submissions of the course's learners, oldest change first",
        parameters=[
            OpenApiParameter("updated_since", datetime, description="Only later changes."),
            OpenApiParameter("learner", str, description="One learner (the LMS's user id)."),
            OpenApiParameter("exercise", str, description="One exercise (its slug)."),
            OpenApiParameter("quiz", int, description="Answers to one quiz of the course."),
        ],
    )
    def get(self, request: Request, course_id: int) -> Response:
        client = api_client(request)
        assert client is not None
        course = client_course(client, course_id)
        exercise = request.query_params.get("exercise")
        if exercise is not None and exercise not in EXERCISES:
            raise ApplicationError(
                f"{exercise[:40]!r} is not an exercise.",
                fields={"exercise": "One of " + ", ".join(sorted(EXERCISES)) + "."},
            )
        raw = request.query_params.get("quiz")
        submissions = course_submissions(
            course=course,
            since=_since(request),
            learner_id=_learner(request, client),
            exercise=exercise,
            quiz=course_quiz(course, raw) if raw is not None else None,
        )
        paginator = Pages()
        page = paginator.paginate_queryset(submissions, request, view=self) or []
        ids = lms_user_ids(client=client, user_ids={s.learner_id for s in page})
        rows = []
        for submission in page:
            attempt = submission.response.attempt if submission.response else None
            rows.append(
                {
                    "id": submission.id,
                    "learner_id": submission.learner_id,
                    "lms_user_id": ids.get(submission.learner_id),
                    "exercise": submission.exercise,
                    "status": submission.status,
                    "finished": submission.is_finished,
                    "score": submission.score,
                    "misconceptions": sorted(m.code for m in submission.misconceptions.all()),
                    "quiz": attempt.quiz_id if attempt else None,
                    "attempt": attempt.id if attempt else None,
                    "slot": submission.response.slot if submission.response else None,
                    "queued_at": submission.queued_at,
                    "finished_at": submission.finished_at,
                    "updated_at": submission.updated_at,
                }
            )
        return paginator.get_paginated_response(CourseSubmissionOut(rows, many=True).data)
