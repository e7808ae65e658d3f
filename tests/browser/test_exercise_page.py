"""A learner writes code in the exercise page's editor (CodeMirror over the form's textarea)
and the verdict appears without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.catalog import catalog_load
from assessments.models import QuestionType
from assessments.services import attempt_start
from grader.exercises import exercise_get
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM, learner_log_in
from tests.factories import QuestionFactory, UserFactory, quiz_of

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]


@pytest.mark.django_db(transaction=True)
def test_a_wrong_then_right_solution_is_graded_live(
    live_server: Any, page: Any, celery_worker: Any
) -> None:
    # given
    catalog_load()
    UserFactory.create(username="ada")
    reference = exercise_get("dropout-forward").reference_source
    page.clock.install()
    learner_log_in(page, live_server)
    page.get_by_role("link", name="Coding exercises").click()
    page.get_by_role("heading", name="Coding exercises").wait_for()
    assert_accessible(page, "exercise-list")
    page.get_by_role("link", name=exercise_get("dropout-forward").title).click()
    editor = page.locator("#code-form .cm-content")
    code = page.locator("#code")  # the form's textarea, hidden and kept in step with the editor
    editor.wait_for()
    assert code.is_hidden()
    # the editor indents Python as it is typed, Tab and Shift+Tab indent, and it numbers lines
    editor.click()
    editor.press("Control+a")
    editor.press("Delete")
    page.keyboard.type("def f(x):\nreturn (x + 1)")
    assert code.input_value() == "def f(x):\n    return (x + 1)"
    page.keyboard.press("Shift+Tab")
    assert code.input_value() == "def f(x):\nreturn (x + 1)"
    page.keyboard.press("Tab")
    assert code.input_value() == "def f(x):\n    return (x + 1)"
    assert page.locator("#code-form .cm-lineNumbers").inner_text().split() == ["1", "2"]
    # it highlights Python (the keyword is coloured apart from the name) and matches brackets
    colours = page.evaluate(
        "[...document.querySelectorAll('#code-form .cm-line:first-child span')]"
        ".map((s) => [s.textContent, getComputedStyle(s).color])"
    )
    assert dict(colours)["def"] != dict(colours).get("f", "")
    assert page.locator("#code-form .cm-matchingBracket").count() == 2  # the caret is after ")"
    # the focus ring shows where the keyboard is
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.editor')).outlineStyle") == "solid"
    )
    # Escape then Tab leaves the editor and inserts nothing, however long after the Escape
    # (CodeMirror's own release lasts two seconds; the page's clock is moved past them)
    page.keyboard.press("Escape")
    page.clock.fast_forward(3000)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "submit-code"
    assert code.input_value() == "def f(x):\n    return (x + 1)"
    # when: a solution that forgets the scaling is submitted
    editor.fill(reference.replace("/ (1.0 - p)", "").replace("/ (1 - p)", ""))
    url = page.url
    page.get_by_role("button", name="Submit for grading").click()
    # then: the verdict names the misconception, on the same page
    page.locator("#verdict-title", has_text="Verdict: failed").wait_for(timeout=60_000)
    assert page.url == url
    assert "DO-NOSCALE" in page.locator("#verdict-misconceptions").inner_text()
    page.screenshot(path=str(ARTIFACTS / "exercise-failed.png"), full_page=True)
    assert_accessible(page, "exercise-failed")
    # and the right solution passes
    editor.fill(reference)
    editor.press("Control+Enter")
    page.locator("#verdict-title", has_text="Verdict: passed").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "exercise-passed.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_textarea_is_the_editor(live_server: Any, page: Any) -> None:
    # given: a browser that runs no script
    catalog_load()
    UserFactory.create(username="ada")
    context = page.context.browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    learner_log_in(plain, live_server)
    # when
    plain.goto(f"{live_server.url}/exercises/dropout-forward/")
    # then: the form's own textarea is there to write in, and no editor replaced it
    code = plain.locator("#code")
    assert code.is_visible()
    code.fill("def f(x):\n    return x")
    assert code.input_value() == "def f(x):\n    return x"
    assert plain.locator(".cm-editor").count() == 0
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_code_question_in_a_quiz_waits_for_the_grader_audibly(
    live_server: Any, page: Any, grader_idle: None
) -> None:
    # given: a quiz whose one question is code, started by the learner; no grader runs
    catalog_load()
    learner = UserFactory.create(username="ada")
    question = QuestionFactory.create(qtype=QuestionType.CODE, exercise="dropout-forward")
    attempt = attempt_start(quiz=quiz_of(question, title="Dropout in code"), learner=learner)
    learner_log_in(page, live_server)
    # when: the question opens, with the editor inside the quiz
    page.goto(f"{live_server.url}/attempts/{attempt.id}/questions/1/")
    editor = page.locator("#code-form .cm-content")
    editor.wait_for()
    assert_accessible(page, "quiz-code-question")
    # and code is submitted while no grader is free
    editor.fill(exercise_get("dropout-forward").reference_source)
    page.get_by_role("button", name="Submit for grading").click()
    # then: the page says it is waiting, in a live region, and stays usable
    page.locator("#grade-status", has_text="Waiting for a grader").wait_for()
    assert page.locator("#grade-status").get_attribute("aria-live") == "polite"
    page.screenshot(path=str(ARTIFACTS / "quiz-code-grading.png"), full_page=True)
    assert_accessible(page, "quiz-code-grading")
