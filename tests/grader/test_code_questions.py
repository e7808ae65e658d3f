"""Code questions in a quiz: the latest graded submission is the slot's answer and mark."""

from __future__ import annotations

import time

import pytest

from assessments.catalog import catalog_load
from assessments.models import Attempt, Quiz
from assessments.services import attempt_start, attempt_submit
from grader.exercises import exercise_get
from grader.models import Submission


def _wait(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_a_code_question_is_answered_by_its_graded_submission(celery_worker, api, learner):
    # given: the shipped code quiz
    catalog_load()
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    forward_slot = attempt.responses.get(question__exercise="dropout-forward").slot
    backward_slot = attempt.responses.get(question__exercise="dropout-backward").slot
    forward = exercise_get("dropout-forward")
    # when: the reference is submitted for the forward slot
    response = api.post(
        "/api/v1/submissions/",
        {
            "exercise": "dropout-forward",
            "code": forward.reference_source,
            "attempt": attempt.id,
            "slot": forward_slot,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    _wait(lambda: Submission.objects.get(id=response.json()["id"]).is_finished)
    # and the quiz is submitted while a backward submission is still being graded
    slow = "import time\ntime.sleep(2)\n" + exercise_get("dropout-backward").reference_source
    pending = api.post(
        "/api/v1/submissions/",
        {
            "exercise": "dropout-backward",
            "code": slow,
            "attempt": attempt.id,
            "slot": backward_slot,
        },
        format="json",
    )
    assert pending.status_code == 202
    attempt_submit(attempt_id=attempt.id, learner=learner)
    # then: the graded slot counts at once; the pending one counts when its verdict lands
    forward_response = attempt.responses.get(slot=forward_slot)
    assert forward_response.mark == 1
    assert forward_response.is_correct is True
    assert attempt.responses.get(slot=backward_slot).mark is None
    _wait(lambda: attempt.responses.get(slot=backward_slot).mark is not None)
    assert Attempt.objects.get(id=attempt.id).score == 2
    results = api.get(f"/api/v1/attempts/{attempt.id}/result/").json()
    assert any(
        "Code submission: passed" in " ".join(item["your_answer"]) for item in results["items"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        (lambda a, s: {"exercise": "dropout-backward", "attempt": a, "slot": s}, 400, "exercise"),
        (lambda a, s: {"exercise": "dropout-forward", "attempt": a, "slot": 99}, 400, "slot"),
        (lambda a, s: {"exercise": "dropout-forward", "attempt": a}, 400, "slot"),
        (
            lambda a, s: {"exercise": "dropout-forward", "attempt": 999999, "slot": s},
            404,
            "attempt",
        ),
    ],
)
def test_quiz_submissions_must_match_their_slot(api, learner, change, status, field):
    catalog_load()
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    slot = attempt.responses.get(question__exercise="dropout-forward").slot
    body = {"code": "x = 1", **change(attempt.id, slot)}
    response = api.post("/api/v1/submissions/", body, format="json")
    assert response.status_code == status
    assert field in response.json()["error"]["fields"]
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_submitted_attempt_takes_no_more_code(api, learner):
    catalog_load()
    attempt = attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner)
    attempt_submit(attempt_id=attempt.id, learner=learner)
    response = api.post(
        "/api/v1/submissions/",
        {"exercise": "dropout-forward", "code": "x = 1", "attempt": attempt.id, "slot": 1},
        format="json",
    )
    assert response.status_code == 409
    assert not Submission.objects.exists()
