"""The explain-back step with the service's reading: stored, shown beside the learner's ticks
and the reviewer's finds, and what it counts as evidence (on the real catalogue)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from assessments.catalog import catalog_load
from assessments.explanation_reading import Reading
from courses.models import Course, Enrollment
from practice.models import Mastery, PracticeStep
from practice.selectors.course_report import explanation_row
from practice.services import explanation_review, step_self_check
from tests.factories import UserFactory
from tests.practice.test_pages import _answer, _html, _to_explain_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(learner: Any) -> Course:
    catalog_load()
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    Enrollment.objects.create(course=course, learner=learner)
    return course


@pytest.fixture
def client_in(client: Client, learner: Any) -> Client:
    client.force_login(learner)
    return client


def _observations(learner: Any, course: Course) -> dict[str, tuple[int, int]]:
    """Per code, the learner's (observations, right ones)."""
    return {
        code: (n, right)
        for code, n, right in Mastery.objects.filter(course=course, learner=learner).values_list(
            "misconception__code", "observations", "correct"
        )
    }


def _explained(client: Client, course: Course, text: str) -> PracticeStep:
    _session, step = _to_explain_back(client, course)
    assert _answer(client, step, {"text": text, "confidence": 4}).status_code == 302
    step.refresh_from_db()
    return step


def test_the_text_is_read_when_it_is_written(client_in, course):
    # given/when: an explanation with the first two key ideas of explain-what-why-a
    step = _explained(
        client_in,
        course,
        "Dropout zeroes units at random, with a fresh mask each pass; units cannot rely on "
        "particular other units.",
    )
    # then: the reading is stored with the step, one verdict per key idea
    reading = Reading.from_json(step.reading)
    assert reading is not None
    assert [idea.verdict.value for idea in reading.ideas] == [
        "found",
        "found",
        "missing",
        "missing",
    ]
    assert "cannot rely on particular" in reading.ideas[1].quote


def test_a_contradicted_idea_is_a_wrong_answer_on_the_code_it_names(client_in, course, learner):
    # given: the first idea said with the belief that dropout picks the weakest units
    step = _explained(
        client_in,
        course,
        "On every pass dropout switches off the weakest neurons, so that the rest must learn.",
    )
    before = _observations(learner, course)
    # when: the learner ticks that idea
    step_self_check(step_id=step.id, learner=learner, ideas=[0])
    # then: DO-TARGETED is revealed and observed wrong; the idea's other codes, which only a
    # learner leaving it out may hold, are not
    step.refresh_from_db()
    revealed = set(step.revealed.values_list("code", flat=True))
    assert "DO-TARGETED" in revealed
    assert not {"DO-FIXEDMASK", "DO-WEIGHTS"} & revealed
    after = _observations(learner, course)
    assert after["DO-TARGETED"][0] == before.get("DO-TARGETED", (0, 0))[0] + 1
    assert after["DO-TARGETED"][1] == before.get("DO-TARGETED", (0, 0))[1]
    assert "DO-FIXEDMASK" not in step.mastery_after
    # and the feedback names the belief with the learner's words
    html = _html(client_in.get(f"/practice/steps/{step.id}/feedback/"))
    assert "this says “switches off the weakest" in html
    assert "which is the misconception" in html and "DO-TARGETED" in html


def test_a_first_review_does_not_count_an_unread_tick_twice(client_in, course, learner):
    # given: ideas 1 and 2 in the text, and idea 3 ticked though the text does not have it
    step = _explained(
        client_in,
        course,
        "Each pass, dropout zeroes random units with a new mask; no unit can count on any "
        "other unit being there.",
    )
    step_self_check(step_id=step.id, learner=learner, ideas=[0, 1, 2])
    after_check = _observations(learner, course)
    # when: the reviewer finds only the first idea
    teacher = UserFactory.create(username="tess")
    course.instructors.add(teacher)
    explanation_review(step_id=step.id, course=course, reviewer=teacher, ideas=[0], comment="")
    # then: idea 2, credited by tick and reading, counts against its codes once more; idea 3,
    # which the reading did not find, already counted at the self-check and does not again
    after_review = _observations(learner, course)
    for code in ("DO-ENSEMBLE", "DO-TARGETED"):  # key_idea_probes of idea 2
        assert after_review[code][0] == after_check.get(code, (0, 0))[0] + 1, code
    for code in ("DO-PERMANENT", "DO-TEST", "DO-NOSCALE"):  # key_idea_probes of idea 3
        assert after_review[code] == after_check[code], code


def test_the_review_queue_shows_the_reading_beside_the_ticks(client, course, learner):
    # given: a finished explain-back
    client.force_login(learner)
    step = _explained(
        client,
        course,
        "Dropout makes training faster. Units are switched off at random on every pass.",
    )
    step_self_check(step_id=step.id, learner=learner, ideas=[0, 3])
    teacher = UserFactory.create(username="tess")
    course.instructors.add(teacher)
    client.force_login(teacher)
    # when
    html = _html(client.get(f"/instructor/courses/{course.id}/practice/explanations/"))
    # then: per key idea, the learner's tick and the reading, with the words it matched
    assert "learner ticked it" in html
    assert "reading: found" in html
    assert "reading: not found" in html
    assert "reading: says DO-SPEED" in html
    assert "Dropout makes training faster" in html
    # and the API gives the same
    row = explanation_row(PracticeStep.objects.select_related("session__learner").get(id=step.id))
    readings = [idea["reading"] for idea in row["key_ideas"]]
    assert readings[0]["verdict"] == "found"
    assert readings[3] == {
        "verdict": "contradicts",
        "quote": "Dropout makes training faster",
        "misconceptions": ["DO-SPEED"],
    }
