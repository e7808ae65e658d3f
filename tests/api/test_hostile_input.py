"""Regressions the schema-driven property tests (and the review of their fixes) found:
bad input gets a 4xx in the API's error shape, naming the field, and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from assessments.services import attempt_start
from core.api.parsers import JSONParser
from courses.models import Course, Enrollment
from lms.models import SCOPES, ApiClient
from tests.factories import UserFactory, quiz_of, single

pytestmark = pytest.mark.django_db


def _error(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if field is not None:
        assert field in error["fields"], error
    return error


@pytest.fixture
def course():
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    quiz_of(single(), course=course)
    return course


@pytest.fixture
def instructor(course):
    teacher = UserFactory.create(username="teacher")
    course.instructors.add(teacher)
    client = APIClient()
    client.force_authenticate(teacher)
    return client


@pytest.fixture
def lms(course):
    client, token = ApiClient.issue(name="Canvas", scopes=["courses:read", "grades:read"])
    client.courses.set([course])
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return http


@pytest.mark.parametrize(
    "url",
    ["/api/v1/attempts/-1/", "/api/v1/attempts/abc/result/", "/api/v1/exercises/dr%C3%B6p/"],
)
def test_a_url_no_api_view_matches_is_a_404_in_the_error_shape(api, url):
    assert _error(api.get(url), 404)["code"] == "not_found"


def test_pages_elsewhere_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("query", ["page_size=0", "page_size=-1", "page_size=abc", "page="])
def test_the_responses_export_refuses_a_page_it_cannot_serve(instructor, course, query):
    quiz = course.quizzes.get()
    for output in ("json", "csv"):
        url = f"/api/v1/quizzes/{quiz.id}/responses/?format={output}&{query}"
        _error(instructor.get(url), 400, query.split("=")[0])


def test_the_responses_export_still_pages_and_finds_no_page_past_the_last(instructor, course):
    quiz = course.quizzes.get()
    url = f"/api/v1/quizzes/{quiz.id}/responses/"
    assert instructor.get(url + "?page=1&page_size=5000").status_code == 200
    _error(instructor.get(url + "?page=2"), 404)


@pytest.mark.parametrize(
    "query", ["page=%C2%B2", "page_size=%C2%B2", "page=", "page_size=", "quiz="]
)
def test_the_misconception_analytics_refuse_odd_numbers_without_a_500(instructor, course, query):
    # "²" passes str.isdigit() but not int(): it was a 500
    url = f"/api/v1/courses/{course.id}/misconceptions/?{query}"
    _error(instructor.get(url), 400, query.split("=")[0])


@pytest.mark.parametrize("query", ["page_size=false", "page_size=0", "page=", "page=x"])
def test_lms_lists_refuse_a_page_they_cannot_serve(lms, query):
    _error(lms.get(f"/api/v1/courses/?{query}"), 400, query.split("=")[0])


def test_lms_lists_still_page(lms, course):
    assert lms.get("/api/v1/courses/?page=1&page_size=1000").json()["count"] == 1
    assert lms.get("/api/v1/courses/?page=last").status_code == 200
    _error(lms.get("/api/v1/courses/?page=2"), 404)


def test_a_quiz_id_of_thousands_of_digits_is_a_400_not_a_500(instructor, lms, course):
    # int() refuses strings of more than 4300 digits (ValueError)
    digits = "9" * 5000
    url = f"/api/v1/courses/{course.id}/misconceptions/?quiz={digits}"
    _error(instructor.get(url), 400, "quiz")
    _error(lms.get(f"/api/v1/courses/{course.id}/grades/?quiz={digits}"), 400, "quiz")


@pytest.mark.parametrize(
    "since",
    [
        "",
        "2026-02-30T10:00:00Z",  # well formed, no such day: parse_datetime raised ValueError
        "2026-13-01T10:00:00Z",
        "9999-12-31T23:59:00-23:00",  # in UTC that is the year 10000: OverflowError
    ],
)
def test_lms_grades_refuse_impossible_moments(lms, course, since):
    response = lms.get(f"/api/v1/courses/{course.id}/grades/", {"updated_since": since})
    _error(response, 400, "updated_since")


def test_an_answer_sent_as_a_form_is_refused_and_changes_nothing(api, learner, course):
    quiz = course.quizzes.get()
    Enrollment.objects.create(course=course, learner=learner)
    attempt = attempt_start(quiz=quiz, learner=learner)
    right = attempt.responses.get(slot=1).question.choices.get(is_correct=True)
    url = f"/api/v1/attempts/{attempt.id}/responses/1/"
    assert api.put(url, {"choices": [right.id], "confidence": 4}, format="json").status_code == 200
    # a multipart body cannot say "a list" or "null": it used to clear the answer (200)
    error = _error(api.put(url, {}, format="multipart"), 415)
    assert error["code"] == "unsupported_media_type"
    response = attempt.responses.get(slot=1)
    assert list(response.selected_choices.all()) == [right]
    assert response.confidence == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("grades/?quiz=", "quiz"),
        ("grades/?learner=", "learner"),
        ("submissions/?quiz=", "quiz"),
        ("submissions/?exercise=", "exercise"),
        ("submissions/?learner=", "learner"),
    ],
)
def test_an_empty_lms_filter_is_a_400_naming_it_not_no_filter(path: str, field: str) -> None:
    course = Course.objects.create(slug="c", title="C")
    client, token = ApiClient.issue(name="LMS", scopes=list(SCOPES))
    client.courses.set([course])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(f"/api/v1/courses/{course.id}/{path}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


# Deeply nested JSON: json.load raises RecursionError past about a thousand levels, which
# DRF's JSONParser let through as a 500 (with DEBUG off too).
DEEP = "[" * 100_000


def test_every_api_view_parses_json_with_the_parser_that_bounds_nesting():
    # given: every view the URLconf routes to
    views = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            else:
                view = getattr(pattern.callback, "cls", None)
                if view is not None and issubclass(view, APIView):
                    views.append(view)

    walk(get_resolver().url_patterns)
    # then: each DRF view reads JSON with ours, and only JSON
    assert len(views) > 20
    for view in views:
        assert [type(p) for p in view().get_parsers()] == [JSONParser], view


@pytest.fixture
def debug_off(settings):
    settings.DEBUG = False


def _deep(client, method, url):
    return client.generic(method, url, DEEP, content_type="application/json")


def test_deep_json_in_an_answer_is_a_400_in_the_error_shape(debug_off, learner, course):
    # given
    Enrollment.objects.create(course=course, learner=learner)
    attempt = attempt_start(quiz=course.quizzes.get(), learner=learner)
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(learner)
    # when
    response = _deep(api, "PUT", f"/api/v1/attempts/{attempt.id}/responses/1/")
    # then
    error = _error(response, 400)
    assert error["code"] == "parse_error"
    assert "JSON nested deeper than 64 levels is not accepted." in error["message"]
    assert attempt.responses.get(slot=1).confidence is None


def test_deep_json_in_a_code_submission_is_a_400_in_the_error_shape(debug_off, learner):
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(learner)
    _error(_deep(api, "POST", "/api/v1/submissions/"), 400)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("PUT", "courses/{course}/roster/", "roster:write"),
        ("POST", "webhooks/", "webhooks:manage"),
    ],
)
def test_deep_json_from_an_lms_is_a_400_in_the_error_shape(debug_off, course, method, path, scope):
    client, token = ApiClient.issue(name="Canvas", scopes=[scope])
    client.courses.set([course])
    http = APIClient(raise_request_exception=False)
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    _error(_deep(http, method, "/api/v1/" + path.format(course=course.id)), 400)
    assert not client.webhooks.exists()


def test_json_just_deep_enough_is_still_parsed(learner, course):
    # 64 levels pass the parser; the serializer then refuses the shape, naming the field
    Enrollment.objects.create(course=course, learner=learner)
    attempt = attempt_start(quiz=course.quizzes.get(), learner=learner)
    api = APIClient()
    api.force_authenticate(learner)
    body = '{"choices": ' + "[" * 62 + "]" * 62 + ', "confidence": 3}'
    response = api.generic(
        "PUT", f"/api/v1/attempts/{attempt.id}/responses/1/", body, content_type="application/json"
    )
    _error(response, 400, "choices[0]")
