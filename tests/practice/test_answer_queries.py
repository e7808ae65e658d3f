"""A practice answer costs at most 15 queries and its feedback page 16 (the step read once,
the post-test's pools from the cache), right or wrong, however far the session has gone; the
banks' items come from the cache and never outlive an edit of the banks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Choice
from practice.models import PracticeSession
from practice.selectors.bank_items import bank_items, banks_version, question_answerable
from practice.selectors.items import practice_items
from tests.practice.test_pages import _answer, _right, _wrong

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
MAX_FEEDBACK_QUERIES = 16


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements the request sent, without the savepoints of the test's own transaction
    (in production the request's atomic block is a BEGIN and a COMMIT, which Django does not
    log as queries either)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _warm_banks() -> None:
    """Fill the banks' cache, as a server's earlier answers have."""
    version = banks_version()
    for question_id in bank_items(version=version):
        question_answerable(question_id=question_id, version=version)


def test_an_answer_costs_at_most_15_queries(client, enrolled, course):
    # given: a session under way, the banks' cache warm
    client.force_login(enrolled)
    assert client.post(f"/practice/courses/{course.id}/start/").status_code == 302
    session = PracticeSession.objects.get(course=course, state="active")
    _warm_banks()
    counts: list[tuple[str, int]] = []
    # when: eight answers, every other one wrong (unsure, so no explain-back interrupts)
    for number in range(8):
        step = session.steps.exclude(state="done").get()
        assert step.question is not None and step.question.qtype != "explain"
        right = number % 2 == 0
        data = _right(step) if right else _wrong(step, confidence=1)
        with CaptureQueriesContext(connection) as captured:
            response = _answer(client, step, data)
        assert response.status_code == 302
        step.refresh_from_db()
        assert step.state == "done" and step.is_correct is right
        counts.append((step.question.slug, len(_statements(captured))))
    # then
    assert max(count for _, count in counts) <= MAX_QUERIES, counts


def test_a_feedback_page_costs_at_most_16_queries(client, enrolled, course):
    # given: a session under way, the banks' cache warm
    client.force_login(enrolled)
    assert client.post(f"/practice/courses/{course.id}/start/").status_code == 302
    session = PracticeSession.objects.get(course=course, state="active")
    _warm_banks()
    counts: list[int] = []
    for number in range(6):
        step = session.steps.exclude(state="done").get()
        right = number % 2 == 0
        response = _answer(client, step, _right(step) if right else _wrong(step, confidence=1))
        assert response.status_code == 302 and "/feedback/" in response["Location"]
        # when: the learner opens the step's feedback
        with CaptureQueriesContext(connection) as captured:
            page = client.get(response["Location"])
        # then: it shows the verdict, in no more than 16 statements (18 before)
        assert page.status_code == 200
        verdict = ">Right</h2>" if right else ">Not right</h2>"
        assert verdict in page.content.decode()
        counts.append(len(_statements(captured)))
    assert max(counts) <= MAX_FEEDBACK_QUERIES, counts


def test_an_edited_choice_is_scored_as_edited(client, enrolled, course):
    # given: a session whose step's question is cached
    client.force_login(enrolled)
    client.post(f"/practice/courses/{course.id}/start/")
    step = PracticeSession.objects.get(course=course, state="active").steps.get()
    assert step.question is not None and step.question.qtype in ("single", "truefalse")
    _warm_banks()
    right = Choice.objects.get(question=step.question, tier=1, is_correct=True)
    wrong = Choice.objects.filter(question=step.question, tier=1, is_correct=False).first()
    assert wrong is not None
    # when: an author swaps which option is right, then the learner picks the old right one
    right.is_correct, wrong.is_correct = False, True
    right.save()
    wrong.save()
    _answer(client, step, {"choice": [right.id], "confidence": 4})
    # then
    step.refresh_from_db()
    assert step.is_correct is False


def test_the_course_items_follow_a_bank_edit(course):
    # given
    before = practice_items(course=course)
    question = Choice.objects.filter(is_correct=False).select_related("question").first()
    assert question is not None
    # when: a wrong option of one item loses its misconceptions
    question.misconceptions.clear()
    # then
    after = practice_items(course=course)
    assert after != before
