"""Submitting, scoring, diagnosis, and what is (not) visible before and after."""

import json

import pytest

from assessments.models import Attempt
from assessments.services import attempt_start
from tests.factories import explain, multiple, numeric, quiz_of, single, two_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(learner):
    quiz = quiz_of(single(), multiple(), numeric(), two_tier(), explain())
    return attempt_start(quiz=quiz, learner=learner)


def _choice(attempt, slot, text):
    return attempt.responses.get(slot=slot).question.choices.get(text=text).id


def _answer(api, attempt, slot, **body):
    response = api.put(f"/api/v1/attempts/{attempt.id}/responses/{slot}/", body, format="json")
    assert response.status_code == 200, response.json()


def test_it_scores_every_type_and_diagnoses_by_confidence(api, attempt):
    # given: a confident wrong single choice (DO-SPEED), half a multiple response,
    # the DO-PKEEP numeric distractor with low confidence, a right two-tier, an explanation
    p = attempt.responses.get(slot=3).parameters["p"]
    _answer(api, attempt, 1, choices=[_choice(attempt, 1, "Wrong A")], confidence=5)
    _answer(api, attempt, 2, choices=[_choice(attempt, 2, "Right 1")], confidence=4)
    _answer(api, attempt, 3, numeric_value=p * 1000, confidence=1)
    _answer(
        api,
        attempt,
        4,
        choices=[_choice(attempt, 4, "Answer right"), _choice(attempt, 4, "Reason right")],
        confidence=4,
    )
    _answer(api, attempt, 5, text="Dropout zeroes random units in training.", confidence=2)
    # when
    submitted = api.post(f"/api/v1/attempts/{attempt.id}/submit/")
    result = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    # then
    assert submitted.status_code == 200
    assert result["score"] == 1.5
    assert result["max_score"] == 4
    marks = {item["slot"]: item["mark"] for item in result["items"]}
    assert marks == {1: 0, 2: 0.5, 3: 0, 4: 1, 5: None}
    verdicts = {d["code"]: d["quadrant"] for d in result["diagnosis"]}
    # DO-TEST: the two-tier was right and sure; the half-right multiple response (a right
    # option left unticked) names no belief.
    assert verdicts == {"DO-SPEED": "misconception", "DO-TEST": "knowledge", "DO-PKEEP": "gap"}
    assert result["explain_back"]["code"] == "DO-SPEED"


def test_a_second_submit_is_refused_and_changes_nothing(api, attempt):
    assert api.post(f"/api/v1/attempts/{attempt.id}/submit/").status_code == 200
    submitted_at = Attempt.objects.get(id=attempt.id).submitted_at
    response = api.post(f"/api/v1/attempts/{attempt.id}/submit/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_submitted"
    assert Attempt.objects.get(id=attempt.id).submitted_at == submitted_at


def test_answers_after_submission_are_refused(api, attempt):
    api.post(f"/api/v1/attempts/{attempt.id}/submit/")
    response = api.put(
        f"/api/v1/attempts/{attempt.id}/responses/3/",
        {"numeric_value": 1, "confidence": 1},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_submitted"


def _keys(value):
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_correct_answers_are_not_exposed_before_submission(api, attempt):
    detail = api.get(f"/api/v1/attempts/{attempt.id}/").json()
    text = json.dumps(detail)
    assert not _keys(detail) & {
        "is_correct",
        "correct",
        "feedback",
        "misconceptions",
        "answer",
        "model_answer",
        "key_ideas",
        "mark",
    }
    assert "Feedback for" not in text  # choice feedback
    assert "General feedback" not in text
    assert "at random during training only" not in text  # the model answer
    p = attempt.responses.get(slot=3).parameters["p"]
    assert f"{(1 - p) * 1000:g}" not in text  # the numeric answer
    assert api.get(f"/api/v1/attempts/{attempt.id}/result/").status_code == 404


def test_it_lists_my_quizzes_with_progress(api, attempt):
    listing = api.get("/api/v1/quizzes/").json()["results"]
    assert [(q["slug"], q["status"], q["unfinished_attempt_id"]) for q in listing] == [
        (attempt.quiz.slug, "In progress", attempt.id)
    ]


def test_it_starts_through_the_api(api, learner):
    quiz = quiz_of(single())
    response = api.post(f"/api/v1/quizzes/{quiz.slug}/attempts/")
    assert response.status_code == 201
    assert response.json()["state"] == "in_progress"
    assert api.post("/api/v1/quizzes/no-such-quiz/attempts/").status_code == 404
