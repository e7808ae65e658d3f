"""A learner writes code in the exercise page and the verdict appears without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.catalog import catalog_load
from grader.exercises import exercise_get
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]


def _log_in(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="My quizzes").wait_for()


@pytest.mark.django_db(transaction=True)
def test_a_wrong_then_right_solution_is_graded_live(
    live_server: Any, page: Any, celery_worker: Any
) -> None:
    # given
    catalog_load()
    UserFactory.create(username="ada")
    reference = exercise_get("dropout-forward").reference_source
    _log_in(page, live_server)
    page.get_by_role("link", name="Coding exercises").click()
    page.get_by_role("link", name=exercise_get("dropout-forward").title).click()
    editor = page.locator("#code")
    # the editor indents with Tab and numbers its lines
    editor.fill("def f():")
    editor.press("End")
    editor.press("Enter")
    editor.press("Tab")
    editor.type("return 1")
    assert editor.input_value() == "def f():\n    return 1"
    assert page.locator("#gutter").inner_text() == "1\n2"
    # when: a solution that forgets the scaling is submitted
    editor.fill(reference.replace("/ (1.0 - p)", "").replace("/ (1 - p)", ""))
    url = page.url
    page.get_by_role("button", name="Submit for grading").click()
    # then: the verdict names the misconception, on the same page
    page.locator("#verdict-title", has_text="Verdict: failed").wait_for(timeout=60_000)
    assert page.url == url
    assert "DO-NOSCALE" in page.locator("#verdict-misconceptions").inner_text()
    page.screenshot(path=str(ARTIFACTS / "exercise-failed.png"), full_page=True)
    # and the right solution passes
    editor.fill(reference)
    editor.press("Control+Enter")
    page.locator("#verdict-title", has_text="Verdict: passed").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "exercise-passed.png"), full_page=True)
