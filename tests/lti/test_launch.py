"""LTI 1.3 launches against a fake platform: every refusal, and the valid launches."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client

from courses.models import Course, Enrollment
from lms.models import LmsIdentity
from lti.models import Context, LaunchState, LinkLearner, ResourceLink
from tests.lti.conftest import LAUNCH_URL, TOOL, Launcher, Login
from tests.lti.platform import INSTRUCTOR, LEARNER, LTI, rsa_key


def _world() -> tuple[int, ...]:
    """What a launch could create: if a refused launch changes any of it, it failed."""
    return (
        Course.objects.count(),
        User.objects.count(),
        Enrollment.objects.count(),
        LmsIdentity.objects.count(),
        Context.objects.count(),
        ResourceLink.objects.count(),
        LinkLearner.objects.count(),
    )


def signed(**changes: Any) -> Callable[[Launcher, Login], Any]:
    """A launch whose claims differ from a valid one by `changes` (None removes a claim)."""

    def make(launcher: Launcher, login: Login) -> Any:
        body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
        for name, value in changes.items():
            name = name.replace("LTI_", LTI)
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return launcher.launch(launcher.platform.sign(body), login.state)

    return make


def with_token(**sign_options: Any) -> Callable[[Launcher, Login], Any]:
    def make(launcher: Launcher, login: Login) -> Any:
        body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
        return launcher.launch(launcher.platform.sign(body, **sign_options), login.state)

    return make


def replayed(launcher: Launcher, login: Login) -> Any:
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    token = launcher.platform.sign(body)
    first = launcher.launch(token, login.state)
    assert first.status_code == 302
    launcher.client.logout()
    return launcher.launch(token, login.state)


def nonce_of_another_login(launcher: Launcher, login: Login) -> Any:
    other = launcher.login()
    body = launcher.platform.claims(nonce=other.nonce, target_link_uri=LAUNCH_URL)
    return launcher.launch(launcher.platform.sign(body), login.state)


def state_of_another_browser(launcher: Launcher, login: Login) -> Any:
    # This browser's cookie names the state it started; the launch carries a state some
    # other browser started (login CSRF). The cookie for that state is not this one's.
    stranger = Client()
    other = Launcher(launcher.platform, stranger).login()
    cookie = "qz_lti_state_" + other.state[:16]
    launcher.client.cookies[cookie] = login.state
    body = launcher.platform.claims(nonce=other.nonce, target_link_uri=LAUNCH_URL)
    return launcher.launch(launcher.platform.sign(body), other.state)


def no_state(launcher: Launcher, login: Login) -> Any:
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    return launcher.client.post("/lti/launch/", {"id_token": launcher.platform.sign(body)})


def no_id_token(launcher: Launcher, login: Login) -> Any:
    return launcher.client.post("/lti/launch/", {"state": login.state})


def not_a_jwt(launcher: Launcher, login: Login) -> Any:
    return launcher.launch("this.is-not.a-jwt", login.state)


def expired_state(launcher: Launcher, login: Login) -> Any:
    from django.utils import timezone

    LaunchState.objects.filter(state=login.state).update(expires_at=timezone.now())
    return signed()(launcher, login)


def foreign_key_same_kid(launcher: Launcher, login: Login) -> Any:
    return with_token(key=rsa_key())(launcher, login)


def hs256(launcher: Launcher, login: Login) -> Any:
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    token = jwt.encode(body, "a shared secret of 32 bytes or more!!", algorithm="HS256",
                       headers={"kid": launcher.platform.kid})  # fmt: skip
    return launcher.launch(token, login.state)


def alg_none(launcher: Launcher, login: Login) -> Any:
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    token = jwt.encode(body, None, algorithm="none", headers={"kid": launcher.platform.kid})  # type: ignore[arg-type]
    return launcher.launch(token, login.state)


def deep_link(*, roles: list[str], accept_types: list[str]) -> Callable[[Launcher, Login], Any]:
    def make(launcher: Launcher, login: Login) -> Any:
        return signed(
            LTI_message_type="LtiDeepLinkingRequest",
            LTI_roles=roles,
            **{
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                    "deep_link_return_url": launcher.platform.url("/deep-link-return"),
                    "accept_types": accept_types,
                }
            },
        )(launcher, login)

    return make


NOW = int(time.time())
BAD_LAUNCHES: list[tuple[str, Callable[[Launcher, Login], Any], int, str]] = [
    ("missing state", no_state, 400, "missing_state"),
    ("unknown state", lambda la, lo: signed()(la, Login("forged", lo.nonce, "", {})), 400,
     "unknown_state"),
    ("expired state", expired_state, 400, "unknown_state"),
    ("replayed launch (state and nonce single-use)", replayed, 400, "unknown_state"),
    ("state from another browser", state_of_another_browser, 403, "state_mismatch"),
    ("missing id_token", no_id_token, 400, "missing_id_token"),
    ("id_token not a JWT", not_a_jwt, 400, "malformed_id_token"),
    ("missing kid", with_token(kid=None), 400, "missing_kid"),
    ("unknown kid", with_token(kid="no-such-key"), 400, "unknown_kid"),
    ("signature by another key", foreign_key_same_kid, 400, "bad_signature"),
    ("alg HS256", hs256, 400, "bad_alg"),
    ("alg none", alg_none, 400, "bad_alg"),
    ("iss of another platform", signed(iss="https://evil.example"), 400, "wrong_iss"),
    ("missing iss", signed(iss=None), 400, "missing_iss"),
    ("aud without our client id", signed(aud="someone-else"), 400, "wrong_aud"),
    ("missing aud", signed(aud=None), 400, "missing_aud"),
    ("several aud, no azp", signed(aud=["tool-client-1", "other"]), 400, "wrong_azp"),
    ("several aud, azp not us", signed(aud=["tool-client-1", "other"], azp="other"), 400,
     "wrong_azp"),
    ("expired (exp)", signed(exp=NOW - 3600, iat=NOW - 4000), 400, "expired"),
    ("missing exp", signed(exp=None), 400, "missing_exp"),
    ("iat in the future", signed(iat=NOW + 3600), 400, "iat_in_future"),
    ("missing iat", signed(iat=None), 400, "missing_iat"),
    ("missing nonce", signed(nonce=None), 400, "missing_nonce"),
    ("nonce not ours", signed(nonce="made-up"), 400, "wrong_nonce"),
    ("nonce of another login", nonce_of_another_login, 400, "wrong_nonce"),
    ("unregistered deployment", signed(LTI_deployment_id="dep-x"), 403, "unknown_deployment"),
    ("missing deployment_id", signed(LTI_deployment_id=None), 400, "missing_deployment_id"),
    ("version 1.1", signed(LTI_version="1.1"), 400, "wrong_version"),
    ("missing version", signed(LTI_version=None), 400, "wrong_version"),
    ("unknown message_type", signed(LTI_message_type="LtiSomethingElse"), 400,
     "unknown_message_type"),
    ("resource launch without resource_link.id", signed(LTI_resource_link={"title": "x"}), 400,
     "missing_resource_link"),
    ("signed target_link_uri on another site",
     signed(LTI_target_link_uri="https://evil.example/phish"), 400, "foreign_target"),
    ("signed target_link_uri not the login's",
     signed(LTI_target_link_uri=TOOL + "/lti/quizzes/other/"), 400, "target_mismatch"),
    ("missing target_link_uri", signed(LTI_target_link_uri=None), 400, "missing_target_link_uri"),
    ("missing sub", signed(sub=None), 400, "missing_sub"),
    ("missing roles claim", signed(LTI_roles=None), 400, "missing_roles"),
    ("roles not a list", signed(LTI_roles="Instructor"), 400, "bad_roles"),
    ("missing context", signed(LTI_context=None), 400, "missing_context"),
    ("deep linking by a learner", deep_link(roles=[LEARNER], accept_types=["ltiResourceLink"]),
     403, "not_instructor"),
    ("deep linking that takes no resource links",
     deep_link(roles=[INSTRUCTOR], accept_types=["file", "html"]), 400, "no_resource_links"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [pytest.param(make, status, code, id=name) for name, make, status, code in BAD_LAUNCHES],
)
def test_a_bad_launch_is_refused_with_a_clear_page_and_creates_nothing(
    launcher: Launcher, make: Callable[[Launcher, Login], Any], status: int, code: str
) -> None:
    login = launcher.login()
    before = _world() if make is not replayed else None
    response = make(launcher, login)
    assert response.status_code == status, response.content[:500]
    page = response.content.decode()
    assert "We could not open this activity" in page
    assert code in page
    if before is not None:
        assert _world() == before
    assert "_auth_user_id" not in launcher.client.session


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"iss": "https://unknown.example"}, "unknown_platform"),
        ({"client_id": "not-our-client"}, "unknown_platform"),
        ({"iss": ""}, "missing_iss"),
        ({"login_hint": ""}, "missing_login_hint"),
        ({"target_link_uri": ""}, "missing_target_link_uri"),
        ({"target_link_uri": "https://evil.example/"}, "foreign_target"),
        ({"lti_deployment_id": "dep-x"}, "unknown_deployment"),
    ],
)
def test_a_bad_login_initiation_is_refused(
    launcher: Launcher, params: dict[str, str], code: str
) -> None:
    response = launcher.client.post(
        "/lti/login/",
        {
            "iss": launcher.platform.issuer,
            "client_id": launcher.platform.client_id,
            "login_hint": "h",
            "target_link_uri": LAUNCH_URL,
            **params,
        },
    )
    assert response.status_code in (400, 403)
    assert code in response.content.decode()
    assert LaunchState.objects.count() == 0


def test_login_initiation_by_get_sends_the_oidc_parameters(launcher: Launcher) -> None:
    response = launcher.client.get(
        "/lti/login/",
        {"iss": launcher.platform.issuer, "login_hint": "h", "target_link_uri": LAUNCH_URL,
         "lti_message_hint": "m"},
    )  # fmt: skip
    assert response.status_code == 302
    login_params = response["Location"].split("?", 1)[1]
    for expected in ("scope=openid", "response_type=id_token", "response_mode=form_post",
                     "prompt=none", "client_id=tool-client-1", "login_hint=h",
                     "lti_message_hint=m", "redirect_uri=http%3A%2F%2Ftestserver%2Flti%2Flaunch%2F"):  # fmt: skip
        assert expected in login_params
    cookie = next(c for name, c in response.cookies.items() if name.startswith("qz_lti_state_"))
    assert cookie["httponly"]
    assert cookie["path"] == "/lti/launch/"


@pytest.mark.parametrize(
    ("roles", "teaches"),
    [
        pytest.param([INSTRUCTOR], True, id="instructor"),
        pytest.param(["Instructor"], True, id="short instructor"),
        pytest.param(
            ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
            True,
            id="teaching assistant sub-role",
        ),
        pytest.param(
            ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
            True,
            id="institution administrator",
        ),
        pytest.param([LEARNER], False, id="learner"),
        pytest.param(["Learner"], False, id="short learner"),
        pytest.param(["http://example.com/roles#Wizard", "Mentor"], False, id="unknown roles"),
        pytest.param([], False, id="no roles"),
    ],
)
def test_a_valid_launch_maps_the_role(launcher: Launcher, roles: list[str], teaches: bool) -> None:
    response = launcher.full(roles=roles)
    assert response.status_code == 302
    context = Context.objects.get()
    user = LmsIdentity.objects.get(issuer=launcher.platform.issuer, lms_user_id="user-1").user
    assert context.course.title == "Deep Learning 101"
    assert (user in context.course.instructors.all()) is teaches
    assert Enrollment.objects.filter(course=context.course, learner=user).exists() is not teaches
    if teaches:
        assert response["Location"] == f"/instructor/courses/{context.course_id}/"
    else:
        assert response["Location"] == "/"
    assert int(launcher.client.session["_auth_user_id"]) == user.id
    page = launcher.client.get(response["Location"])
    assert page.status_code == 200
    directives = dict(
        d.strip().split(" ", 1) for d in page["Content-Security-Policy"].split(";") if d.strip()
    )
    assert directives["frame-ancestors"].startswith("'self' ")
    assert launcher.platform.issuer in directives["frame-ancestors"]
    assert "X-Frame-Options" not in page


def test_an_anonymous_ish_launch_without_name_or_email_works(launcher: Launcher) -> None:
    response = launcher.full(given_name=None, family_name=None, email=None)
    assert response.status_code == 302, response.content[:300]
    user = LmsIdentity.objects.get().user
    assert (user.first_name, user.email) == ("", "")


def test_launches_reuse_the_course_person_and_link(launcher: Launcher) -> None:
    for _ in range(3):
        assert launcher.full().status_code == 302
    assert (Course.objects.count(), Context.objects.count(), ResourceLink.objects.count()) == (
        1,
        1,
        1,
    )
    assert LmsIdentity.objects.count() == 1
    assert LinkLearner.objects.get().sub == "user-1"


def test_pages_of_people_who_did_not_come_from_an_lms_cannot_be_framed(client: Client) -> None:
    assert client.get("/accounts/login/")["X-Frame-Options"] == "DENY"


def test_a_new_key_under_a_cached_kid_is_fetched_again(launcher: Launcher) -> None:
    # given a launch that left the platform's key set in our cache
    assert launcher.full().status_code == 302
    # when the platform signs with a new key it publishes under the same kid
    launcher.platform.key = rsa_key()
    response = launcher.full()
    # then the tool reads the key set again and the launch goes through
    assert response.status_code == 302, response.content


def test_a_token_signed_by_a_key_the_platform_does_not_publish_is_still_refused(
    launcher: Launcher,
) -> None:
    # given a launch that left the platform's key set in our cache
    assert launcher.full().status_code == 302
    # when a token under the platform's kid is signed by a key it does not publish
    login = launcher.login()
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    response = launcher.launch(launcher.platform.sign(body, key=rsa_key()), login.state)
    # then it is refused, after one fresh read of the key set
    assert response.status_code == 400
    assert b"signature" in response.content
