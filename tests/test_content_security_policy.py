"""Every page carries a Content-Security-Policy that allows only our own assets, and no
template or page needs inline code the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
APPS = [
    "quizsite",
    "core",
    "courses",
    "assessments",
    "grader",
    "practice",
    "analytics",
    "lms",
    "lti",
]


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/practice/", "/exercises/", "/accounts/password-reset/"]
)
def test_pages_carry_a_policy_that_allows_only_our_own_assets(path):
    client = Client()
    client.force_login(UserFactory.create(username="ada"))
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no nonce is sent when the page uses none
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_api_docs_inline_code_carries_the_requests_nonce():
    client = Client()
    client.force_login(UserFactory.create(username="ada"))
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = _policy(response)
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]+)'", policy["script-src"])
    assert nonce, policy
    page = response.content.decode()
    assert f'<style nonce="{nonce.group(1)}">' in page
    assert f'<script nonce="{nonce.group(1)}">' in page
    assert policy["style-src"] == policy["script-src"]


def test_pages_outside_lti_sessions_still_refuse_framing():
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors" not in _policy(response)


def _templates() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("templates/**/*.html")
        if "drf_spectacular" not in path.parts  # checked above: nonces
    )


def test_no_template_has_inline_script_style_or_event_handlers():
    # The policy would block them: scripts come from static files, widths from classes.
    assert len(_templates()) > 30
    offences = []
    for path in _templates():
        text = path.read_text()
        for pattern, what in [
            (r"\sstyle\s*=", "a style attribute"),
            (r"<style\b", "a <style> element"),
            (r"<script\b(?![^>]*\bsrc=)", "an inline <script>"),
            (r"\son[a-z]+\s*=", "an inline event handler"),
            (r"javascript:", "a javascript: URL"),
        ]:
            if re.search(pattern, text, re.IGNORECASE):
                offences.append(f"{path.relative_to(ROOT)}: {what}")
    assert offences == []


def test_no_python_code_writes_inline_styles_into_pages():
    sources = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    offences = [
        str(p.relative_to(ROOT))
        for p in sources
        if re.search(r"""\sstyle=\\?["']""", p.read_text())
    ]
    assert offences == []


def test_the_bar_widths_the_templates_use_exist_in_the_stylesheet():
    css = (ROOT / "assessments/static/assessments/site.css").read_text()
    for percent in range(101):
        assert f".w-{percent} {{ width: {percent}%; }}" in css
