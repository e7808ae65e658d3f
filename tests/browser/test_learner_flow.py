"""A learner takes the pre-test in a real headless Chromium and sees the diagnosis."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assessments.catalog import catalog_load
from assessments.models import Attempt
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]


def _answer_current_question(page: Any) -> None:
    form = page.locator("#answer-form")
    qtype = form.get_attribute("data-qtype")
    if qtype in ("single", "truefalse", "multiple"):
        form.locator("input[name=choice]").first.check()
    elif qtype == "twotier":
        form.locator("input[name=choice-tier1]").first.check()
        form.locator("input[name=choice-tier2]").first.check()
    elif qtype == "numeric":
        form.locator("#numeric_value").fill("100")
    elif qtype == "explain":
        form.locator("#text").fill("Dropout switches off random units during training only.")
    # Rate confidence with the keyboard: focus the slider, one step right.
    page.locator("#confidence-slider").focus()
    page.keyboard.press("ArrowRight")
    # Locators, not wait_for_function: the page's Content-Security-Policy forbids eval.
    page.locator("#save-status", has_text="Saved").wait_for()


QUESTIONS = 16  # the shipped pre-test's sections draw 2 + 5 + 5 + 3 + 1


@pytest.mark.django_db(transaction=True)
def test_a_learner_takes_the_pretest_and_sees_the_diagnosis(live_server: Any, page: Any) -> None:
    # given: the shipped catalogue and a learner account
    catalog_load()
    UserFactory.create(username="ada", first_name="Ada")
    # when: logging in and starting the pre-test
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert_accessible(page, "login")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="Dropout diagnostic: pre-test").wait_for()
    assert_accessible(page, "my-quizzes")
    page.locator("form[action$='/quizzes/dropout-pretest/start/'] button").click()
    # then: one question per page, with progress, a timer, autosave and the confidence slider
    for slot in range(1, QUESTIONS + 1):
        page.get_by_text(f"Question {slot} of {QUESTIONS}", exact=True).wait_for()
        # the deferred script fills the countdown in; wait for it rather than race it
        page.locator("#timer-value", has_text=re.compile(r"^\d+:\d\d$")).wait_for()
        assert_accessible(page, f"question-{slot}")
        _answer_current_question(page)
        if slot == 2:
            page.screenshot(path=str(ARTIFACTS / "question.png"), full_page=True)
        if slot < QUESTIONS:
            page.get_by_role("button", name="Next →").click()
        else:
            page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("heading", name="Review your answers").wait_for()
    assert "Every question has an answer" in page.content()
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    assert_accessible(page, "review")
    page.locator("#submit-attempt").click()
    page.get_by_role("heading", name="Your results").wait_for()
    page.screenshot(path=str(ARTIFACTS / "results.png"))
    page.screenshot(path=str(ARTIFACTS / "results-full.png"), full_page=True)
    assert_accessible(page, "results")
    assert page.get_by_role("heading", name="What your answers suggest you believe").is_visible()
    assert page.locator("table.diagnosis tbody tr").count() > 0
    attempt = Attempt.objects.get(learner__username="ada")
    assert attempt.is_submitted
    answered = attempt.responses.filter(answered_at__isnull=False, confidence__isnull=False)
    assert answered.count() == QUESTIONS
