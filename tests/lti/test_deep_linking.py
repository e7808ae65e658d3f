"""Deep linking against the fake platform: the response's claims as the platform checks
them (tests/lti/deep_link_checks.py), `data` of any JSON type, several quizzes, cancel,
presentation targets, line items and the quiz's one maximum."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pytest

from assessments.models import Quiz
from lti import claims as lti_claims
from lti.deep_linking import deep_link_settings, quiz_score_maximum
from lti.models import DeepLinkRequest
from tests.factories import BankFactory, explain, quiz_of, section, single
from tests.lti.conftest import LAUNCH_URL, Launcher
from tests.lti.deep_link_checks import DL, deep_link_response_read
from tests.lti.platform import INSTRUCTOR

ITEMS = DL + "content_items"


def dl_settings(launcher: Launcher, **changes: Any) -> dict[str, Any]:
    """A deep_linking_settings claim as Moodle sends it, changed by `changes`."""
    settings: dict[str, Any] = {
        "deep_link_return_url": launcher.platform.url("/deep-link-return"),
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": False,
        "accept_lineitem": True,
        "data": "opaque-platform-data",
    }
    settings.update(changes)
    return {name: value for name, value in settings.items() if value is not ...}


def picker_open(launcher: Launcher, settings: dict[str, Any]) -> tuple[str, str]:
    """Launch deep linking as an instructor; return the picker page and its form action."""
    login = launcher.login()
    body = launcher.platform.claims(
        nonce=login.nonce,
        target_link_uri=LAUNCH_URL,
        roles=[INSTRUCTOR],
        **{
            lti_claims.MESSAGE_TYPE: "LtiDeepLinkingRequest",
            lti_claims.RESOURCE_LINK: None,
            lti_claims.DEEP_LINKING_SETTINGS: settings,
        },
    )
    response = launcher.launch(launcher.platform.sign(body), login.state)
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    action = re.search(r'action="(/lti/deep-link/[^"]+)"', page).group(1)  # type: ignore[union-attr]
    return page, action


def answer_read(launcher: Launcher, response: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """The auto-posted form's JWT, read and checked as the platform does."""
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    assert f'action="{settings["deep_link_return_url"]}"' in page
    assert 'id="deep-link-return"' in page  # the form deep_link_return.js submits
    token = html.unescape(re.search(r'name="JWT" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    body = deep_link_response_read(launcher.platform, token, settings)
    assert launcher.platform.errors == []
    return body


@pytest.mark.parametrize(
    "data",
    ["opaque-platform-data", {"section": 3, "ids": [1, 2]}, [1, "two", None], 42, 2.5, True, None],
    ids=["string", "object", "array", "integer", "number", "boolean", "null"],
)
def test_data_comes_back_exactly_as_sent_whatever_its_json_type(
    launcher: Launcher, data: Any
) -> None:
    quiz = quiz_of(single(), title="Dropout basics")
    settings = dl_settings(launcher, data=data)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    assert body[DL + "data"] == data
    assert type(body[DL + "data"]) is type(data)


def test_a_request_without_data_gets_no_data_back(launcher: Launcher) -> None:
    quiz = quiz_of(single())
    settings = dl_settings(launcher, data=...)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    assert DL + "data" not in body


def test_several_quizzes_go_back_in_one_response_when_the_platform_accepts_multiple(
    launcher: Launcher,
) -> None:
    first = quiz_of(single(), title="Dropout at test time", slug="dropout-test-time")
    second = quiz_of(single(), title="Inverted dropout", slug="inverted-dropout")
    settings = dl_settings(launcher, accept_multiple=True)
    page, action = picker_open(launcher, settings)
    assert page.count('type="checkbox" name="quiz"') == 2
    response = launcher.client.post(action, {"quiz": [second.id, first.id]})
    body = answer_read(launcher, response, settings)
    items = body[ITEMS]
    assert [item["title"] for item in items] == ["Inverted dropout", "Dropout at test time"]
    copies = [Quiz.objects.get(slug=item["custom"]["quiz"]) for item in items]
    assert all(copy.course is not None for copy in copies)
    assert [item["lineItem"]["resourceId"] for item in items] == [c.slug for c in copies]
    assert body[DL + "msg"] == "Added Inverted dropout, Dropout at test time."


def test_one_quiz_only_when_the_platform_does_not_accept_multiple(launcher: Launcher) -> None:
    first, second = quiz_of(single()), quiz_of(single())
    settings = dl_settings(launcher, accept_multiple=...)  # absent: one item
    page, action = picker_open(launcher, settings)
    assert 'type="checkbox"' not in page
    assert page.count('type="radio" name="quiz"') == 2
    refused = launcher.client.post(action, {"quiz": [first.id, second.id]})
    assert refused.status_code == 400
    assert "This course takes one quiz per link." in refused.content.decode()
    assert DeepLinkRequest.objects.get().used_at is None
    body = answer_read(launcher, launcher.client.post(action, {"quiz": first.id}), settings)
    assert len(body[ITEMS]) == 1


def test_cancel_sends_a_signed_response_with_no_items(launcher: Launcher) -> None:
    quiz_of(single())
    settings = dl_settings(launcher, data={"return": "module-7"})
    page, action = picker_open(launcher, settings)
    assert 'name="cancel"' in page
    response = launcher.client.post(action, {"cancel": "1"})
    assert "Nothing is added to your course." in response.content.decode()
    body = answer_read(launcher, response, settings)
    assert body[ITEMS] == []
    assert body[DL + "data"] == {"return": "module-7"}
    assert DL + "msg" not in body
    assert body[DL + "log"] == "The instructor cancelled: no quiz was added."
    assert launcher.client.post(action, {"cancel": "1"}).status_code == 400  # used up
    assert Quiz.objects.filter(course__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (["iframe", "window"], {"iframe": {"width": 1000, "height": 800}}),
        (["window"], {"window": {"targetName": "dropout-diagnostics"}}),
        (["embed"], {}),
        (..., {}),
    ],
    ids=["iframe first", "window only", "neither", "not said"],
)
def test_the_link_is_presented_as_the_platform_accepts(
    launcher: Launcher, targets: Any, expected: dict[str, Any]
) -> None:
    quiz = quiz_of(single())
    settings = dl_settings(launcher, accept_presentation_document_targets=targets)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    [item] = body[ITEMS]
    assert {key: item[key] for key in ("iframe", "window", "embed") if key in item} == expected


def test_no_line_item_when_the_platform_does_not_accept_one(launcher: Launcher) -> None:
    quiz = quiz_of(single())
    settings = dl_settings(launcher, accept_lineitem=False)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    [item] = body[ITEMS]
    assert "lineItem" not in item
    assert item["type"] == "ltiResourceLink"


# -- the quiz's one maximum --------------------------------------------------------------


def marked(bank: Any, mark: str, **kwargs: Any) -> Any:
    question = single(bank, **kwargs)
    question.mark = Decimal(mark)
    question.save(update_fields=["mark"])
    return question


def test_the_maximum_counts_each_draw_at_its_banks_top_scored_mark(db: None) -> None:
    quiz = Quiz.objects.create(slug="mixed", title="Mixed")
    light_and_heavy = BankFactory.create()
    marked(light_and_heavy, "1")
    marked(light_and_heavy, "3")
    unscored = explain(light_and_heavy)
    unscored.mark = Decimal(10)  # never scored, so never the top mark
    unscored.save(update_fields=["mark"])
    section(quiz, light_and_heavy, 2)  # 2 x 3
    only_explain = BankFactory.create()
    explain(only_explain)
    section(quiz, only_explain, 1)  # unscored: 0, not 1
    forms = BankFactory.create()
    marked(forms, "2", form="A")
    marked(forms, "5", form="B")
    section(quiz, forms, 1, form="A")  # form A's top: 2
    assert quiz_score_maximum(quiz) == Decimal(8)


def test_a_quiz_of_explain_items_only_is_not_gradable_and_gets_no_line_item(
    launcher: Launcher,
) -> None:
    quiz = quiz_of(explain(), title="Explain dropout back")
    assert quiz_score_maximum(quiz) == 0
    settings = dl_settings(launcher)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    [item] = body[ITEMS]
    assert "lineItem" not in item


def test_the_line_item_carries_the_quizs_one_maximum(launcher: Launcher) -> None:
    scored = single()
    scored.mark = Decimal("2.5")
    scored.save(update_fields=["mark"])
    quiz = quiz_of(scored, explain(), title="Dropout and an explanation")
    settings = dl_settings(launcher)
    _, action = picker_open(launcher, settings)
    body = answer_read(launcher, launcher.client.post(action, {"quiz": quiz.id}), settings)
    [item] = body[ITEMS]
    copy = Quiz.objects.get(slug=item["custom"]["quiz"])
    assert item["lineItem"]["scoreMaximum"] == 2.5 == float(quiz_score_maximum(copy))


@pytest.mark.parametrize(
    ("stored", "has_data", "data"),
    [
        ("opaque-platform-data", True, "opaque-platform-data"),
        ("123", True, "123"),
        ("", False, None),
    ],
    ids=["a string", "a string that reads as JSON", "none"],
)
def test_a_request_stored_before_the_claim_was_kept_whole_keeps_its_string_data(
    stored: str, has_data: bool, data: Any
) -> None:
    # Rows written before: `data` held the claim's string, or nothing.
    settings = deep_link_settings(DeepLinkRequest(data=stored))
    assert (settings.has_data, settings.data) == (has_data, data)
    assert (settings.accept_multiple, settings.accept_lineitem, settings.targets) == (
        False,
        True,
        (),
    )
