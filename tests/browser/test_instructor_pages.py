"""An instructor reads a simulated class's dashboard, a quiz's statistics, a learner's
profile and the practice pages in a real headless Chromium, choosing the attempts policy
with the keyboard; axe-core finds nothing serious on any of them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command

from assessments.models import Quiz
from tests.browser.accessibility import (
    assert_accessible,
    chart_marks_below_contrast,
    heatmap_cells_unspoken,
)
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]

VIEWPORT_WIDTH = 1100
MAX_TABS = 40
# What the charts draw behind their marks: the plot's ground and a share bar's empty track.
CHART_GROUNDS = {"rgb(251, 252, 254)", "rgb(238, 241, 246)"}


def _no_sideways_scroll(page: Any) -> None:
    """Wide tables scroll inside their own box; the page itself never scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT_WIDTH


def _tab_to(page: Any, element_id: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} was not reached with {MAX_TABS} presses of Tab")


@pytest.mark.django_db(transaction=True)
def test_an_instructor_reads_the_class_pages(live_server: Any, page: Any) -> None:
    # given: the catalogue and a simulated class of 15 taught by Tess
    call_command("load_catalog")
    teacher = UserFactory.create(username="tess", first_name="Tess")
    call_command(
        "simulate_class", "--course", "demo", "--learners", "15", "--seed", "1",
        "--instructor", teacher.username, verbosity=0,
    )  # fmt: skip
    pre = Quiz.objects.get(course__slug="demo", role=Quiz.Role.PRE)
    # when: Tess logs in and opens her course
    page.goto(f"{live_server.url}/instructor/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "tess")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="My courses").wait_for()
    page.screenshot(path=str(ARTIFACTS / "instructor-courses.png"))
    assert_accessible(page, "instructor-courses")
    page.get_by_role("link", name=re.compile("Open the dashboard of")).click()
    # then: the gains, the prevalence bars and the heatmap, drawn without any script
    page.get_by_role("heading", name="Learning gain, pre-test to post-test").wait_for()
    assert page.locator("#gain-pre").inner_text().endswith("%")
    assert page.locator("svg#gain-overall").is_visible()
    assert page.locator("svg#gain-codes").is_visible()
    assert page.get_by_role("img", name="Class average, pre-test and post-test").is_visible()
    assert page.locator("svg.sharebar").first.is_visible()
    assert page.locator("#heatmap tbody tr").count() == 15
    assert page.locator("#heatmap td.q-misconception").count() > 0
    assert page.locator("#matrix tbody tr").count() > 0
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "instructor-dashboard.png"))
    assert_accessible(page, "instructor-dashboard")
    # colour never says alone what a heatmap cell or a chart means, and marks stand out
    assert heatmap_cells_unspoken(page, "#heatmap") == []
    assert chart_marks_below_contrast(page, backgrounds=CHART_GROUNDS) == []
    page.screenshot(path=str(ARTIFACTS / "instructor-dashboard-full.png"), full_page=True)

    # when: opening the pre-test's statistics
    page.get_by_role("link", name=f"Statistics of {pre.title}").click()
    page.get_by_role("heading", name=f"Statistics · {pre.title}").wait_for()
    # then: the scatter and the tables are there
    scatter = page.locator("svg#facility-discrimination")
    assert scatter.is_visible()
    assert scatter.locator("circle").count() > 0
    assert page.locator("#test-statistics tbody tr").count() == 8
    assert page.locator("#items tbody tr").count() > 0
    assert page.locator("details.item-options svg.chart").count() > 0
    assert "(first attempt of each learner)" in page.locator("#counted").inner_text()
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "instructor-statistics.png"))
    assert_accessible(page, "instructor-statistics")
    assert chart_marks_below_contrast(page, backgrounds=CHART_GROUNDS) == []

    # when: choosing "all attempts" with the keyboard only: Tab to the select, arrow down to
    # the last option, Tab to the button, Enter
    page.locator("h1").click()  # start tabbing from the top of the content
    _tab_to(page, "attempts")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert page.locator("#attempts").input_value() == "all"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "policy-submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # then: the page counts all attempts and keeps the choice
    assert "attempts=all" in page.url
    assert "(all attempts)" in page.locator("#counted").inner_text()
    assert page.locator("#attempts").input_value() == "all"
    assert page.locator("svg#facility-discrimination").is_visible()
    page.screenshot(path=str(ARTIFACTS / "instructor-statistics-all.png"), full_page=False)

    # a policy that does not exist is refused, naming the field
    refused = page.goto(f"{live_server.url}/instructor/quizzes/{pre.id}/statistics/?attempts=best")
    assert refused is not None and refused.status == 400
    assert page.locator("#attempts-error").inner_text().startswith("attempts: choose one of")
    page.screenshot(path=str(ARTIFACTS / "instructor-statistics-error.png"))
    assert_accessible(page, "instructor-statistics-error")

    # when: opening a learner's profile from the heatmap
    page.goto(f"{live_server.url}/instructor/courses/{pre.course_id}/")
    first = page.locator("#heatmap tbody th a").first
    username = first.inner_text()
    first.click()
    # then: the scores chart and the misconception timeline, oldest attempt first
    page.get_by_role("heading", name=username, exact=True).wait_for()
    assert page.locator("svg#profile-scores").is_visible()
    headers = page.locator("#timeline thead th").all_inner_texts()
    assert headers[1].startswith("1. ") and "pre-test" in headers[1]
    assert headers[2].startswith("2. ") and "post-test" in headers[2]
    assert page.locator("#timeline td.cell").count() > 0
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "instructor-learner.png"), full_page=True)
    assert_accessible(page, "instructor-learner")
    assert heatmap_cells_unspoken(page, "#timeline") == []
    assert chart_marks_below_contrast(page, backgrounds=CHART_GROUNDS) == []

    # when: opening the practice pages the dashboard links to
    page.goto(f"{live_server.url}/instructor/courses/{pre.course_id}/")
    page.get_by_role("link", name="Practice settings").click()
    page.get_by_role("heading", name="Guided practice settings").wait_for()
    assert_accessible(page, "instructor-practice-settings")
    page.go_back()
    page.get_by_role("link", name=re.compile("^Review explain-backs")).click()
    page.get_by_role("heading", name="Explain-backs to review").wait_for()
    assert_accessible(page, "instructor-explain-backs")
