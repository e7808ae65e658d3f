"""Deep linking, grade passback (AGS), roster sync (NRPS), cookieless launches and keys,
against the fake platform over real HTTP, with a real Celery worker where work is queued."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import jwt
import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments import services
from assessments.answers import AnswerInput
from assessments.models import Quiz
from courses.models import Enrollment
from lms.models import LmsIdentity
from lti import claims as lti_claims
from lti.models import Context, Passback, Platform, ResourceLink
from lti.roster import roster_sync
from tests.factories import quiz_of, single
from tests.lti.conftest import LAUNCH_URL, TOOL, Launcher
from tests.lti.platform import AGS, INSTRUCTOR, LEARNER, SCOPE_LINEITEM, SCOPE_SCORE, FakePlatform

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def wait_for(predicate: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def quiz_url(quiz: Quiz) -> str:
    return f"{TOOL}/lti/quizzes/{quiz.slug}/"


def take_quiz(quiz: Quiz, learner: Any) -> Any:
    attempt = services.attempt_start(quiz=quiz, learner=learner)
    right = attempt.responses.get(slot=1).question.choices.get(is_correct=True)
    services.response_save(
        attempt_id=attempt.id,
        learner=learner,
        slot=1,
        answer=AnswerInput(choice_ids=[right.id], confidence=4),
    )
    return services.attempt_submit(attempt_id=attempt.id, learner=learner)


# -- cookieless launches -----------------------------------------------------------------


def test_a_launch_without_cookies_continues_in_a_new_window(launcher: Launcher) -> None:
    quiz = quiz_of(single())
    login = launcher.login(quiz_url(quiz))
    launcher.client.cookies.clear()  # third-party cookies blocked: the state cookie is gone
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=quiz_url(quiz))
    response = launcher.launch(launcher.platform.sign(body), login.state)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Continue in a new window" in page
    assert "_auth_user_id" not in launcher.client.session
    url = html.unescape(re.search(r'href="(/lti/continue/[^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert 'target="_blank"' in page
    window = launcher.client.get(url)
    assert window.status_code == 302
    assert window["Location"] == f"/lti/quizzes/{quiz.slug}/"
    landing = launcher.client.get(window["Location"])
    assert landing.status_code == 200
    assert quiz.title in landing.content.decode()
    again = launcher.client.get(url)
    assert again.status_code == 400
    assert "handoff_expired" in again.content.decode()


# -- deep linking ------------------------------------------------------------------------


def _deep_link_launch(launcher: Launcher, roles: list[str] | None = None) -> Any:
    login = launcher.login()
    body = launcher.platform.claims(
        nonce=login.nonce,
        target_link_uri=LAUNCH_URL,
        roles=roles or [INSTRUCTOR],
        **{
            lti_claims.MESSAGE_TYPE: "LtiDeepLinkingRequest",
            lti_claims.RESOURCE_LINK: None,
            DL_SETTINGS: {
                "deep_link_return_url": launcher.platform.url("/deep-link-return"),
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            },
        },
    )
    return launcher.launch(launcher.platform.sign(body), login.state)


def test_deep_linking_round_trip(launcher: Launcher) -> None:
    catalogue = quiz_of(single(), title="Dropout basics", slug="dropout-basics")
    picker = _deep_link_launch(launcher)
    assert picker.status_code == 200
    page = picker.content.decode()
    assert "Dropout basics" in page
    action = re.search(r'action="(/lti/deep-link/[^"]+)"', page).group(1)  # type: ignore[union-attr]

    wrong = launcher.client.post(action, {"quiz": "999999"})
    assert wrong.status_code == 400
    assert "Choose one of the quizzes listed." in wrong.content.decode()

    answer = launcher.client.post(action, {"quiz": str(catalogue.id)})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert f'action="{launcher.platform.url("/deep-link-return")}"' in page
    token = re.search(r'name="JWT" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    # The platform verifies our response with our published JWKS.
    jwks = launcher.client.get("/lti/jwks/").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    body = jwt.decode(token, key.key, algorithms=["RS256"], audience=launcher.platform.issuer)
    assert body["iss"] == launcher.platform.client_id
    assert body[lti_claims.MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert body[lti_claims.VERSION] == "1.3.0"
    assert body[lti_claims.DEPLOYMENT_ID] == launcher.platform.deployment_id
    assert body[lti_claims.DEEP_LINKING_DATA] == "opaque-platform-data"
    assert body["nonce"]
    [item] = body[lti_claims.DEEP_LINKING_CONTENT_ITEMS]
    course = Context.objects.get().course
    copy = Quiz.objects.get(course=course)
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == quiz_url(copy)
    assert item["lineItem"] == {
        "scoreMaximum": 1.0,
        "label": "Dropout basics",
        "resourceId": copy.slug,
        "tag": "quiz",
    }
    assert list(copy.sections.values_list("bank_id", "draw_count")) == list(
        catalogue.sections.values_list("bank_id", "draw_count")
    )

    used = launcher.client.post(action, {"quiz": str(catalogue.id)})
    assert used.status_code == 400

    # The platform now launches learners into the link it made.
    learner = Launcher(launcher.platform, type(launcher.client)())
    response = learner.full(target_link_uri=item["url"], sub="learner-9", roles=[LEARNER])
    assert response.status_code == 302
    assert response["Location"] == f"/lti/quizzes/{copy.slug}/"
    assert ResourceLink.objects.get().quiz == copy
    start = learner.client.get(response["Location"]).content.decode()
    assert f'action="/quizzes/{copy.slug}/start/"' in start


# -- grades back (AGS) -------------------------------------------------------------------


@pytest.fixture
def fast_retries(settings: Any) -> None:
    settings.LTI_RETRY_BASE_SECONDS = 0
    settings.LTI_PASSBACK_MAX_TRIES = 5


def _learner_on(launcher: Launcher, quiz: Quiz, **claims: Any) -> Any:
    response = launcher.full(target_link_uri=quiz_url(quiz), roles=[LEARNER], **claims)
    assert response.status_code == 302, response.content[:300]
    return LmsIdentity.objects.get(lms_user_id="user-1").user


def test_a_score_is_posted_and_retried_after_the_platform_failed_twice(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any, fast_retries: None
) -> None:
    quiz = quiz_of(single(), title="Dropout check")
    learner = _learner_on(launcher, quiz)
    platform.fail_scores = 2
    attempt = take_quiz(quiz, learner)
    wait_for(lambda: Passback.objects.filter(state="sent").exists())
    passback = Passback.objects.get()
    assert passback.tries == 3
    [score] = platform.scores
    assert score["lineitem"] == "/lineitems/1"
    assert score["userId"] == "user-1"
    assert score["scoreGiven"] == float(attempt.score) == 1.0
    assert score["scoreMaximum"] == 1.0
    assert score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded"
    assert datetime.fromisoformat(score["timestamp"]).tzinfo is not None
    token_requests = [r for r in platform.received if r.path == "/token"]
    assert len(token_requests) == 1, "the access token is cached until it expires"
    score_requests = [r for r in platform.received if r.path.endswith("/scores")]
    assert len(score_requests) == 3
    assert platform.errors == []


def test_a_line_item_is_made_when_the_platform_gave_none(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any, fast_retries: None
) -> None:
    quiz = quiz_of(single(), title="Dropout check")
    ags = {"scope": [SCOPE_SCORE, SCOPE_LINEITEM], "lineitems": platform.url("/lineitems")}
    learner = _learner_on(launcher, quiz, **{AGS: ags})
    take_quiz(quiz, learner)
    wait_for(lambda: Passback.objects.filter(state="sent").exists())
    [item] = platform.lineitems.values()
    assert item["label"] == "Dropout check"
    assert item["resourceId"] == quiz.slug
    assert item["resourceLinkId"] == "link-1"
    assert item["scoreMaximum"] == 1.0
    assert ResourceLink.objects.get().lineitem_url == item["id"]
    assert platform.scores[0]["lineitem"] == "/lineitems/100"


def test_scores_wait_while_the_platform_is_down_and_go_when_it_returns(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any, settings: Any
) -> None:
    settings.LTI_RETRY_BASE_SECONDS = 3600
    quiz = quiz_of(single())
    learner = _learner_on(launcher, quiz)
    platform.fail_scores = 1
    take_quiz(quiz, learner)
    wait_for(lambda: Passback.objects.filter(tries=1).exists())
    passback = Passback.objects.get()
    assert (passback.state, passback.last_status) == ("pending", 500)
    assert passback.next_try_at > timezone.now() + timedelta(minutes=14)  # 15-30 min
    # The platform is back; time passes; the beat sweep re-sends what is overdue.
    Passback.objects.update(next_try_at=timezone.now() - timedelta(days=1))
    from lti.tasks import passbacks_resend_due

    passbacks_resend_due.delay()
    wait_for(lambda: Passback.objects.filter(state="sent").exists())
    assert len(platform.scores) == 1


def test_a_platform_refusing_the_score_for_good_marks_it_failed(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any, fast_retries: None
) -> None:
    quiz = quiz_of(single())
    ags = {"scope": [SCOPE_SCORE], "lineitems": platform.url("/lineitems")}  # no lineitem scope
    learner = _learner_on(launcher, quiz, **{AGS: ags})
    take_quiz(quiz, learner)
    wait_for(lambda: Passback.objects.filter(state="failed").exists())
    assert "no line item" in Passback.objects.get().last_error


def test_instructor_previews_send_no_score(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any
) -> None:
    quiz = quiz_of(single())
    response = launcher.full(target_link_uri=quiz_url(quiz), roles=[INSTRUCTOR])
    assert response.status_code == 302
    instructor = LmsIdentity.objects.get().user
    take_quiz(quiz, instructor)  # scores are recorded on commit, in this process
    assert Passback.objects.count() == 0
    assert not [r for r in platform.received if r.path.endswith("/scores")]


# -- rosters (NRPS) ----------------------------------------------------------------------


def test_a_roster_sync_follows_every_page(launcher: Launcher, platform: FakePlatform) -> None:
    assert launcher.full(roles=[INSTRUCTOR]).status_code == 302
    platform.members = [
        {"user_id": f"m{i}", "roles": [LEARNER], "given_name": f"Learner {i}", "status": "Active"}
        for i in range(5)
    ] + [
        {"user_id": "t1", "roles": ["Instructor"], "name": "Teacher"},
        {"user_id": "gone", "roles": [LEARNER], "status": "Inactive"},
    ]
    context = Context.objects.get()
    result = roster_sync(context.id)
    assert result.as_dict() == {"created": 6, "updated": 0, "unchanged": 0, "removed": 0}
    pages = [r for r in platform.received if r.path.startswith("/memberships")]
    assert len(pages) == 4
    assert all(
        r.headers["Accept"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        for r in pages
    )
    course = context.course
    assert set(Enrollment.objects.filter(course=course).values_list("external_id", flat=True)) == {
        "m0",
        "m1",
        "m2",
        "m3",
        "m4",
    }
    assert course.instructors.filter(lms_identities__lms_user_id="t1").exists()
    assert not LmsIdentity.objects.filter(lms_user_id="gone").exists()
    again = StringIO()
    call_command("lti_sync_roster", course=course.slug, stdout=again)
    assert '"unchanged": 6' in again.getvalue()


# -- keys --------------------------------------------------------------------------------


def test_key_rotation_keeps_the_old_key_published(launcher: Launcher) -> None:
    first = launcher.client.get("/lti/jwks/").json()["keys"]
    assert len(first) == 1
    out = StringIO()
    call_command("lti_rotate_key", stdout=out)
    keys_now = launcher.client.get("/lti/jwks/").json()["keys"]
    assert [k["kid"] for k in keys_now][1:] == [first[0]["kid"]]
    assert all(k["alg"] == "RS256" and k["use"] == "sig" and "d" not in k for k in keys_now)
    call_command("lti_rotate_key", retire_older_than_days=-1, stdout=out)
    assert len(launcher.client.get("/lti/jwks/").json()["keys"]) == 1


def test_lti_add_platform_prints_what_to_give_the_lms(transactional_db: None) -> None:
    out = StringIO()
    call_command(
        "lti_add_platform",
        "--deployment-id=1:abc",
        "--deployment-id=2:def",
        issuer="https://canvas.instructure.com",
        client_id="10000000000001",
        auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
        auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
        keyset_url="https://sso.canvaslms.com/api/lti/security/jwks",
        tool_url="https://quiz.example.edu/",
        stdout=out,
    )
    text = out.getvalue()
    assert "Login initiation URL: https://quiz.example.edu/lti/login/" in text
    assert "Redirect (launch) URL: https://quiz.example.edu/lti/launch/" in text
    assert "Public keyset (JWKS) URL: https://quiz.example.edu/lti/jwks/" in text
    platform = Platform.objects.get(issuer="https://canvas.instructure.com")
    assert set(platform.deployments.values_list("deployment_id", flat=True)) == {"1:abc", "2:def"}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--keyset-url"):
        call_command(
            "lti_add_platform",
            issuer="https://x.example",
            client_id="c",
            deployment_id=["d"],
            auth_login_url="https://x.example/a",
            auth_token_url="https://x.example/t",
            keyset_url="not a url",
            stdout=out,
        )


def test_an_instructor_asks_for_the_roster_from_the_dashboard(
    launcher: Launcher, platform: FakePlatform, celery_worker: Any
) -> None:
    assert launcher.full(roles=[INSTRUCTOR]).status_code == 302
    platform.members = [{"user_id": "m1", "roles": [LEARNER]}]
    course = Context.objects.get().course
    dashboard = launcher.client.get(f"/instructor/courses/{course.id}/").content.decode()
    assert "Read the roster from the LMS now" in dashboard
    response = launcher.client.post(f"/lti/courses/{course.id}/roster-sync/")
    assert response.status_code == 302
    wait_for(lambda: Enrollment.objects.filter(course=course, external_id="m1").exists())
    outsider = type(launcher.client)()
    assert outsider.post(f"/lti/courses/{course.id}/roster-sync/").status_code == 302  # to login
    assert Context.objects.get().roster_synced_at is not None
