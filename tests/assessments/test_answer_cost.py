"""What an autosave costs the database, and that what it caches never goes stale."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Choice
from assessments.services import attempt_start
from tests.factories import code, numeric, quiz_of, single

pytestmark = pytest.mark.django_db

# The answer's row with its attempt (locked) and question, its update, and the selection's
# read; the session and the user come from Redis, the options from the cache.
QUERIES_PER_ANSWER = 3


def _statements(context):
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.fixture
def signed_in(client, learner):
    client.force_login(learner)
    client.get("/")  # the session and the user are cached from the first request on
    return client


def _put(client, attempt, slot, body):
    return client.put(
        f"/api/v1/attempts/{attempt.id}/responses/{slot}/", body, content_type="application/json"
    )


def test_an_autosave_costs_three_queries(signed_in, learner):
    # given an attempt whose first question was answered once
    attempt = attempt_start(quiz=quiz_of(single(), shuffle_questions=False), learner=learner)
    right = attempt.responses.get(slot=1).question.choices.get(is_correct=True)
    body = {"choices": [right.id], "confidence": 3, "seconds_spent": 2}
    assert _put(signed_in, attempt, 1, body).status_code == 200
    # when the learner changes only the confidence
    with CaptureQueriesContext(connection) as context:
        reply = _put(signed_in, attempt, 1, {**body, "confidence": 5})
    # then
    assert reply.status_code == 200, reply.content
    assert len(_statements(context)) == QUERIES_PER_ANSWER, _statements(context)
    assert attempt.responses.get(slot=1).confidence == 5


def test_a_numeric_answer_does_not_read_a_selection(signed_in, learner):
    attempt = attempt_start(quiz=quiz_of(numeric(), shuffle_questions=False), learner=learner)
    body = {"numeric_value": 800, "confidence": 3, "seconds_spent": 2}
    assert _put(signed_in, attempt, 1, body).status_code == 200
    with CaptureQueriesContext(connection) as context:
        assert _put(signed_in, attempt, 1, body).status_code == 200
    assert len(_statements(context)) == QUERIES_PER_ANSWER - 1, _statements(context)


def test_an_option_an_author_removed_is_refused_at_once(signed_in, learner):
    # given the question's options are cached by an answer
    question = single()
    attempt = attempt_start(quiz=quiz_of(question, shuffle_questions=False), learner=learner)
    wrong = question.choices.filter(is_correct=False).first()
    body = {"choices": [wrong.id], "confidence": 3, "seconds_spent": 2}
    assert _put(signed_in, attempt, 1, body).status_code == 200
    # when an author deletes that option
    Choice.objects.filter(id=wrong.id).delete()
    # then it is refused at once, with no stale cache between, and the others still taken
    refused = _put(signed_in, attempt, 1, body)
    assert refused.status_code == 400
    assert "choices" in refused.json()["error"]["fields"]
    right = question.choices.get(is_correct=True)
    assert _put(signed_in, attempt, 1, {**body, "choices": [right.id]}).status_code == 200


def test_the_question_page_shows_an_option_added_after_it_was_cached(signed_in, learner):
    question = single()
    attempt = attempt_start(quiz=quiz_of(question, shuffle_questions=False), learner=learner)
    page = f"/attempts/{attempt.id}/questions/1/"
    assert signed_in.get(page).status_code == 200
    edited = question.choices.get(is_correct=True)
    edited.text = "Edited text of the right option"
    edited.save()
    assert "Edited text of the right option" in signed_in.get(page).content.decode()


def _submit(client, attempt):
    return client.post(f"/api/v1/attempts/{attempt.id}/submit/", content_type="application/json")


def test_a_submit_scores_by_the_key_and_tags_as_they_are_now(signed_in, learner):
    # given a submit that cached the question's scoring key
    question = single(wrong_codes=("DO-SPEED",))
    quiz = quiz_of(question, shuffle_questions=False, attempts_allowed=None)
    wrong = question.choices.get(text="Wrong A")
    first = attempt_start(quiz=quiz, learner=learner)
    body = {"choices": [wrong.id], "confidence": 3, "seconds_spent": 2}
    assert _put(signed_in, first, 1, body).status_code == 200
    assert _submit(signed_in, first).status_code == 200
    assert list(first.responses.get().misconceptions.values_list("code", flat=True)) == ["DO-SPEED"]
    # when an author retags the option and makes it the right one
    wrong.misconceptions.set([code("DO-DATA")])
    second = attempt_start(quiz=quiz, learner=learner)
    assert _put(signed_in, second, 1, body).status_code == 200
    assert _submit(signed_in, second).status_code == 200
    assert list(second.responses.get().misconceptions.values_list("code", flat=True)) == ["DO-DATA"]
    Choice.objects.filter(question=question).update(is_correct=False)
    wrong.is_correct = True
    wrong.save()
    wrong.misconceptions.clear()
    third = attempt_start(quiz=quiz, learner=learner)
    assert _put(signed_in, third, 1, body).status_code == 200
    assert _submit(signed_in, third).status_code == 200
    # then each submit scored by the key as it stood
    scored = third.responses.get()
    assert scored.is_correct and scored.mark == 1
    assert not scored.misconceptions.exists()
