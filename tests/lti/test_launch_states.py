"""Login states are bounded per client address and purged; LTI cookies only are SameSite=None;
a launch without the roles claim is refused."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from lms.models import LmsIdentity
from lti import tasks
from lti.models import LaunchState, Platform
from quizsite.celery import app as celery_app
from tests.lti.conftest import LAUNCH_URL, Launcher
from tests.lti.platform import LTI


def _state(platform: Any, *, expires_in: timedelta, used_ago: timedelta | None = None) -> str:
    now = timezone.now()
    row = LaunchState.objects.create(
        state=secrets.token_urlsafe(32),
        nonce="n",
        platform=platform,
        target_link_uri=LAUNCH_URL,
        expires_at=now + expires_in,
        used_at=None if used_ago is None else now - used_ago,
    )
    return row.state


def _login_params(launcher: Launcher) -> dict[str, str]:
    return {
        "iss": launcher.platform.issuer,
        "client_id": launcher.platform.client_id,
        "login_hint": "hint-1",
        "target_link_uri": LAUNCH_URL,
    }


def _fresh_address() -> str:
    # A documentation-range address of its own per test: counters live in Redis a minute.
    return f"2001:db8::{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}"


def test_the_beat_purges_login_states_nothing_can_use_any_more(launcher: Launcher) -> None:
    # given
    platform = Platform.objects.get(issuer=launcher.platform.issuer)
    old = _state(platform, expires_in=timedelta(hours=-2))
    just_expired_handoff = _state(
        platform, expires_in=timedelta(seconds=-5), used_ago=timedelta(seconds=10)
    )
    waiting = _state(platform, expires_in=timedelta(minutes=5))
    # when
    deleted = tasks.launch_states_purge()
    # then: expired rows go; a state whose handoff link may still be followed stays
    assert deleted == 1
    kept = set(LaunchState.objects.values_list("state", flat=True))
    assert kept == {just_expired_handoff, waiting}
    assert old not in kept


def test_the_purge_runs_on_beat(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["lti-launch-states-purge"]
    assert entry["task"] == "lti.tasks.launch_states_purge"
    assert entry["task"] in celery_app.tasks


def test_login_initiations_are_bounded_per_client_address(
    launcher: Launcher, settings: Any
) -> None:
    # given: three logins a minute per address
    settings.LTI_LOGINS_PER_MINUTE = 3
    address = _fresh_address()
    browser = Client(REMOTE_ADDR=address)
    # when
    answers = [browser.get("/lti/login/", _login_params(launcher)) for _ in range(5)]
    # then: the fourth and fifth are refused with a clear 429, and store nothing
    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    refused = answers[3]
    assert refused["Retry-After"] == "60"
    assert "too_many_logins" in refused.content.decode()
    assert "wait a minute" in refused.content.decode()
    assert LaunchState.objects.count() == 3
    # and another address is not affected
    other = Client(REMOTE_ADDR=_fresh_address())
    assert other.get("/lti/login/", _login_params(launcher)).status_code == 302


def test_behind_a_proxy_the_bound_counts_the_forwarded_client_address(
    launcher: Launcher, settings: Any
) -> None:
    settings.LTI_LOGINS_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    first, second = _fresh_address(), _fresh_address()

    def login(forwarded_for: str) -> int:
        return proxy.get(
            "/lti/login/", _login_params(launcher), HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    assert login(first) == 302
    assert login(second) == 302  # another client behind the same proxy
    # A client cannot escape by writing its own X-Forwarded-For: the proxy appends the
    # real address, and that last entry is the one counted.
    assert login(f"{_fresh_address()}, {first}") == 429


def _cookie_attributes(response: Any, name: str) -> tuple[str, bool, bool]:
    morsel = response.cookies[name]
    return morsel["samesite"], bool(morsel["partitioned"]), bool(morsel["secure"])


def test_only_lti_sessions_get_samesite_none_cookies(launcher: Launcher, settings: Any) -> None:
    # given: production cookies (HTTPS)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    User.objects.create_user("grace", password="pass-word-123")
    # when: someone logs in on our own login page
    browser = Client()
    page = browser.get("/accounts/login/")
    logged_in = browser.post("/accounts/login/", {"username": "grace", "password": "pass-word-123"})
    # then: Lax, first-party, as everyone's
    assert logged_in.status_code == 302
    assert _cookie_attributes(page, "csrftoken") == ("Lax", False, True)
    assert _cookie_attributes(logged_in, "sessionid") == ("Lax", False, True)
    assert "SameSite=None" not in logged_in.cookies["sessionid"].output()

    # when: a learner is launched from the LMS (inside its iframe)
    login = launcher.login()
    launched = launcher.launch(
        launcher.platform.sign(
            launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
        ),
        login.state,
    )
    # then: the launch-state, session and CSRF cookies of that session are third-party-able
    assert launched.status_code == 302, launched.content[:300]
    assert _cookie_attributes(launched, "sessionid") == ("None", True, True)
    assert _cookie_attributes(launched, "csrftoken") == ("None", True, True)
    header = launched.cookies["sessionid"].output()
    assert "SameSite=None" in header and "Partitioned" in header and "Secure" in header
    state_login = launcher.client.post("/lti/login/", {**_login_params(launcher)})
    [state_cookie] = [c for n, c in state_login.cookies.items() if n.startswith("qz_lti_state_")]
    assert (state_cookie["samesite"], bool(state_cookie["partitioned"])) == ("None", True)


def test_without_https_lti_cookies_stay_lax(launcher: Launcher, settings: Any) -> None:
    # Browsers refuse SameSite=None without Secure: development keeps Lax everywhere.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    launched = launcher.full()
    assert launched.status_code == 302
    assert launched.cookies["sessionid"]["samesite"] == "Lax"
    assert not launched.cookies["sessionid"]["partitioned"]


def test_a_launch_without_the_roles_claim_is_refused_with_a_clear_error(
    launcher: Launcher,
) -> None:
    # given: a launch whose id_token has no roles claim at all
    login = launcher.login()
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    del body[LTI + "roles"]
    # when
    response = launcher.launch(launcher.platform.sign(body), login.state)
    # then
    assert response.status_code == 400
    page = response.content.decode()
    assert "missing_roles" in page
    assert "has no roles claim" in page and "even as an empty list" in page
    assert not LmsIdentity.objects.exists()


def test_a_launch_with_an_empty_roles_list_is_a_learners(launcher: Launcher) -> None:
    # The specification allows an empty list: the least a launch can grant.
    response = launcher.full(roles=[])
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.9, 198.51.100.4"])
def test_the_client_address_is_remote_addr_unless_a_trusted_proxy_says(
    settings: Any, rf: Any, forwarded: str
) -> None:
    from core.client_address import client_address

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    expected = {"": "10.0.0.2", "not-an-address": "10.0.0.2"}.get(forwarded, "198.51.100.4")
    assert client_address(request) == expected
