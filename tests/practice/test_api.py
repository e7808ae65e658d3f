"""The practice API for instructors and LMS clients: who may read it, its numbers, its
pages and its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Question
from courses.models import Course
from lms.models import ApiClient
from practice.services import explanation_review
from tests.conftest import module_state
from tests.factories import UserFactory
from tests.practice.test_instructor import (
    _arrange,
    _course,
    _enrol,
    _explain_step,
    _practise,
    catalog_subset_load,
)

# The practised class is made once for the module (`--dist loadscope` keeps a module's tests
# in one xdist process).
pytestmark = [pytest.mark.django_db]


@pytest.fixture(scope="module")
def practised_once(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, int]]:
    """ada (knows it all: 5 steps) and bob (believes DO-SPEED: 8 steps) finished practice,
    ada with the closing explain-back, bob with one on DO-SPEED (he was sure and wrong) and
    the closing one; the instructor previewed it. Made once for the module (module_state)."""
    with module_state(django_db_blocker):
        with django_db_blocker.unblock():
            catalog_subset_load(tmp_path_factory.mktemp("catalog"))
            course, teacher = _course()
            _arrange(course)
            _practise(course, _enrol(course, "ada"))
            _practise(course, _enrol(course, "bob"), holds={"DO-SPEED"})
            _practise(course, teacher)
        yield course.id, teacher.id


@pytest.fixture
def practised(practised_once: tuple[int, int]) -> tuple[Course, Any]:
    """The module's class, read afresh for each test: a test may change its copies."""
    course_id, teacher_id = practised_once
    return Course.objects.get(id=course_id), User.objects.get(id=teacher_id)


@pytest.fixture
def api_as_teacher(practised: tuple[Course, Any]) -> APIClient:
    client = APIClient()
    client.force_authenticate(practised[1])
    return client


def _bearer(*, scopes: list[str], courses: list[Course]) -> APIClient:
    client_row, secret = ApiClient.issue(name="Canvas", scopes=scopes)
    client_row.courses.set(courses)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _summary_url(course: Course) -> str:
    return f"/api/v1/courses/{course.id}/practice/"


def _explanations_url(course: Course) -> str:
    return f"/api/v1/courses/{course.id}/practice/explanations/"


# --- The summary ---------------------------------------------------------------------------


def test_the_summary_has_the_classs_numbers(api_as_teacher, practised):
    course, _ = practised
    # when
    response = api_as_teacher.get(_summary_url(course))
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["course"] == course.id
    assert data["threshold"] == 0.95
    assert data["learners_practised"] == 2  # not the instructor's preview
    assert data["sessions"] == {"finished": 2, "stopped": 0, "active": 0}
    assert data["median_steps_finished"] == 6.5  # of 5 and 8
    speed = next(row for row in data["misconceptions"] if row["code"] == "DO-SPEED")
    assert speed == {
        "code": "DO-SPEED",
        "title": "Dropout speeds up training",
        "learners": 2,
        "evidence": 2,
        "held": 1,
        "resolved": 0,
        "persisting": 1,
        "mastered_without_holding": 1,
        "mean_p_known": pytest.approx(speed["mean_p_known"]),
    }
    assert 0 < speed["mean_p_known"] < 1
    neuron = next(row for row in data["prerequisites"] if row["code"] == "PRE-NEURON")
    assert (neuron["missed"], neuron["mastered_since"], neuron["still_missing"]) == (0, 0, 0)
    assert (data["explanations_awaiting"], data["explanations_reviewed"]) == (3, 0)


def test_a_course_nobody_practised_has_an_empty_summary(practised):
    # given another course of the same catalogue, where nobody practised
    course, teacher = _course("nobody-101", "Nobody practised")
    client = APIClient()
    client.force_authenticate(teacher)
    data = client.get(_summary_url(course)).json()
    assert data["learners_practised"] == 0
    assert data["median_steps_finished"] is None
    assert data["misconceptions"] == data["prerequisites"] == []


# --- Who may read it ------------------------------------------------------------------------


def test_the_courses_instructor_reads_it_by_token_too(practised):
    course, teacher = practised
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=teacher).key}")
    for url in (_summary_url(course), _explanations_url(course)):
        assert client.get(url).status_code == 200, url


def test_an_lms_client_bound_to_the_course_with_the_scope_reads_it(practised):
    course, _ = practised
    client = _bearer(scopes=["analytics:read"], courses=[course])
    assert client.get(_summary_url(course)).json()["learners_practised"] == 2
    assert client.get(_explanations_url(course)).json()["count"] == 3


def test_an_lms_client_without_the_scope_gets_403(practised):
    course, _ = practised
    client = _bearer(scopes=["grades:read"], courses=[course])
    for url in (_summary_url(course), _explanations_url(course)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "analytics:read" in response.json()["error"]["message"]


def test_an_lms_client_of_another_course_gets_404(practised):
    course, _ = practised
    other, _ = _course("other", "Other course")
    client = _bearer(scopes=["analytics:read"], courses=[other])
    for url in (_summary_url(course), _explanations_url(course)):
        assert client.get(url).status_code == 404, url


def test_learners_other_instructors_and_strangers_get_404(practised):
    course, _ = practised
    other_teacher = UserFactory.create(username="other-teacher")
    Course.objects.create(slug="theirs", title="Theirs").instructors.add(other_teacher)
    learner = course.enrollments.get(learner__username="ada").learner
    for user in (learner, other_teacher):
        client = APIClient()
        client.force_authenticate(user)
        for url in (_summary_url(course), _explanations_url(course)):
            response = client.get(url)
            assert response.status_code == 404, (user.username, url)
            assert response.json()["error"]["code"] == "not_found"
    client = APIClient()
    client.force_authenticate(other_teacher)
    for course_id in (999_999, 10**25):
        assert client.get(f"/api/v1/courses/{course_id}/practice/").status_code == 404


def test_anonymous_callers_get_403(practised):
    course, _ = practised
    for url in (_summary_url(course), _explanations_url(course)):
        response = APIClient().get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "not_authenticated"


# --- Explanations ------------------------------------------------------------------------------


def test_explanations_come_awaiting_first_with_their_ideas(api_as_teacher, practised):
    # given bob's closing explain-back has been reviewed; ada's, and bob's on DO-SPEED, not
    course, teacher = practised
    bob = _explain_step(course, "bob")
    explanation_review(
        step_id=bob.id, course=course, reviewer=teacher, ideas=[0, 1], comment="Almost."
    )
    # when
    data = api_as_teacher.get(_explanations_url(course)).json()
    # then: the two awaiting review, oldest first, then the reviewed one
    assert data["count"] == 3 and data["next"] is None and data["previous"] is None
    first, second, third = data["results"]
    assert [r["learner"]["username"] for r in data["results"]] == ["ada", "bob", "bob"]
    assert first["reviewed_at"] is None and first["review_ideas"] is None
    assert first["question"]["slug"] == "explain-cost-ensemble-b"
    prompt = Question.objects.get(slug="explain-cost-ensemble-b")
    assert first["text"] == prompt.model_answer  # the scripted learners write a complete one
    assert first["self_assessed_ideas"] == [0, 1, 2, 3, 4]
    assert [idea["self_assessed"] for idea in first["key_ideas"]] == [True] * 5
    assert {idea["reviewed"] for idea in first["key_ideas"]} == {None}
    assert second["id"] < bob.id and second["reviewed_at"] is None
    assert third["id"] == bob.id and third["reviewed_by"] == teacher.username
    assert third["review_ideas"] == [0, 1] and third["review_comment"] == "Almost."
    assert [idea["reviewed"] for idea in third["key_ideas"]] == [True, True, False, False, False]


def test_explanations_filter_by_state(api_as_teacher, practised):
    course, teacher = practised
    bob = _explain_step(course, "bob")
    explanation_review(step_id=bob.id, course=course, reviewer=teacher, ideas=[], comment="")
    awaiting = api_as_teacher.get(_explanations_url(course) + "?state=awaiting").json()
    reviewed = api_as_teacher.get(_explanations_url(course) + "?state=reviewed").json()
    assert [r["learner"]["username"] for r in awaiting["results"]] == ["ada", "bob"]
    assert [r["id"] for r in reviewed["results"]] == [bob.id]


def test_explanations_come_in_strict_pages(api_as_teacher, practised):
    course, _ = practised
    url = _explanations_url(course)
    first = api_as_teacher.get(url + "?page_size=1").json()
    assert first["count"] == 3 and len(first["results"]) == 1
    assert first["next"].endswith("page=2&page_size=1")
    assert api_as_teacher.get(url + "?page=4&page_size=1").status_code == 404
    for bad in ("page=0", "page=abc", "page_size=0", "page_size=501"):
        response = api_as_teacher.get(f"{url}?{bad}")
        assert response.status_code == 400, bad
        assert bad.split("=")[0] in response.json()["error"]["fields"], bad


def test_an_unknown_state_is_a_400_naming_it(api_as_teacher, practised):
    course, _ = practised
    response = api_as_teacher.get(_explanations_url(course) + "?state=late")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"state"}


def test_the_api_reads_a_fixed_number_of_queries(api_as_teacher, practised):
    # given
    course, _ = practised
    with CaptureQueriesContext(connection) as two:
        api_as_teacher.get(_explanations_url(course))
    with CaptureQueriesContext(connection) as summary_two:
        api_as_teacher.get(_summary_url(course))
    _practise(course, _enrol(course, "cy"), misses_once={"PRE-NEURON", "DO-SPEED"})
    # when
    with CaptureQueriesContext(connection) as three:
        assert api_as_teacher.get(_explanations_url(course)).json()["count"] == 6
    with CaptureQueriesContext(connection) as summary_three:
        assert api_as_teacher.get(_summary_url(course)).json()["learners_practised"] == 3
    # then
    assert len(three.captured_queries) == len(two.captured_queries)
    assert len(summary_three.captured_queries) == len(summary_two.captured_queries)
