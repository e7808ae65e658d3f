"""A learner practises in a real headless Chromium: a missed prerequisite and its lesson, a
confident wrong answer, another angle on it (code, graded live) and an explain-back of the
idea they were sure of, then the closing explain-back, the self-check and the summary with
calibration."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.catalog import catalog_load
from assessments.models import Question
from assessments.numeric import expression_evaluate
from courses.models import Course, Enrollment
from grader.exercises import exercise_get
from practice.instructor_services import practice_items_arrange
from practice.models import PracticeSession, PracticeStep
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM, learner_log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]
GRADING_TIMEOUT_MS = 60_000


def _step_on_page(page: Any) -> PracticeStep:
    """Return the step whose form the page shows (its id is in the form's action)."""
    action = page.locator("#step-form, #self-check-form").get_attribute("action")
    step_id = int(action.strip("/").split("/")[2])
    return PracticeStep.objects.select_related("question").get(id=step_id)


def _rate(page: Any, key: str) -> None:
    """Rate confidence with the keyboard: focus the slider and press `key`."""
    page.locator("#confidence-slider").focus()
    page.keyboard.press(key)


def _tick(page: Any, choice_ids: list[int]) -> None:
    for choice_id in choice_ids:
        page.locator(f"#step-form input[value='{choice_id}']").check()


def _right_choices(step: PracticeStep) -> list[int]:
    return [c.id for c in step.prompt.choices.all() if c.is_correct]


def _only_wrong_on(step: PracticeStep, code: str) -> list[int] | None:
    """Choices answering wrongly with a choice that points at `code` alone, or None."""
    chosen = []
    found = False
    for tier in (1, 2):
        options = [c for c in step.prompt.choices.all() if c.tier == tier]
        if not options:
            continue
        wrong = [
            c
            for c in options
            if not c.is_correct and {m.code for m in c.misconceptions.all()} == {code}
        ]
        found = found or bool(wrong)
        chosen.append((wrong or [c for c in options if c.is_correct])[0].id)
    return chosen if found else None


def _answer_right(page: Any, step: PracticeStep) -> None:
    question = step.prompt
    if question.qtype == "numeric":
        page.fill("#numeric_value", f"{expression_evaluate(question.answer, step.parameters):g}")
    else:
        _tick(page, _right_choices(step))
    _rate(page, "ArrowRight")  # 3 -> 4
    page.get_by_role("button", name="Answer", exact=True).click()
    page.get_by_role("heading", name="Right", exact=True).wait_for()


def _next(page: Any) -> None:
    page.locator("#next").click()
    page.locator("#reason").wait_for()


def _explain(page: Any, step: PracticeStep) -> str:
    """Write a complete explanation (the prompt's model answer, in which the service's
    reading finds every key idea), rate it, and tick every key idea (the first with the
    keyboard); return the text."""
    text = step.prompt.model_answer
    assert_accessible(page, "practice-step-explain")
    page.fill("#text", text)
    _rate(page, "ArrowRight")
    page.get_by_role("button", name="Next: check it against the key ideas").click()
    page.get_by_text("Tick each idea your explanation contains").wait_for()
    assert text[:60] in page.locator("#own-text").inner_text()
    boxes = page.locator("#self-check-form input[name=idea]")
    assert boxes.count() == len(step.prompt.key_ideas)
    boxes.first.focus()
    page.keyboard.press("Space")  # ticked with the keyboard
    for index in range(1, boxes.count()):
        boxes.nth(index).check()
    return text


@pytest.mark.django_db(transaction=True)
def test_a_learner_practises_through_remediation_to_the_explain_back(
    live_server: Any, page: Any, celery_worker: Any
) -> None:
    # given: the shipped catalogue, a course the learner is in, and an instructor's choice to
    # leave out the two-tier and numeric items on DO-TEST, so that the other angle on it is code
    catalog_load()
    learner = UserFactory.create(username="ada", first_name="Ada")
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    Enrollment.objects.create(course=course, learner=learner)
    left_out = set(
        Question.objects.filter(
            probes__code="DO-TEST", qtype__in=["twotier", "numeric"]
        ).values_list("id", flat=True)
    )
    practice_items_arrange(
        course=course,
        order=[
            (question_id, question_id not in left_out)
            for question_id in Question.objects.values_list("id", flat=True)
        ],
    )
    learner_log_in(page, live_server)

    # when: the learner opens practice from the navigation and starts
    page.get_by_role("navigation").get_by_role("link", name="Practice").click()
    page.get_by_role("heading", name="Dropout 101").wait_for()
    assert_accessible(page, "practice-courses")
    assert "0 of 16 ideas settled" in page.locator(".cards").inner_text()
    page.get_by_role("button", name="Practise Dropout 101").click()

    # then: a prerequisite check on what a neuron computes comes first
    reason = page.locator("#reason")
    assert "a quick check of something dropout builds on" in reason.inner_text()
    assert_accessible(page, "practice-step-choice")
    step = _step_on_page(page)
    assert step.kind == "prerequisite"
    assert step.target is not None and step.target.code == "PRE-NEURON"
    # when: it is missed, unsure
    _tick(page, [next(c.id for c in step.prompt.choices.all() if not c.is_correct)])
    _rate(page, "ArrowLeft")  # 3 -> 2
    assert page.locator("#confidence-label").inner_text() == "2 - not sure"
    page.get_by_role("button", name="Answer", exact=True).click()
    # then: a short lesson with the everyday analogy
    page.get_by_role("heading", name="Not right").wait_for()
    lesson = page.locator("#lesson")
    assert "Before going on: What an artificial neuron computes" in lesson.inner_text()
    assert "Think of it this way:" in lesson.inner_text()
    assert step.target.analogy[:40] in lesson.inner_text()
    page.screenshot(path=str(ARTIFACTS / "practice-lesson.png"), full_page=True)
    assert_accessible(page, "practice-lesson")

    # and fresh checks on it follow, then the dropout items; one is missed while sure
    _next(page)
    assert "A fresh check on" in reason.inner_text()
    missed_sure = False
    for _ in range(12):
        step = _step_on_page(page)
        wrong = (
            None if step.kind in ("prerequisite", "recheck") else _only_wrong_on(step, "DO-TEST")
        )
        if wrong is None:
            _answer_right(page, step)
            _next(page)
            continue
        _tick(page, wrong)
        _rate(page, "End")  # 5 - certain
        assert page.locator("#confidence-label").inner_text() == "5 - certain"
        page.get_by_role("button", name="Answer", exact=True).click()
        missed_sure = True
        break
    assert missed_sure, "no item with a DO-TEST-only wrong choice came up"
    # then: the feedback names the misconception and says what is true
    page.get_by_role("heading", name="Not right").wait_for()
    revealed = page.locator("#revealed")
    assert "Dropout is also applied at inference" in revealed.inner_text()
    assert "What is true:" in revealed.inner_text()
    assert "You were more sure than right" in page.locator("#calibration").inner_text()
    if step.prompt.qtype == "twotier":
        assert "Reason:" in page.locator(".verdict").inner_text()
    page.screenshot(path=str(ARTIFACTS / "practice-misconception.png"), full_page=True)
    assert_accessible(page, "practice-misconception")
    # and the next item comes at DO-TEST from another angle, saying the learner was sure
    _next(page)
    assert "You were sure (confidence 5 of 5)" in reason.inner_text()
    assert "Dropout is also applied at inference" in reason.inner_text()
    step = _step_on_page(page)
    assert step.kind == "remediation"
    assert step.target is not None and step.target.code == "DO-TEST"
    assert step.prompt.qtype == "code"
    page.screenshot(path=str(ARTIFACTS / "practice-remediation.png"), full_page=True)
    assert_accessible(page, "practice-step-code")
    # when: the right code is sent; the page waits for the grader and opens the verdict
    reference = exercise_get(step.prompt.exercise).reference_source
    page.locator("#step-form .cm-content").fill(reference)  # the editor over the form's textarea
    assert page.locator("#code").input_value() == reference
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # leaves the editor for the next field
    assert page.evaluate("document.activeElement.closest('.cm-editor')") is None
    _rate(page, "ArrowRight")
    page.get_by_role("button", name="Send for grading").click()
    page.get_by_role("heading", name="Right", exact=True).wait_for(timeout=GRADING_TIMEOUT_MS)
    assert "Passed" in page.locator(".verdict").inner_text()
    page.screenshot(path=str(ARTIFACTS / "practice-code-verdict.png"), full_page=True)
    assert_accessible(page, "practice-code-verdict")

    # then: the step after that asks for the idea the learner was sure of in their own words
    _next(page)
    step = _step_on_page(page)
    assert step.kind == "explain_back"
    assert step.target is not None and step.target.code == "DO-TEST"
    assert (
        "Two steps ago you were sure (confidence 5 of 5) of an answer that pointed at "
        "“Dropout is also applied at inference”. Explain that idea back in your own words."
    ) in reason.inner_text()
    _explain(page, step)
    page.screenshot(path=str(ARTIFACTS / "practice-sure-explain-back.png"), full_page=True)
    assert_accessible(page, "practice-self-check")
    page.get_by_role("button", name="Done: compare with the model answer").click()
    page.get_by_role("heading", name="Your explanation has every key idea").wait_for()
    assert_accessible(page, "practice-explain-back-feedback")
    # and the session goes on

    # when: the rest is answered right, up to the closing explain-back
    _next(page)
    for _ in range(30):
        step = _step_on_page(page)
        if step.kind == "explain_back":
            break
        _answer_right(page, step)
        _next(page)
    assert step.kind == "explain_back" and step.target is None
    assert "explaining it is" in reason.inner_text()
    # then: the learner writes an explanation, rates it and checks it against the key ideas,
    # their own text beside them
    closing_text = _explain(page, step)
    page.screenshot(path=str(ARTIFACTS / "practice-explain-back.png"), full_page=True)
    assert_accessible(page, "practice-explain-back")
    page.get_by_role("button", name="Done: compare with the model answer").click()

    # then: the session ends with its summary and the calibration table
    page.get_by_role("heading", name="Your explanation has every key idea").wait_for()
    summary = page.locator("#summary")
    assert "Session complete" in summary.inner_text()
    assert "How sure you were" in summary.inner_text()
    table = page.locator("table.calibration")
    assert "5 - certain" in table.inner_text()
    assert "You were" in page.locator("table.calibration caption").inner_text()
    assert closing_text[:60] in summary.inner_text()
    page.screenshot(path=str(ARTIFACTS / "practice-summary.png"), full_page=True)
    assert_accessible(page, "practice-summary")
    session = PracticeSession.objects.get(learner=learner, course=course)
    assert session.state == "finished"
    assert session.steps.filter(confidence__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_code_sent_in_practice_waits_for_the_grader_on_a_page_that_says_so(
    live_server: Any, page: Any, grader_idle: None
) -> None:
    # given: a course whose practice offers its code items alone; no grader runs
    catalog_load()
    learner = UserFactory.create(username="ada")
    course = Course.objects.create(slug="dropout-code", title="Dropout in code")
    Enrollment.objects.create(course=course, learner=learner)
    practice_items_arrange(
        course=course,
        order=[(q.id, q.qtype == "code") for q in Question.objects.only("id", "qtype")],
    )
    learner_log_in(page, live_server)
    page.goto(f"{live_server.url}/practice/courses/{course.id}/")
    page.get_by_role("heading", name="Dropout in code").wait_for()
    assert_accessible(page, "practice-course")
    page.get_by_role("button", name="Start practice").click()
    step = _step_on_page(page)
    assert step.prompt.qtype == "code"
    # when: code is sent for grading
    page.locator("#step-form .cm-content").fill(exercise_get(step.prompt.exercise).reference_source)
    _rate(page, "ArrowRight")
    page.get_by_role("button", name="Send for grading").click()
    # then: the waiting page says so in a status region, and passes the audit
    page.get_by_role("heading", name="Grading your code").wait_for()
    assert page.get_by_role("status").inner_text().startswith("Your code is with the grader")
    page.screenshot(path=str(ARTIFACTS / "practice-grading.png"), full_page=True)
    assert_accessible(page, "practice-grading")
    # when: the learner stops there; then the course page sums the session up
    page.get_by_role("button", name="Stop for now").click()
    page.locator("#summary").wait_for()
    assert_accessible(page, "practice-stopped")
    # and a course that is not there is refused on a page of its own
    page.goto(f"{live_server.url}/practice/courses/{course.id + 1000}/")
    page.get_by_role("heading", name="Not found").wait_for()
    assert_accessible(page, "practice-refused")
