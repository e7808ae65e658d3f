"""A quiz's explain-back, read on submission: stored, shown beside the learner's ticks, and
counted as evidence (unscored) by the results page, the class heatmap and practice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from analytics.misconceptions import course_misconceptions
from assessments.bank_transfer import bank_import
from assessments.catalog import FIXTURES_DIR, misconceptions_load
from assessments.models import Attempt, Question, Response
from assessments.services import attempt_start
from courses.models import Course, Enrollment
from practice.evidence import quiz_observations
from tests.factories import quiz_of

pytestmark = pytest.mark.django_db

WHAT_WHY = "explain-what-why-a"


@pytest.fixture
def item() -> Question:
    misconceptions_load(json.loads((FIXTURES_DIR / "misconceptions.json").read_text()))
    bank_import(json.loads((FIXTURES_DIR / "banks" / "explain-back.json").read_text()))
    return Question.objects.get(slug=WHAT_WHY)


@pytest.fixture
def course(learner: Any) -> Course:
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    Enrollment.objects.create(course=course, learner=learner)
    return course


def _submitted(api: APIClient, learner: Any, item: Question, text: str, confidence: int) -> Any:
    quiz = quiz_of(item)
    attempt = attempt_start(quiz=quiz, learner=learner)
    body = {"text": text, "confidence": confidence}
    saved = api.put(f"/api/v1/attempts/{attempt.id}/responses/1/", body, format="json")
    assert saved.status_code == 200, saved.json()
    assert api.post(f"/api/v1/attempts/{attempt.id}/submit/").status_code == 200
    return attempt


def test_a_claimed_misconception_is_read_and_counts_as_a_wrong_answer(api, learner, item):
    # given/when: a sure explanation that says one idea and claims dropout speeds training up
    attempt = _submitted(
        api,
        learner,
        item,
        "Dropout randomly switches off units, picking new ones on every pass, and it makes "
        "training faster.",
        confidence=4,
    )
    # then: the reading is stored; the response is wrong, unscored, and reveals the claimed
    # code (a stated belief is evidence of that belief, not of the illusion of understanding)
    response = Response.objects.get(attempt=attempt)
    assert [idea["verdict"] for idea in response.reading["ideas"]] == [
        "found",
        "missing",
        "missing",
        "contradicts",
    ]
    assert response.is_correct is False
    assert response.mark is None and response.max_mark == 0
    assert set(response.misconceptions.values_list("code", flat=True)) == {"DO-SPEED"}
    attempt.refresh_from_db()
    assert attempt.score == 0 and attempt.max_score == 0
    # and the result API shows each idea's reading beside the (not yet given) ticks
    result = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    ideas = result["items"][0]["key_ideas"]
    readings = [idea["reading"] for idea in ideas]
    assert [r["verdict"] for r in readings] == ["found", "missing", "missing", "contradicts"]
    assert {idea["self_assessed"] for idea in ideas} == {None}
    assert readings[0]["message"] == (
        "found: “randomly switches off units, picking new ones on every pass”"
    )
    assert readings[1]["message"] == f"I could not find: {item.key_ideas[1]}"
    assert readings[3]["misconceptions"] == ["DO-SPEED"]
    assert readings[3]["quote"] == "it makes training faster"
    assert readings[3]["message"] == (
        "this says “it makes training faster”, which is the misconception DO-SPEED: "
        "Dropout makes training faster or cheaper."
    )
    # and, rated 4 (sure), the diagnosis holds the stated belief
    verdicts = {d["code"]: d["quadrant"] for d in result["diagnosis"]}
    assert verdicts == {"DO-SPEED": "misconception"}


def test_a_vague_unsure_explanation_is_a_gap(api, learner, item):
    attempt = _submitted(
        api, learner, item, "Dropout drops out neurons so it works better.", confidence=1
    )
    response = Response.objects.get(attempt=attempt)
    assert {idea["verdict"] for idea in response.reading["ideas"]} == {"missing"}
    assert response.is_correct is False
    # missing ideas alone say nothing about their codes: only the illusion is in question
    assert list(response.misconceptions.values_list("code", flat=True)) == ["DO-ILLUSION"]
    result = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    assert {d["code"]: d["quadrant"] for d in result["diagnosis"]} == {"DO-ILLUSION": "gap"}


def test_a_complete_explanation_counts_for_every_probe(api, learner, item):
    attempt = _submitted(api, learner, item, item.model_answer, confidence=4)
    response = Response.objects.get(attempt=attempt)
    assert response.is_correct is True
    assert not response.misconceptions.exists()
    result = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    verdicts = {d["code"]: d["quadrant"] for d in result["diagnosis"]}
    assert verdicts == {code: "knowledge" for code in item.probes.values_list("code", flat=True)}


def test_an_empty_or_unread_explanation_is_no_evidence(api, learner, item):
    # given: the item without criteria, and an answer to it
    item.key_idea_criteria = []
    item.save(update_fields=["key_idea_criteria"])
    attempt = _submitted(api, learner, item, "Dropout makes training faster.", confidence=5)
    # then: nothing is read and nothing counts, as before readings existed
    response = Response.objects.get(attempt=attempt)
    assert response.reading is None and response.is_correct is None
    result = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    assert result["diagnosis"] == []
    assert [idea["reading"] for idea in result["items"][0]["key_ideas"]] == [None] * 4


def test_the_results_page_shows_the_reading_beside_the_ticks(client, learner, item):
    # given: a submitted explanation, self-assessed
    client.force_login(learner)
    api = APIClient()
    api.force_authenticate(learner)
    attempt = _submitted(
        api,
        learner,
        item,
        "Units are dropped at random, a new set every step. It adds no new data and does not "
        "speed up training. Dropout deletes the weakest neurons permanently.",
        confidence=3,
    )
    client.post(f"/attempts/{attempt.id}/questions/1/self-assessment/", {"idea": ["0", "2"]})
    # when
    html = client.get(f"/attempts/{attempt.id}/results/").content.decode()
    # then
    assert "The service&#x27;s first reading" in html or "The service's first reading" in html
    assert "The reading: found: “no new data and does not speed up”" in html
    assert "The reading: I could not find this in your explanation." in html
    assert "The reading: this says “deletes the weakest”, which is the misconception" in html
    assert "The reading: this says “deletes the weakest neurons permanently”" in html
    assert 'name="idea" value="2" checked' in html and 'name="idea" value="1" checked' not in html


def test_the_class_heatmap_and_practice_read_the_same_evidence(api, learner, item, course):
    # given: a course quiz with a sure explanation claiming new data
    quiz = quiz_of(item, course=course)
    attempt = attempt_start(quiz=quiz, learner=learner)
    body = {"text": "Dropout creates new training examples for the network.", "confidence": 5}
    api.put(f"/api/v1/attempts/{attempt.id}/responses/1/", body, format="json")
    api.post(f"/api/v1/attempts/{attempt.id}/submit/")
    assert Attempt.objects.get(id=attempt.id).is_submitted
    # when
    heatmap = course_misconceptions(course=course, fresh=True)
    observations = quiz_observations(course=course, learner_id=learner.id)
    # then: the SQL heatmap counts the explain response as a wrong answer on what it revealed
    codes = {row["code"]: row for row in heatmap["misconceptions"]}
    assert codes["DO-DATA"]["holding"] == 1 and "DO-ILLUSION" not in codes
    assert "DO-SPEED" not in codes  # a missing idea is no evidence on its codes
    # and practice seeds mastery from the same observations
    assert sorted((o.code, o.correct) for o in observations) == [("DO-DATA", False)]
