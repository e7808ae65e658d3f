"""The browser tests' shared fixture: a page in Debian's headless Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
SKIP_WITHOUT_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found: browser test skipped (apt-get install chromium)"
)


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between page actions are ordinary blocking calls, which Django must be told are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def grader_idle() -> Iterator[None]:
    """No grader runs: code sent for grading stays queued, so its waiting state can be seen."""
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("grader")
    yield
    broker.delete("grader")  # no later worker is to meet these flushed submissions


def learner_log_in(page: Any, live_server: Any) -> None:
    """Log in as the learner `ada` and land on her quizzes."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="My quizzes").wait_for()
