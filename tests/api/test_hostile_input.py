"""Regressions the schema-driven property tests (and the review of their fixes) found:
bad input gets a 4xx in the API's error shape, naming the field, and changes nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assessments.services import attempt_start
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
