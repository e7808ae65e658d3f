"""An LTI launch inside a fake LMS's iframe, in a real headless Chromium.

The fake LMS (127.0.0.1) and the tool (localhost) are different sites, so the tool's
cookies in the iframe are third-party cookies, as inside a real LMS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from assessments.models import Attempt, Quiz
from lti import claims as lti_claims
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ARTIFACTS, SKIP_WITHOUT_CHROMIUM
from tests.factories import quiz_of, single
from tests.lti.platform import INSTRUCTOR, LEARNER, FakePlatform

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]


@pytest.fixture
def lms(live_server: Any) -> Iterator[tuple[FakePlatform, Quiz]]:
    fake = FakePlatform().start().register()
    quiz = quiz_of(single(), title="Dropout in one question", slug="dropout-one")
    target = f"{live_server.url}/lti/quizzes/{quiz.slug}/"
    fake.launch_claims = fake.claims(nonce="", target_link_uri=target, roles=[LEARNER])
    fake.course_page_iframe = _login_url(fake, live_server, target)
    yield fake, quiz
    fake.stop()


def _login_url(platform: FakePlatform, live_server: Any, target: str) -> str:
    """The tool's login initiation, as the LMS's course page frames it."""
    return f"{live_server.url}/lti/login/?" + urlencode(
        {
            "iss": platform.issuer,
            "client_id": platform.client_id,
            "login_hint": "learner-hint",
            "target_link_uri": target,
            "lti_deployment_id": platform.deployment_id,
        }
    )


def _tool_frame(page: Any) -> Any:
    """Return the tool's document inside the LMS page (audited as itself: another origin)."""
    return page.locator("#tool").element_handle().content_frame()


def _answer_and_submit(frame: Any) -> None:
    frame.locator("#answer-form input[name=choice]").first.check()
    frame.locator("#confidence-slider").focus()
    frame.locator("#confidence-slider").press("ArrowRight")
    frame.locator("#save-status", has_text="Saved").wait_for()
    frame.get_by_role("button", name="Review and submit").click()
    frame.get_by_role("heading", name="Review your answers").wait_for()
    frame.locator("#submit-attempt").click()
    frame.get_by_role("heading", name="Your results").wait_for()


@pytest.mark.django_db(transaction=True)
def test_a_learner_launched_in_the_lms_iframe_takes_the_quiz_and_the_score_goes_back(
    lms: tuple[FakePlatform, Quiz], page: Any, settings: Any, celery_worker: Any
) -> None:
    # Production cookies (Chromium treats http://localhost as secure): SameSite=Lax for
    # everyone, and lti.middleware makes this LTI session's SameSite=None; Secure;
    # Partitioned. Without Partitioned, Chromium keeps none of them here.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.LTI_RETRY_BASE_SECONDS = 0
    platform, quiz = lms
    page.goto(platform.url("/course"))
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name=quiz.title).wait_for()
    page.screenshot(path=str(ARTIFACTS / "lti-iframe-quiz.png"))
    tool = _tool_frame(page)
    assert_accessible(tool, "lti-quiz")
    frame.get_by_role("button", name="Start").click()
    frame.locator("#answer-form").wait_for()
    assert_accessible(tool, "lti-question")
    _answer_and_submit(frame)
    page.screenshot(path=str(ARTIFACTS / "lti-iframe-results.png"))
    assert_accessible(tool, "lti-results")
    partitioned = [c for c in page.context.cookies() if c.get("partitionKey")]
    assert {"sessionid", "csrftoken"} <= {c["name"] for c in partitioned}
    assert {c["sameSite"] for c in partitioned if c["name"] in ("sessionid", "csrftoken")} == {
        "None"
    }
    attempt = Attempt.objects.get(quiz=quiz)
    deadline = time.monotonic() + 30
    while not platform.scores and time.monotonic() < deadline:
        time.sleep(0.2)
    [score] = platform.scores
    assert score["userId"] == "user-1"
    assert score["scoreGiven"] == float(attempt.score or 0)
    assert platform.errors == []


@pytest.mark.django_db(transaction=True)
def test_without_cookies_in_the_iframe_the_activity_opens_in_a_new_window(
    lms: tuple[FakePlatform, Quiz], page: Any
) -> None:
    # Development cookies (SameSite=Lax) are not sent with the LMS's cross-site POST into
    # the iframe: to the tool this launch looks exactly like one from a browser that blocks
    # third-party cookies (Safari's default).
    platform, quiz = lms
    page.goto(platform.url("/course"))
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Continue in a new window").wait_for()
    page.screenshot(path=str(ARTIFACTS / "lti-iframe-cookies-blocked.png"))
    assert_accessible(_tool_frame(page), "lti-cookies-blocked")
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Open the activity").click()
    window = opened.value
    window.get_by_role("heading", name=quiz.title).wait_for()
    assert_accessible(window, "lti-new-window-quiz")
    window.get_by_role("button", name="Start").click()
    _answer_and_submit(window)
    assert Attempt.objects.get(quiz=quiz).is_submitted


@pytest.mark.django_db(transaction=True)
def test_an_instructor_adding_a_quiz_from_the_lms_picks_it_in_the_iframe(
    lms: tuple[FakePlatform, Quiz], page: Any, live_server: Any
) -> None:
    # given: the LMS asks the tool for content (deep linking), several quizzes at once
    platform, quiz = lms
    target = f"{live_server.url}/lti/launch/"
    dl_settings = {
        "deep_link_return_url": platform.url("/deep-link-return"),
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
    }
    platform.launch_claims = platform.claims(
        nonce="",
        target_link_uri=target,
        roles=[INSTRUCTOR],
        **{
            lti_claims.MESSAGE_TYPE: lti_claims.DEEP_LINKING_REQUEST,
            lti_claims.RESOURCE_LINK: None,
            lti_claims.DEEP_LINKING_SETTINGS: dl_settings,
        },
    )
    platform.course_page_iframe = _login_url(platform, live_server, target)
    # when: the instructor opens it from the course page
    page.goto(platform.url("/course"))
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Add quizzes to").wait_for()
    page.screenshot(path=str(ARTIFACTS / "lti-deep-link-picker.png"))
    tool = _tool_frame(page)
    assert_accessible(tool, "lti-deep-link-picker")
    assert frame.get_by_role("checkbox", name=quiz.title).is_visible()
    # and sends the choice with nothing ticked
    frame.get_by_role("button", name="Add the chosen quizzes").click()
    # then: the picker comes back saying what is missing, and passes the audit again
    frame.get_by_role("alert").filter(has_text="Choose one of the quizzes listed.").wait_for()
    assert_accessible(_tool_frame(page), "lti-deep-link-picker-error")


@pytest.mark.django_db(transaction=True)
def test_a_refused_launch_explains_itself_in_the_iframe(
    lms: tuple[FakePlatform, Quiz], page: Any, live_server: Any
) -> None:
    # given: an LMS course page framing a login from an issuer the tool does not know
    platform, _ = lms
    platform.course_page_iframe = f"{live_server.url}/lti/login/?" + urlencode(
        {"iss": "https://unknown.example", "login_hint": "x", "target_link_uri": live_server.url}
    )
    # when
    page.goto(platform.url("/course"))
    # then: the tool's error page, audited in the frame
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="We could not open this activity").wait_for()
    page.screenshot(path=str(ARTIFACTS / "lti-error.png"))
    assert_accessible(_tool_frame(page), "lti-error")
