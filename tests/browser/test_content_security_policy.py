"""The pages work under the Content-Security-Policy in a real headless Chromium: no
violation on any page, bars drawn by classes, scripts running, the code editor styled, the
API docs and the admin rendered, and the password-reset and lockout pages usable with the
keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command

from courses.models import Course
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]

PASSWORD = "pass-word-123"
# Injected by the browser itself (not subject to the page's policy): every violation.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


class Violations:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen: list[str] = []
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda m: (
                self.seen.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text
                else None
            ),
        )

    def collect(self) -> None:
        for violation in self.page.evaluate("window.__csp || []"):
            self.seen.append(f"{self.page.url}: {violation}")


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_every_kind_of_page_works_under_the_policy(live_server: Any, page: Any) -> None:
    # given: the catalogue, a learner in a simulated class, its instructor (a superuser)
    call_command("load_catalog", verbosity=0)
    User.objects.create_user("ada", email="ada@example.edu", password=PASSWORD)
    User.objects.create_user("grace", password=PASSWORD)
    User.objects.create_superuser("tess", email="tess@example.edu", password=PASSWORD)
    call_command(
        "simulate_class", "--course", "demo", "--learners", "5", "--seed", "1",
        "--instructor", "tess", "--enroll", "ada", verbosity=0,
    )  # fmt: skip
    course = Course.objects.get(slug="demo")
    base = live_server.url
    watch = Violations(page)

    # The password reset, with the keyboard only: the field has focus, Tab reaches the button.
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    assert_accessible(page, "password-reset")
    assert page.evaluate("document.activeElement.id") == "id_email"
    page.keyboard.type("ada@example.edu")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Send the link"
    page.screenshot(path=str(ARTIFACTS / "password-reset.png"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    assert_accessible(page, "password-reset-sent")
    watch.collect()
    assert len(mail.outbox) == 1
    # the link in the e-mail: a new password, refused once (the two differ), then set
    link = re.search(r"http://\S+/accounts/reset/\S+/", str(mail.outbox[0].body))
    assert link is not None
    page.goto(link[0])
    page.get_by_role("heading", name="Choose a new password").wait_for()
    assert_accessible(page, "password-reset-confirm")
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD + "-typo")
    page.get_by_role("button", name="Set the password").click()
    page.locator("#password2-error").wait_for()
    assert_accessible(page, "password-reset-confirm-error")
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    page.get_by_role("heading", name="Your password is set").wait_for()
    assert_accessible(page, "password-reset-complete")
    watch.collect()

    # The lockout page, after five wrong passwords for grace
    for _ in range(5):
        _log_in(page, base, "grace", "wrong")
    page.get_by_role("heading", name="Too many wrong passwords").wait_for()
    assert_accessible(page, "locked-out")
    page.screenshot(path=str(ARTIFACTS / "locked-out.png"))
    watch.collect()

    # A learner: the quiz list, a question (progress bar, timer script), practice (bars)
    _log_in(page, base, "ada", PASSWORD)
    page.get_by_role("heading", name="Dropout diagnostic: pre-test", exact=True).wait_for()
    watch.collect()
    page.locator("form[action$='/quizzes/dropout-pretest/start/'] button").click()
    page.get_by_text("Question 1 of 16", exact=True).wait_for()
    # (a locator, not wait_for_function: the policy forbids the eval that one uses)
    page.locator("#timer-value", has_text=re.compile(r"^\d+:\d\d$")).wait_for()
    share = page.evaluate(
        "document.querySelector('.progress-fill').getBoundingClientRect().width"
        " / document.querySelector('.progress').getBoundingClientRect().width"
    )
    assert 0.05 < share < 0.08  # 1 of 16, drawn by the .w-6 class
    watch.collect()
    page.goto(f"{base}/practice/")
    page.get_by_role("heading", name="Practice", exact=True).wait_for()
    assert page.locator(".bar").first.is_visible()
    watch.collect()
    # the code editor: its theme, written into a <style> at run time, carries the nonce
    page.goto(f"{base}/exercises/dropout-forward/")
    page.locator("#code-form .cm-content").wait_for()
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.cm-content')).whiteSpace") == "pre"
    )
    watch.collect()
    page.get_by_role("button", name="Log out").click()

    # An instructor: the dashboard (inline SVG charts), the admin, the API docs
    _log_in(page, base, "tess", PASSWORD)
    page.goto(f"{base}/instructor/courses/{course.id}/")
    page.get_by_role("heading", name="Learning gain, pre-test to post-test").wait_for()
    watch.collect()
    page.goto(f"{base}/admin/")
    page.get_by_role("heading", name="Site administration").wait_for()
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") == "flex"
    watch.collect()
    assert_accessible(page, "admin")
    page.goto(f"{base}/admin/assessments/question/")
    page.locator("#result_list").wait_for()
    assert_accessible(page, "admin-questions")
    watch.collect()
    page.goto(f"{base}/admin/assessments/questionbank/")
    page.locator("#result_list").wait_for()
    assert_accessible(page, "admin-banks")
    watch.collect()
    page.goto(f"{base}/admin/assessments/questionbank/import/")
    page.get_by_role("heading", name="Import question banks").wait_for()
    assert_accessible(page, "admin-bank-import")
    watch.collect()
    page.goto(f"{base}/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Dropout diagnostics API" in page.locator(".swagger-ui .info .title").inner_text()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    watch.collect()

    # then: not one violation anywhere
    assert watch.seen == []
