"""The learner's pages, driven through Django's test client."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Attempt
from tests.factories import explain, numeric, quiz_of, single, two_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def quiz():
    return quiz_of(single(), numeric(), two_tier(), explain(), time_limit=timedelta(minutes=15))


def _start(client, quiz):
    response = client.post(f"/quizzes/{quiz.slug}/start/")
    assert response.status_code == 302
    return Attempt.objects.get(quiz=quiz)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_logs_in(client, learner):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post("/accounts/login/", {"username": "ada", "password": "pass-word-123"})
    assert response.status_code == 302
    wrong = client.post("/accounts/login/", {"username": "ada", "password": "nope"})
    assert "Please enter a correct username and password" in wrong.content.decode()


def test_my_quizzes_shows_an_empty_state(client_in):
    assert "No quiz is open to you yet" in client_in.get("/").content.decode()


def test_a_learner_takes_a_quiz_page_by_page(client_in, quiz):
    # given
    assert quiz.title in client_in.get("/").content.decode()
    attempt = _start(client_in, quiz)
    first = client_in.get(f"/attempts/{attempt.id}/questions/1/")
    html = first.content.decode()
    assert "Question 1 of 4" in html
    assert 'id="timer"' in html
    assert 'type="range"' in html
    right = attempt.responses.get(slot=1).question.choices.get(text="Right")
    # when: answer, next; number with a comma, back; review
    r1 = client_in.post(
        f"/attempts/{attempt.id}/questions/1/",
        {"choice": right.id, "confidence": "4", "seconds_spent": "9", "action": "next"},
    )
    assert r1["Location"] == f"/attempts/{attempt.id}/questions/2/"
    p = attempt.responses.get(slot=2).parameters["p"]
    r2 = client_in.post(
        f"/attempts/{attempt.id}/questions/2/",
        {
            "numeric_value": f"{(1 - p) * 1000:g}".replace(".", ","),
            "confidence": "3",
            "action": "back",
        },
    )
    assert r2["Location"] == f"/attempts/{attempt.id}/questions/1/"
    review = client_in.get(f"/attempts/{attempt.id}/review/").content.decode()
    assert "2 questions not answered yet: 3, 4" in review
    # then: submit shows the score and the diagnosis
    submitted = client_in.post(f"/attempts/{attempt.id}/submit/")
    assert submitted["Location"] == f"/attempts/{attempt.id}/results/"
    results = client_in.get(submitted["Location"]).content.decode()
    assert "Score: <strong>2.00</strong> out of 3" in results
    assert "What your answers suggest you believe" in results
    assert "Knowledge" in results


@pytest.mark.parametrize(
    ("slot", "data", "message"),
    [
        (2, {"numeric_value": "eight hundred", "confidence": "3"}, "is not a number"),
        (2, {"numeric_value": "800"}, "Rate your confidence"),
        (2, {"numeric_value": "800", "confidence": "9"}, "Rate your confidence"),
        (1, {"choice": "999999", "confidence": "3"}, "Not an option of this question"),
        (1, {"choice": "x", "confidence": "3"}, "is not an option"),
    ],
)
def test_bad_answers_show_a_form_error_and_change_nothing(client_in, quiz, slot, data, message):
    attempt = _start(client_in, quiz)
    response = client_in.post(
        f"/attempts/{attempt.id}/questions/{slot}/", {**data, "action": "next"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not attempt.responses.get(slot=slot).is_answered


def test_a_late_answer_is_refused_on_the_page(client_in, quiz):
    attempt = _start(client_in, quiz)
    Attempt.objects.filter(id=attempt.id).update(deadline=timezone.now() - timedelta(minutes=1))
    response = client_in.post(
        f"/attempts/{attempt.id}/questions/2/", {"numeric_value": "800", "confidence": "3"}
    )
    assert response.status_code == 409
    assert "Time is up" in response.content.decode()
    assert not attempt.responses.get(slot=2).is_answered


def test_the_question_page_does_not_reveal_answers(client_in, quiz):
    attempt = _start(client_in, quiz)
    for slot in range(1, 5):
        html = client_in.get(f"/attempts/{attempt.id}/questions/{slot}/").content.decode()
        assert "Feedback for" not in html
        assert "General feedback" not in html
        assert "is_correct" not in html
        assert "at random during training only" not in html


def test_another_learners_pages_are_404(client, quiz, learner, other_learner):
    client.force_login(learner)
    attempt = _start(client, quiz)
    client.force_login(other_learner)
    for url in (
        f"/attempts/{attempt.id}/questions/1/",
        f"/attempts/{attempt.id}/review/",
        f"/attempts/{attempt.id}/results/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/attempts/{attempt.id}/submit/").status_code == 404
    assert not Attempt.objects.get(id=attempt.id).is_submitted


def test_a_question_outside_the_attempt_is_404(client_in, quiz):
    attempt = _start(client_in, quiz)
    response = client_in.get(f"/attempts/{attempt.id}/questions/9/")
    assert response.status_code == 404
    assert "questions 1 to 4" in response.content.decode()


def test_results_offer_the_explain_back_and_self_assessment(client_in, quiz):
    attempt = _start(client_in, quiz)
    wrong = attempt.responses.get(slot=1).question.choices.get(text="Wrong A")
    client_in.post(f"/attempts/{attempt.id}/questions/1/", {"choice": wrong.id, "confidence": "5"})
    client_in.post(
        f"/attempts/{attempt.id}/questions/4/",
        {"text": "Random units are dropped.", "confidence": "2"},
    )
    client_in.post(f"/attempts/{attempt.id}/submit/")
    results = client_in.get(f"/attempts/{attempt.id}/results/").content.decode()
    assert "Explain it back" in results
    assert "Explain back DO-SPEED." in results
    assert "at random during training only" in results  # the model answer, after submission
    saved = client_in.post(
        f"/attempts/{attempt.id}/explanation/",
        {"misconception": "DO-SPEED", "text": "It does not."},
    )
    assert saved.status_code == 302
    assert attempt.explanations.get().text == "It does not."
    empty = client_in.post(
        f"/attempts/{attempt.id}/explanation/",
        {"misconception": "DO-SPEED", "text": " "},
        follow=True,
    )
    assert "Write your explanation" in empty.content.decode()
    client_in.post(f"/attempts/{attempt.id}/questions/4/self-assessment/", {"idea": ["1"]})
    assert attempt.responses.get(slot=4).self_assessed_ideas == [1]
    bad = client_in.post(
        f"/attempts/{attempt.id}/questions/4/self-assessment/", {"idea": ["7"]}, follow=True
    )
    assert "Key idea numbers must be between 0 and 1" in bad.content.decode()
    assert attempt.responses.get(slot=4).self_assessed_ideas == [1]
