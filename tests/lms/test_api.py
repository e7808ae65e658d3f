"""The REST API for LMS servers: scoped, course-bound API clients; idempotent rosters;
grades since a moment; the OpenAPI schema and its docs page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Attempt
from courses.models import Course, Enrollment
from lms.models import ApiClient, IdempotentWrite
from tests.factories import UserFactory, quiz_of, single

pytestmark = pytest.mark.django_db

ALL_SCOPES = ["courses:read", "roster:read", "roster:write", "grades:read", "quizzes:read"]


def _client(*courses: Course, scopes: list[str] = ALL_SCOPES) -> tuple[ApiClient, APIClient]:
    client, token = ApiClient.issue(name="Canvas", scopes=scopes)
    client.courses.set(courses)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, http


@pytest.fixture
def course():
    return Course.objects.create(slug="bio101", title="Biology 101")


ROSTER = {
    "members": [
        {"lms_user_id": "u1", "role": "learner", "given_name": "Ada", "email": "ada@x.org"},
        {"lms_user_id": "u2", "role": "learner"},
        {"lms_user_id": "t1", "role": "instructor", "family_name": "Teacher"},
    ]
}


def test_tokens_are_stored_hashed_and_revocable(course):
    client, http = _client(course)
    assert http.get("/api/v1/courses/").status_code == 200
    stored = ApiClient.objects.get(id=client.id)
    assert stored.token_hash and "qz_" not in stored.token_hash
    stored.revoked_at = timezone.now()
    stored.save()
    response = http.get("/api/v1/courses/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer qz_not-a-real-token")
    assert wrong.get("/api/v1/courses/").status_code == 401


def test_a_client_sees_only_its_courses(course):
    other = Course.objects.create(slug="other-school", title="Other school")
    _, http = _client(course)
    listed = http.get("/api/v1/courses/").json()["results"]
    assert [c["slug"] for c in listed] == ["bio101"]
    for path in ("roster", "grades", "quizzes"):
        assert http.get(f"/api/v1/courses/{other.id}/{path}/").status_code == 404
    assert http.put(f"/api/v1/courses/{other.id}/roster/", ROSTER, format="json").status_code == 404


def test_scopes_are_enforced(course):
    _, http = _client(course, scopes=["roster:read"])
    assert http.get(f"/api/v1/courses/{course.id}/roster/").status_code == 200
    response = http.put(f"/api/v1/courses/{course.id}/roster/", ROSTER, format="json")
    assert response.status_code == 403
    assert "roster:write" in response.json()["error"]["message"]
    assert http.get(f"/api/v1/courses/{course.id}/grades/").status_code == 403


def test_people_cannot_use_the_lms_endpoints_with_their_session(course):
    http = APIClient()
    http.force_authenticate(UserFactory.create(is_staff=True))
    assert http.get("/api/v1/courses/").status_code in (401, 403)


def test_roster_upsert_is_idempotent(course):
    _, http = _client(course)
    first = http.put(f"/api/v1/courses/{course.id}/roster/", ROSTER, format="json")
    assert first.status_code == 200
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0}
    again = http.put(f"/api/v1/courses/{course.id}/roster/", ROSTER, format="json")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert Enrollment.objects.filter(course=course).count() == 2
    assert course.instructors.count() == 1
    renamed = {"members": [{"lms_user_id": "u2", "role": "learner", "given_name": "Grace"}]}
    changed = http.put(f"/api/v1/courses/{course.id}/roster/", renamed, format="json")
    assert changed.json() == {"created": 0, "updated": 1, "unchanged": 0}
    roster = http.get(f"/api/v1/courses/{course.id}/roster/").json()["results"]
    assert {(m["lms_user_id"], m["role"]) for m in roster} == {
        ("u1", "learner"), ("u2", "learner"), ("t1", "instructor"),
    }  # fmt: skip


def test_the_same_lms_user_is_one_person_across_the_clients_courses(course):
    second = Course.objects.create(slug="bio102", title="Biology 102")
    _, http = _client(course, second)
    http.put(f"/api/v1/courses/{course.id}/roster/", ROSTER, format="json")
    response = http.put(f"/api/v1/courses/{second.id}/roster/", ROSTER, format="json")
    assert response.json()["created"] == 0
    assert Enrollment.objects.filter(learner__enrollments__course=second).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "members"),
        ({"members": []}, "members"),
        ({"members": [{"lms_user_id": "u1", "role": "dean"}]}, "members[0].role"),
        ({"members": [{"role": "learner"}]}, "members[0].lms_user_id"),
        ({"members": [{"lms_user_id": "u1", "role": "learner", "shoe": 9}]}, "members[0].shoe"),
        (
            {"members": [{"lms_user_id": "u", "role": "learner"}] * 2},
            "members.1.lms_user_id",
        ),
    ],
)
def test_bad_rosters_are_400s_naming_the_field_and_change_nothing(course, payload, field):
    _, http = _client(course)
    response = http.put(f"/api/v1/courses/{course.id}/roster/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert not Enrollment.objects.exists()


def test_an_idempotency_key_replays_and_refuses_another_payload(course):
    _, http = _client(course)
    url = f"/api/v1/courses/{course.id}/roster/"
    first = http.put(url, ROSTER, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    Enrollment.objects.all().delete()  # were the write run again, it would re-create them
    replay = http.put(url, ROSTER, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert replay.json() == first.json()
    assert not Enrollment.objects.exists()
    other = {"members": [{"lms_user_id": "u9", "role": "learner"}]}
    conflict = http.put(url, other, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert conflict.status_code == 409
    assert IdempotentWrite.objects.count() == 1


def test_grades_since_a_moment(course):
    _, http = _client(course)
    http.put(f"/api/v1/courses/{course.id}/roster/", ROSTER, format="json")
    quiz = quiz_of(single(), course=course)
    learner = Enrollment.objects.filter(course=course).order_by("id").first().learner
    now = timezone.now()
    attempt = Attempt.objects.create(
        quiz=quiz, learner=learner, number=1, seed=1, state=Attempt.State.SUBMITTED,
        started_at=now, submitted_at=now, score=Decimal(1), max_score=Decimal(1),
    )  # fmt: skip
    url = f"/api/v1/courses/{course.id}/grades/"
    rows = http.get(url).json()["results"]
    assert [(r["attempt"], r["lms_user_id"], r["score"]) for r in rows] == [(attempt.id, "u1", 1.0)]
    later = (attempt.updated_at + timedelta(seconds=1)).isoformat()
    assert http.get(url, {"updated_since": later}).json()["results"] == []
    earlier = (attempt.updated_at - timedelta(seconds=1)).isoformat()
    assert len(http.get(url, {"updated_since": earlier}).json()["results"]) == 1
    bad = http.get(url, {"updated_since": "yesterday"})
    assert bad.status_code == 400 and "updated_since" in bad.json()["error"]["fields"]
    for raw in ("x", "99999999999999999999999"):
        bad = http.get(url, {"quiz": raw})
        assert bad.status_code == 400 and "quiz" in bad.json()["error"]["fields"]
    assert len(http.get(url, {"quiz": str(quiz.id)}).json()["results"]) == 1
    quizzes = http.get(f"/api/v1/courses/{course.id}/quizzes/").json()["results"]
    assert [q["id"] for q in quizzes] == [quiz.id]


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/courses/{course_id}/roster/" in document["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_the_command_prints_the_token_once(course, capsys):
    call_command(
        "api_client_create", "--name", "Moodle", "--course", "bio101", "--scope", "courses:read"
    )
    out = capsys.readouterr().out
    token = out.split("Token (shown once, store it now): ")[1].strip()
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get("/api/v1/courses/").json()["results"][0]["slug"] == "bio101"


def test_analytics_for_clients_with_the_scope_and_the_course(course):
    quiz = quiz_of(single(), course=course)
    other = quiz_of(single(), course=Course.objects.create(slug="elsewhere", title="Elsewhere"))
    _, http = _client(course, scopes=["analytics:read"])
    assert http.get(f"/api/v1/quizzes/{quiz.id}/statistics/").status_code == 200
    assert http.get(f"/api/v1/courses/{course.id}/misconceptions/").status_code == 200
    assert http.get(f"/api/v1/quizzes/{quiz.id}/responses/?format=csv").status_code == 200
    assert http.get(f"/api/v1/quizzes/{other.id}/statistics/").status_code == 404
    assert http.get(f"/api/v1/courses/{other.course_id}/misconceptions/").status_code == 404
    _, unscoped = _client(course, scopes=["grades:read"])
    denied = unscoped.get(f"/api/v1/quizzes/{quiz.id}/statistics/")
    assert denied.status_code == 403 and "analytics:read" in denied.json()["error"]["message"]


def test_long_lms_ids_that_share_a_prefix_stay_two_people(course):
    _, http = _client(course)
    long_ids = ["x" * 190 + "a", "x" * 190 + "b"]
    members = [{"lms_user_id": i, "role": "learner"} for i in long_ids]
    response = http.put(f"/api/v1/courses/{course.id}/roster/", {"members": members}, format="json")
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert Enrollment.objects.filter(course=course).count() == 2
