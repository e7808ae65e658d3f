"""Every refusal of the LMS API comes in one shape; clients over their rate get a 429."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from courses.models import Course

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return Course.objects.create(slug="bio101", title="Biology 101")


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_a_client_over_its_rate_gets_a_429_with_retry_after(settings, course, lms_client):
    # given: three requests a minute
    settings.LMS_API_RATE = "3/minute"
    _, http = lms_client(course, scopes=["courses:read", "quizzes:read"])
    # when
    answers = [http.get("/api/v1/courses/") for _ in range(3)]
    over = http.get(f"/api/v1/courses/{course.id}/quizzes/")
    # then
    assert [a.status_code for a in answers] == [200, 200, 200]
    error = _error(over, 429)
    assert error["code"] == "throttled"
    assert 1 <= int(over["Retry-After"]) <= 60
    # and the count is per client: another client is not held back
    _, other = lms_client(course, scopes=["courses:read"])
    assert other.get("/api/v1/courses/").status_code == 200


def test_analytics_count_against_the_clients_rate(settings, course, lms_client):
    settings.LMS_API_RATE = "1/minute"
    _, http = lms_client(course, scopes=["analytics:read"])
    url = f"/api/v1/courses/{course.id}/misconceptions/"
    assert http.get(url).status_code == 200
    _error(http.get(url), 429)


def test_people_are_not_counted_as_clients(settings, api):
    settings.LMS_API_RATE = "1/minute"
    assert [api.get("/api/v1/quizzes/").status_code for _ in range(3)] == [200, 200, 200]


def test_refusals_come_in_the_error_shape(course, lms_client):
    other = Course.objects.create(slug="elsewhere", title="Elsewhere")
    nobody = APIClient()
    missing = _error(nobody.get("/api/v1/courses/"), 401)
    assert missing["code"] == "not_authenticated"
    assert nobody.get("/api/v1/courses/")["WWW-Authenticate"].startswith("Bearer")
    nobody.credentials(HTTP_AUTHORIZATION="Bearer qz_wrong")
    assert _error(nobody.get("/api/v1/courses/"), 401)["code"] == "authentication_failed"
    _, http = lms_client(course, scopes=["courses:read"])
    denied = _error(http.get(f"/api/v1/courses/{course.id}/grades/"), 403)
    assert "grades:read" in denied["message"]
    _, http = lms_client(course, scopes=["grades:read", "roster:write"])
    assert _error(http.get(f"/api/v1/courses/{other.id}/grades/"), 404)["code"] == "not_found"
    assert _error(http.get("/api/v1/courses/abc/grades/"), 404)["code"] == "not_found"
    assert _error(http.get(f"/api/v1/courses/{2**70}/grades/"), 404)["code"] == "not_found"
    assert _error(http.delete("/api/v1/courses/"), 403)  # courses:read is not held
    roster = {"members": [{"lms_user_id": "u1", "role": "learner"}]}
    url = f"/api/v1/courses/{course.id}/roster/"
    http.put(url, roster, format="json", HTTP_IDEMPOTENCY_KEY="k")
    roster["members"][0]["lms_user_id"] = "u2"
    reused = _error(http.put(url, roster, format="json", HTTP_IDEMPOTENCY_KEY="k"), 409)
    assert reused["code"] == "idempotency_key_reused"
    assert _error(http.post(f"/api/v1/courses/{course.id}/grades/"), 405)


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
