"""What the instructor pages read from the query string, and their plain-text errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

from analytics.statistics import POLICIES
from assessments.models import Quiz
from assessments.selectors import course_quiz
from core.errors import ApplicationError, NotFoundError
from core.inputs import int_field
from courses.models import Course


class BadParameter(Exception):
    """A query-string value the page cannot use: 400, naming the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def not_found(error: NotFoundError) -> HttpResponse:
    return HttpResponse(error.message, status=404, content_type="text/plain")


def bad_request_text(error: BadParameter) -> HttpResponse:
    return HttpResponse(
        f"{error.name}: {error.message}", status=400, content_type="text/plain; charset=utf-8"
    )


def attempts_policy(request: HttpRequest) -> str:
    raw = request.GET.get("attempts", "first")
    if raw not in POLICIES:
        raise BadParameter(
            "attempts", f"choose one of {', '.join(POLICIES)}; {raw[:40]!r} is not one of them."
        )
    return raw


def course_quiz_filter(request: HttpRequest, course: Course) -> Quiz | None:
    """The dashboard's optional `quiz` filter: one of the course's quizzes, by id."""
    raw = request.GET.get("quiz", "").strip()
    if not raw:
        return None
    try:
        return course_quiz(course, raw)
    except ApplicationError as error:
        raise BadParameter("quiz", error.message) from error


def heatmap_page(raw: str | None) -> int:
    """The heatmap's page (1 when not given); past the last shows the last."""
    if not raw:
        return 1
    try:
        return int_field(raw, field="page", minimum=1)
    except ApplicationError as error:
        raise BadParameter("page", error.fields["page"]) from error


def query_string(**params: Any) -> str:
    """The query string for the parameters that are set ("" when none is)."""
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""
