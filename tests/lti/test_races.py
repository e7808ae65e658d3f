"""LTI under simultaneous requests: first launches of one course, and deep links copying one
catalogue quiz, each made once; copies never take a slug that is not theirs, and a person
never takes a username that is not theirs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client

from assessments.models import Quiz
from courses.models import Course, Enrollment
from lms.models import LmsIdentity
from lti import claims as lti_claims
from lti.models import Context, LinkLearner, Platform, ResourceLink
from tests.factories import quiz_of, single
from tests.lti.conftest import LAUNCH_URL, Launcher
from tests.lti.platform import DL_SETTINGS, INSTRUCTOR, FakePlatform
from tests.simultaneous import at_once

# The launches run in threads with connections of their own: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def _signed_launch(launcher: Launcher, **claims: Any) -> Any:
    """A valid launch, logged in and signed now, to be sent later (by the returned call)."""
    login = launcher.login()
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL, **claims)
    token = launcher.platform.sign(body)
    return lambda: launcher.launch(token, login.state)


def test_two_first_launches_of_one_course_make_one_course(platform: FakePlatform) -> None:
    # given: two people of one LMS course that has never launched the tool
    launches = [
        _signed_launch(Launcher(platform, Client()), sub=sub) for sub in ("user-1", "user-2")
    ]
    # when: both launch at the same moment
    answers = at_once(launches)
    # then: both get in, into one course, each enrolled once
    assert [a.status_code for a in answers] == [302, 302], answers
    assert Context.objects.count() == Course.objects.count() == 1
    course = Context.objects.get().course
    assert Enrollment.objects.filter(course=course).count() == 2
    assert ResourceLink.objects.count() == 1
    assert LinkLearner.objects.count() == 2


def test_one_person_launching_twice_at_once_is_made_once(platform: FakePlatform) -> None:
    # given: one person's first launch, sent from two tabs
    launches = [_signed_launch(Launcher(platform, Client())) for _ in range(2)]
    # when
    answers = at_once(launches)
    # then
    assert [a.status_code for a in answers] == [302, 302], answers
    assert Course.objects.count() == 1
    assert User.objects.count() == LmsIdentity.objects.count() == 1
    assert Enrollment.objects.count() == LinkLearner.objects.count() == 1


def _picker(platform: FakePlatform) -> tuple[Client, str]:
    """An instructor's deep-linking launch: their browser and the picker's form action."""
    launcher = Launcher(platform, Client())
    login = launcher.login()
    body = platform.claims(
        nonce=login.nonce,
        target_link_uri=LAUNCH_URL,
        roles=[INSTRUCTOR],
        **{
            lti_claims.MESSAGE_TYPE: "LtiDeepLinkingRequest",
            lti_claims.RESOURCE_LINK: None,
            DL_SETTINGS: {
                "deep_link_return_url": platform.url("/deep-link-return"),
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
            },
        },
    )
    page = launcher.launch(platform.sign(body), login.state)
    assert page.status_code == 200, page.content[:300]
    action = re.search(r'action="(/lti/deep-link/[^"]+)"', page.content.decode())
    assert action is not None
    return launcher.client, action.group(1)


def _choice(client: Client, action: str, quiz: Quiz) -> Callable[[], Any]:
    """The picker's post of `quiz`, to be sent later."""
    return lambda: client.post(action, {"quiz": str(quiz.id)})


def _linked_slug(answer: Any) -> str:
    """The slug of the quiz a deep-linking answer's signed response links."""
    assert answer.status_code == 200, answer.content[:300]
    token = re.search(r'name="JWT" value="([^"]+)"', answer.content.decode())
    assert token is not None
    body = jwt.decode(token.group(1), options={"verify_signature": False})
    [item] = body[lti_claims.DEEP_LINKING_CONTENT_ITEMS]
    return str(item["custom"]["quiz"])


def test_two_deep_links_to_one_catalogue_quiz_make_one_copy(platform: FakePlatform) -> None:
    # given: two instructors' pickers open in one course, and a catalogue quiz
    catalogue = quiz_of(single(), title="Dropout basics", slug="dropout-basics")
    pickers = [_picker(platform) for _ in range(2)]
    # when: both choose it at the same moment
    answers = at_once([_choice(client, action, catalogue) for client, action in pickers])
    # then: one copy in the course, and both links name it
    course = Context.objects.get().course
    [copy] = Quiz.objects.filter(course=course)
    assert [_linked_slug(a) for a in answers] == [copy.slug, copy.slug]
    assert copy.sections.count() == catalogue.sections.count()


def test_a_copy_does_not_take_a_slug_that_is_taken(platform: FakePlatform) -> None:
    # given: a catalogue quiz, and another quiz already holding the slug its copy would get
    catalogue = quiz_of(single(), title="Dropout basics", slug="dropout-basics")
    client, action = _picker(platform)
    course = Context.objects.get().course
    squatter = quiz_of(single(), slug=f"dropout-basics-c{course.id}")
    # when
    slug = _linked_slug(client.post(action, {"quiz": str(catalogue.id)}))
    # then: the course has its own copy, under another slug; and it is found again
    copy = Quiz.objects.get(course=course)
    assert slug == copy.slug != squatter.slug
    client, action = _picker(platform)
    assert _linked_slug(client.post(action, {"quiz": str(catalogue.id)})) == copy.slug
    assert Quiz.objects.filter(course=course).count() == 1


def test_catalogue_quizzes_with_one_long_prefix_get_copies_of_their_own(
    platform: FakePlatform,
) -> None:
    # given: two catalogue quizzes whose slugs differ only after 60 characters
    first = quiz_of(single(), title="First", slug="a" * 60 + "-first")
    second = quiz_of(single(), title="Second", slug="a" * 60 + "-second")
    # when: both are linked into one course
    slugs = []
    for quiz in (first, second):
        client, action = _picker(platform)
        slugs.append(_linked_slug(client.post(action, {"quiz": str(quiz.id)})))
    # then: each link opens a copy of its own quiz
    titles = [Quiz.objects.get(slug=slug).title for slug in slugs]
    assert titles == ["First", "Second"]


def test_a_launch_whose_username_is_taken_is_refused_with_a_409(platform: FakePlatform) -> None:
    # given: an account made by hand under the name the launching person would get
    User.objects.create(username=f"lti{Platform.objects.get().id}-user-1")
    # when
    response = _signed_launch(Launcher(platform, Client()))()
    # then: a clear refusal, and no person made
    assert response.status_code == 409, response.content[:300]
    assert b"taken" in response.content
    assert not LmsIdentity.objects.exists()
