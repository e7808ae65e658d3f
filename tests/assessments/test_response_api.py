"""Answering through the API: every bad input is a clear 4xx that changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Attempt, Response
from assessments.services import attempt_start
from tests.factories import explain, multiple, numeric, quiz_of, single, two_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(learner):
    quiz = quiz_of(
        single(), multiple(), numeric(), two_tier(), explain(), time_limit=timedelta(minutes=10)
    )
    return attempt_start(quiz=quiz, learner=learner)


def _url(attempt, slot):
    return f"/api/v1/attempts/{attempt.id}/responses/{slot}/"


def _choice(attempt, slot, text):
    response = attempt.responses.get(slot=slot)
    return response.question.choices.get(text=text).id


def _snapshot(attempt):
    return [
        (
            r.slot,
            r.numeric_value,
            r.text,
            r.confidence,
            r.answered_at,
            sorted(r.selected_choices.values_list("id", flat=True)),
        )
        for r in Response.objects.filter(attempt=attempt).order_by("slot")
    ]


def test_it_saves_an_answer_with_confidence_and_time(api, attempt):
    body = {"choices": [_choice(attempt, 1, "Right")], "confidence": 4, "seconds_spent": 12}
    response = api.put(_url(attempt, 1), body, format="json")
    assert response.status_code == 200, response.json()
    saved = attempt.responses.get(slot=1)
    assert saved.confidence == 4
    assert saved.seconds_spent == 12
    assert saved.is_answered
    api.put(_url(attempt, 1), {**body, "seconds_spent": 5}, format="json")
    assert attempt.responses.get(slot=1).seconds_spent == 17


def test_it_saves_numbers_two_tiers_and_text(api, attempt):
    assert (
        api.put(
            _url(attempt, 3), {"numeric_value": "812.5", "confidence": 2}, format="json"
        ).status_code
        == 200
    )
    assert attempt.responses.get(slot=3).numeric_value == 812.5
    both = [_choice(attempt, 4, "Answer right"), _choice(attempt, 4, "Reason wrong")]
    assert (
        api.put(_url(attempt, 4), {"choices": both, "confidence": 5}, format="json").status_code
        == 200
    )
    assert (
        api.put(
            _url(attempt, 5),
            {"text": "Units are dropped at random.", "confidence": 3},
            format="json",
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("slot", "body", "field"),
    [
        (1, {"choices": [999999], "confidence": 3}, "choices"),
        (1, {"choices": ["abc"], "confidence": 3}, "choices[0]"),
        (3, {"numeric_value": "eight hundred", "confidence": 3}, "numeric_value"),
        (3, {"numeric_value": "nan", "confidence": 3}, "numeric_value"),
        (3, {"numeric_value": "inf", "confidence": 3}, "numeric_value"),
        (1, {"choices": "RIGHT", "confidence": 6}, "confidence"),
        (3, {"numeric_value": 800, "confidence": -1}, "confidence"),
        (3, {"numeric_value": 800, "confidence": 2.5}, "confidence"),
        (3, {"numeric_value": 800}, "confidence"),
        (3, {"numeric_value": 800, "confidence": 3, "correct": True}, "correct"),
        (1, {"numeric_value": 800, "confidence": 3}, "numeric_value"),
        (3, {"numeric_value": 800, "confidence": 3, "seconds_spent": -5}, "seconds_spent"),
        (5, {"text": "x" * 5001, "confidence": 3}, "text"),
    ],
)
def test_it_refuses_bad_input_naming_the_field_and_changes_nothing(api, attempt, slot, body, field):
    if body.get("choices") == "RIGHT":
        body["choices"] = [_choice(attempt, 1, "Right")]
    before = _snapshot(attempt)
    response = api.put(_url(attempt, slot), body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"], error
    assert error["message"]
    assert _snapshot(attempt) == before


def test_single_choice_takes_one_option(api, attempt):
    both = [_choice(attempt, 1, "Right"), _choice(attempt, 1, "Wrong A")]
    response = api.put(_url(attempt, 1), {"choices": both, "confidence": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["choices"] == "Choose only one option."


def test_a_choice_of_another_question_is_refused(api, attempt):
    response = api.put(
        _url(attempt, 1),
        {"choices": [_choice(attempt, 2, "Right 1")], "confidence": 3},
        format="json",
    )
    assert response.status_code == 400
    assert "Not an option of this question" in response.json()["error"]["fields"]["choices"]


def test_a_slot_not_in_the_attempt_is_404_naming_the_slot(api, attempt):
    response = api.put(_url(attempt, 6), {"numeric_value": 1, "confidence": 3}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["fields"] == {"slot": "Choose a question from 1 to 5."}


def test_another_learners_attempt_looks_absent(api, other_learner, attempt):
    theirs = attempt_start(quiz=attempt.quiz, learner=other_learner)
    before = _snapshot(theirs)
    response = api.put(_url(theirs, 3), {"numeric_value": 1, "confidence": 3}, format="json")
    assert response.status_code == 404
    assert api.get(f"/api/v1/attempts/{theirs.id}/").status_code == 404
    assert api.post(f"/api/v1/attempts/{theirs.id}/submit/").status_code == 404
    assert _snapshot(theirs) == before


def test_it_rejects_late_answers(api, attempt):
    Attempt.objects.filter(id=attempt.id).update(deadline=timezone.now() - timedelta(minutes=1))
    before = _snapshot(attempt)
    response = api.put(_url(attempt, 3), {"numeric_value": 800, "confidence": 3}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "time_limit_passed"
    assert "Time is up" in error["message"]
    assert _snapshot(attempt) == before


def test_closing_the_quiz_early_stops_attempts_under_way(api, attempt):
    attempt.quiz.closes_at = timezone.now() - timedelta(minutes=1)
    attempt.quiz.save()
    before = _snapshot(attempt)
    response = api.put(_url(attempt, 3), {"numeric_value": 800, "confidence": 3}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "quiz_closed"
    assert _snapshot(attempt) == before


def test_answers_within_the_grace_period_are_kept(api, attempt, settings):
    settings.ATTEMPT_GRACE_SECONDS = 30
    Attempt.objects.filter(id=attempt.id).update(deadline=timezone.now() - timedelta(seconds=5))
    assert (
        api.put(
            _url(attempt, 3), {"numeric_value": 800, "confidence": 3}, format="json"
        ).status_code
        == 200
    )


def test_anonymous_callers_are_refused(attempt):
    from rest_framework.test import APIClient

    response = APIClient().put(_url(attempt, 1), {"confidence": 3}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


def test_clearing_an_answer_unanswers_the_slot(api, attempt):
    api.put(
        _url(attempt, 1),
        {"choices": [_choice(attempt, 1, "Right")], "confidence": 3},
        format="json",
    )
    assert api.put(_url(attempt, 1), {"choices": []}, format="json").status_code == 200
    assert not attempt.responses.get(slot=1).is_answered
