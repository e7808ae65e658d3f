"""The instructor analytics API: who may read it, its shapes, its errors and its exports."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.analytics.test_statistics import MARKS, _class
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def taught():
    quiz, questions = _class()
    teacher = UserFactory.create()
    assert quiz.course is not None
    quiz.course.instructors.add(teacher)
    client = APIClient()
    client.force_authenticate(teacher)
    return quiz, questions, teacher, client


def test_statistics_have_the_documented_shape(taught):
    quiz, _, _, client = taught
    response = client.get(f"/api/v1/quizzes/{quiz.id}/statistics/?attempts=first")
    assert response.status_code == 200
    data = response.json()
    assert data["attempts_counted"] == len(MARKS)
    assert data["items_count"] == MARKS.shape[1] and data["max_mark"] == 4.0
    assert set(data["test"]) >= {
        "mean", "median", "sd", "skewness", "kurtosis", "cic", "error_ratio", "standard_error",
    }  # fmt: skip
    item = data["items"][0]
    assert set(item) >= {
        "question", "slot", "slots", "max_mark", "facility", "sd", "random_guess_score",
        "intended_weight", "effective_weight", "discrimination_index",
        "discriminative_efficiency", "options",
    }  # fmt: skip
    assert set(item["options"][0]) >= {"choice", "count", "point_biserial", "misconceptions"}


def test_a_bad_attempts_policy_is_a_400_naming_the_field(taught):
    quiz, _, _, client = taught
    response = client.get(f"/api/v1/quizzes/{quiz.id}/statistics/?attempts=best")
    assert response.status_code == 400
    assert "attempts" in response.json()["error"]["fields"]


def test_only_the_courses_instructors_see_it():
    quiz, _ = _class()
    client = APIClient()
    assert client.get(f"/api/v1/quizzes/{quiz.id}/statistics/").status_code == 403
    client.force_authenticate(UserFactory.create())  # a learner, or another course's teacher
    assert client.get(f"/api/v1/quizzes/{quiz.id}/statistics/").status_code == 404
    assert client.get(f"/api/v1/quizzes/{quiz.id}/responses/").status_code == 404
    assert client.get(f"/api/v1/courses/{quiz.course_id}/misconceptions/").status_code == 404


def test_an_api_token_works_too(taught):
    quiz, _, teacher, _ = taught
    token = Token.objects.create(user=teacher)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/v1/quizzes/{quiz.id}/statistics/").status_code == 200


def test_responses_as_json_pages(taught):
    quiz, questions, _, client = taught
    response = client.get(f"/api/v1/quizzes/{quiz.id}/responses/?page_size=5")
    data = response.json()
    assert data["count"] == MARKS.size
    assert len(data["results"]) == 5
    row = data["results"][0]
    assert row["slot"] == 1 and row["question"] == questions[0].id
    assert row["structural_slot"] == 1
    assert row["mark"] == MARKS[0, 0] and row["max_mark"] == 1.0
    assert len(row["chosen_options"]) == 1 and row["confidence"] == 3


def test_responses_as_csv(taught):
    quiz, _, _, client = taught
    response = client.get(f"/api/v1/quizzes/{quiz.id}/responses/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == MARKS.size
    marks = np.array([float(r["mark"]) for r in rows]).reshape(MARKS.shape)
    assert (marks == MARKS).all()
    bad = client.get(f"/api/v1/quizzes/{quiz.id}/responses/?format=xml")
    assert bad.status_code == 400 and "format" in bad.json()["error"]["fields"]


def test_course_misconceptions(taught):
    quiz, _, _, client = taught
    response = client.get(f"/api/v1/courses/{quiz.course_id}/misconceptions/")
    assert response.status_code == 200
    assert {"learners", "misconceptions", "cells", "questions"} <= set(response.json())
    for raw in ("999999", "99999999999999999999999", "x"):  # absent, overflowing, not a number
        bad = client.get(f"/api/v1/courses/{quiz.course_id}/misconceptions/?quiz={raw}")
        assert bad.status_code == 400 and "quiz" in bad.json()["error"]["fields"]
    ok = client.get(f"/api/v1/courses/{quiz.course_id}/misconceptions/?quiz={quiz.id}")
    assert ok.status_code == 200


def test_course_misconceptions_pages_are_checked(taught):
    quiz, _, _, client = taught
    url = f"/api/v1/courses/{quiz.course_id}/misconceptions/"
    assert client.get(url + "?page=1&page_size=1000").status_code == 200
    bad = client.get(url + "?page_size=0")
    assert bad.status_code == 400 and "page_size" in bad.json()["error"]["fields"]
    bad = client.get(url + "?page=x")
    assert bad.status_code == 400 and "page" in bad.json()["error"]["fields"]
