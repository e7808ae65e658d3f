"""Assignment and Grade Services against the fake platform: one maximum per gradebook
column, the score's comment and scope, the tool's line items and their results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from assessments import services
from assessments.answers import AnswerInput
from assessments.models import Attempt, Quiz
from core.errors import ApplicationError
from lms.models import LmsIdentity
from lti.deep_linking import quiz_score_maximum
from lti.line_items import (
    line_item_changes,
    line_item_delete,
    line_item_update,
    line_items_list,
    results_read,
)
from lti.models import Context, Passback, ResourceLink
from lti.passback import passback_deliver, passbacks_record
from lti.platform_client import PlatformError
from tests.factories import BankFactory, explain, quiz_of, section, single
from tests.lti.conftest import TOOL, Launcher
from tests.lti.platform import (
    AGS,
    LEARNER,
    LINEITEM_CONTAINER_MEDIA,
    LINEITEM_MEDIA,
    RESULT_CONTAINER_MEDIA,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_FIELDS,
    FakePlatform,
)


def quiz_url(quiz: Quiz) -> str:
    return f"{TOOL}/lti/quizzes/{quiz.slug}/"


def learner_on(launcher: Launcher, quiz: Quiz, sub: str, scopes: list[str]) -> Any:
    """Launch `sub` into the quiz with no line item of its own: the tool makes one."""
    ags = {"scope": scopes, "lineitems": launcher.platform.url("/lineitems")}
    client = type(launcher.client)()
    response = Launcher(launcher.platform, client).full(
        target_link_uri=quiz_url(quiz), roles=[LEARNER], sub=sub, **{AGS: ags}
    )
    assert response.status_code == 302, response.content[:300]
    return LmsIdentity.objects.get(lms_user_id=sub).user


def uneven_quiz() -> Quiz:
    """A quiz whose draws differ in marks (2 or 4, then 3) and that ends with an unscored
    explain item."""
    three = single(mark=Decimal(3), probes=("DO-TEST",), wrong_codes=("DO-TEST",))
    quiz = quiz_of(three, explain(), title="Dropout in practice")
    mixed = BankFactory.create()
    single(mixed, mark=Decimal(2), stem="Light question?")
    single(mixed, mark=Decimal(4), stem="Heavy question?")
    section(quiz, mixed, 1)
    return quiz


def attempt_drawing(quiz: Quiz, learner: Any, mark: Decimal) -> Attempt:
    """Start the learner's attempt on the seed that draws the mixed section's `mark`."""
    for seed in range(100):
        attempt = services.attempt_start(quiz=quiz, learner=learner, seed=seed)
        if attempt.responses.filter(question__mark=mark, question__stem__endswith="question?"):
            return attempt
        attempt.delete()
    raise AssertionError(f"no seed draws the {mark}-mark question")


def answer_and_submit(
    attempt: Attempt, learner: Any, *, wrong_marks: set[Decimal], confidence: int = 5
) -> Attempt:
    """Answer every choice item at `confidence`: wrongly those of `wrong_marks`."""
    for response in attempt.responses.select_related("question"):
        if not response.question.choices.exists():
            continue
        right = response.question.mark not in wrong_marks
        picked = response.question.choices.filter(is_correct=right).order_by("position").first()
        assert picked is not None
        services.response_save(
            attempt_id=attempt.id,
            learner=learner,
            slot=response.slot,
            answer=AnswerInput(choice_ids=[picked.id], confidence=confidence),
        )
    return services.attempt_submit(attempt_id=attempt.id, learner=learner)


def send(attempt: Attempt) -> list[str]:
    """Record the attempt's scores and deliver each, as the Celery tasks do."""
    return [passback_deliver(passback_id) for passback_id in passbacks_record(attempt.id)]


# -- one maximum per gradebook column ---------------------------------------------------


def test_the_line_item_and_every_score_carry_the_quizs_one_maximum(
    launcher: Launcher, platform: FakePlatform
) -> None:
    # given a quiz whose attempts draw 5 or 7 scored marks beside an unscored explain item
    quiz = uneven_quiz()
    maximum = float(quiz_score_maximum(quiz))
    assert maximum == 7.0  # 4 (the heavier draw) + 3; the explain item counts 0
    scopes = [SCOPE_SCORE, SCOPE_LINEITEM]
    light_learner = learner_on(launcher, quiz, "light", scopes)
    heavy_learner = learner_on(launcher, quiz, "heavy", scopes)
    light = attempt_drawing(quiz, light_learner, Decimal(2))
    heavy = attempt_drawing(quiz, heavy_learner, Decimal(4))

    # when the light draw is all right and the heavy one misses its 3-mark item
    light = answer_and_submit(light, light_learner, wrong_marks=set())
    heavy = answer_and_submit(heavy, heavy_learner, wrong_marks={Decimal(3)})
    assert (light.score, light.max_score) == (Decimal(5), Decimal(5))
    assert (heavy.score, heavy.max_score) == (Decimal(4), Decimal(7))
    assert send(light) + send(heavy) == ["sent", "sent"]

    # then the line item the tool made and both scores say the quiz's one maximum
    [item] = platform.lineitems.values()
    assert item["scoreMaximum"] == maximum
    by_user = {score["userId"]: score for score in platform.scores}
    assert set(by_user) == {"light", "heavy"}
    for score in by_user.values():
        assert set(score) >= SCORE_FIELDS
        assert score["scoreMaximum"] == maximum
        assert score["lineitem"] == item["id"].removeprefix(platform.issuer)
        assert score["activityProgress"] == "Completed"
        assert score["gradingProgress"] == "FullyGraded"
        assert datetime.fromisoformat(score["timestamp"]).tzinfo is not None
    # each attempt's fraction of its own marks, out of that maximum
    assert by_user["light"]["scoreGiven"] == maximum
    expected = (Decimal(4) / Decimal(7) * Decimal(str(maximum))).quantize(Decimal("0.01"))
    assert by_user["heavy"]["scoreGiven"] == float(expected)
    assert platform.errors == []


def test_the_comment_names_the_misconceptions_the_attempt_revealed(
    launcher: Launcher, platform: FakePlatform
) -> None:
    quiz = uneven_quiz()
    learner = learner_on(launcher, quiz, "heavy", [SCOPE_SCORE, SCOPE_LINEITEM])
    attempt = attempt_drawing(quiz, learner, Decimal(4))
    answer_and_submit(attempt, learner, wrong_marks={Decimal(3)})
    send(attempt)
    [score] = platform.scores
    # "Wrong A" of the 3-mark item names DO-TEST, chosen at confidence 5: held.
    assert score["comment"] == "Misconceptions held: Belief DO-TEST (DO-TEST)."
    assert "\n" not in score["comment"]


def test_an_unsure_wrong_answer_is_named_a_gap(launcher: Launcher, platform: FakePlatform) -> None:
    quiz = uneven_quiz()
    learner = learner_on(launcher, quiz, "heavy", [SCOPE_SCORE, SCOPE_LINEITEM])
    attempt = attempt_drawing(quiz, learner, Decimal(4))
    answer_and_submit(attempt, learner, wrong_marks={Decimal(3)}, confidence=1)
    send(attempt)
    [score] = platform.scores
    assert score["comment"] == "Gaps in knowledge: Belief DO-TEST (DO-TEST)."


def test_an_attempt_without_misconceptions_says_so(
    launcher: Launcher, platform: FakePlatform
) -> None:
    quiz = uneven_quiz()
    learner = learner_on(launcher, quiz, "light", [SCOPE_SCORE, SCOPE_LINEITEM])
    attempt = attempt_drawing(quiz, learner, Decimal(2))
    answer_and_submit(attempt, learner, wrong_marks=set())
    send(attempt)
    [score] = platform.scores
    assert score["comment"] == "No misconception or gap in knowledge showed in this attempt."


def test_no_score_is_posted_without_the_score_scope(
    launcher: Launcher, platform: FakePlatform
) -> None:
    # given a launch whose AGS claim grants line items but not scores
    quiz = uneven_quiz()
    learner = learner_on(launcher, quiz, "light", [SCOPE_LINEITEM])
    attempt = attempt_drawing(quiz, learner, Decimal(2))
    answer_and_submit(attempt, learner, wrong_marks=set())

    # when its score is delivered
    assert send(attempt) == ["failed"]

    # then nothing reached the platform and the row says why
    passback = Passback.objects.get()
    assert passback.state == Passback.State.FAILED
    assert "did not grant the AGS `score` scope" in passback.last_error
    assert not [r for r in platform.received if r.path != "/jwks"]


def test_a_quiz_without_scored_questions_sends_nothing(
    launcher: Launcher, platform: FakePlatform
) -> None:
    quiz = quiz_of(explain())
    learner = learner_on(launcher, quiz, "solo", [SCOPE_SCORE, SCOPE_LINEITEM])
    attempt = services.attempt_start(quiz=quiz, learner=learner)
    attempt = services.attempt_submit(attempt_id=attempt.id, learner=learner)
    assert passbacks_record(attempt.id) == []
    passback = Passback.objects.get()
    assert passback.state == Passback.State.FAILED
    assert "no scored question" in passback.last_error
    assert platform.scores == []


# -- the tool's line items --------------------------------------------------------------


def course_with_items(launcher: Launcher, scopes: list[str], count: int = 3) -> Context:
    platform = launcher.platform
    for number in range(1, count + 1):
        item_id = platform.url(f"/lineitems/{number}")
        platform.lineitems[item_id] = {
            "id": item_id,
            "label": f"Quiz {number}",
            "scoreMaximum": 10,
            "resourceId": f"quiz-{number}",
            "tag": "quiz",
        }
    quiz = quiz_of(single())
    learner_on(launcher, quiz, "someone", scopes)
    return Context.objects.get()


def test_line_items_are_listed_across_pages(launcher: Launcher, platform: FakePlatform) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM_READONLY])
    items = line_items_list(context=context)
    assert [item["label"] for item in items] == ["Quiz 1", "Quiz 2", "Quiz 3"]
    lists = [r for r in platform.received if r.method == "GET" and "/lineitems" in r.path]
    assert len(lists) == 2  # two pages of two
    assert all(r.headers["Accept"] == LINEITEM_CONTAINER_MEDIA for r in lists)
    # read-only is enough to list, not to change
    with pytest.raises(PlatformError, match="`lineitem` scope"):
        line_item_update(
            context=context,
            lineitem_url=platform.url("/lineitems/1"),
            changes={"label": "Renamed"},
        )


def test_a_line_item_is_updated_with_every_field_it_had(
    launcher: Launcher, platform: FakePlatform
) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM, SCOPE_SCORE])
    url = platform.url("/lineitems/2")
    changes = line_item_changes(
        {
            "label": "Dropout check (week 3)",
            "scoreMaximum": "12",
            "tag": "week-3",
            "resourceId": "dropout-week-3",
            "startDateTime": "2026-12-01T09:00:00+00:00",
            "endDateTime": "2026-12-08T17:00:00+01:00",
        }
    )
    updated = line_item_update(context=context, lineitem_url=url, changes=changes)
    [put] = [r for r in platform.received if r.method == "PUT"]
    assert put.path == "/lineitems/2"
    assert put.headers["Content-Type"] == LINEITEM_MEDIA
    assert put.body == {
        "id": url,
        "label": "Dropout check (week 3)",
        "scoreMaximum": 12.0,
        "tag": "week-3",
        "resourceId": "dropout-week-3",
        "startDateTime": "2026-12-01T09:00:00+00:00",
        "endDateTime": "2026-12-08T17:00:00+01:00",
    }
    assert updated == platform.lineitems[url] == put.body
    # an emptied optional field is left out of the replacement
    line_item_update(context=context, lineitem_url=url, changes=line_item_changes({"tag": ""}))
    assert "tag" not in platform.lineitems[url]
    assert platform.errors == []


def test_bad_line_item_changes_are_refused_naming_the_field() -> None:
    with pytest.raises(ApplicationError) as caught:
        line_item_changes(
            {
                "label": " ",
                "scoreMaximum": "-1",
                "startDateTime": "2026-12-08T09:00:00+00:00",
                "endDateTime": "2026-12-01",
            }
        )
    assert set(caught.value.fields) == {"label", "scoreMaximum", "endDateTime"}
    with pytest.raises(ApplicationError) as caught:
        line_item_changes(
            {"startDateTime": "2026-12-08T09:00:00+00:00", "endDateTime": "2026-12-01T09:00Z"}
        )
    assert caught.value.fields == {"endDateTime": "The end comes before the start."}


def test_a_line_item_is_deleted_and_its_link_forgets_it(
    launcher: Launcher, platform: FakePlatform
) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM, SCOPE_SCORE])
    url = platform.url("/lineitems/3")
    ResourceLink.objects.update(lineitem_url=url)
    line_item_delete(context=context, lineitem_url=url)
    assert url not in platform.lineitems
    assert [r.path for r in platform.received if r.method == "DELETE"] == ["/lineitems/3"]
    assert ResourceLink.objects.get().lineitem_url == ""


def test_a_line_item_the_platform_did_not_list_is_refused(
    launcher: Launcher, platform: FakePlatform
) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM, SCOPE_RESULT_READONLY])
    elsewhere = "http://127.0.0.1:9/lineitems/1"  # our token must not go there
    for call in (
        lambda: line_item_delete(context=context, lineitem_url=elsewhere),
        lambda: results_read(context=context, lineitem_url=elsewhere),
    ):
        with pytest.raises(ApplicationError) as caught:
            call()
        assert caught.value.status == 404
        assert caught.value.fields == {"lineitem": "Choose a line item listed for this course."}
    assert not [r for r in platform.received if r.method == "DELETE"]
    assert len(platform.lineitems) == 3


# -- results ----------------------------------------------------------------------------


def test_results_are_read_with_the_result_scope(launcher: Launcher, platform: FakePlatform) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM, SCOPE_RESULT_READONLY])
    url = platform.url("/lineitems/1")
    platform.results[url] = [
        {
            "id": f"{url}/results/{user}",
            "scoreOf": url,
            "userId": user,
            "resultScore": score,
            "resultMaximum": 10,
            "comment": "",
        }
        for user, score in (("a", 7), ("b", 9), ("c", 4))
    ]
    results = results_read(context=context, lineitem_url=url)
    assert [(r["userId"], r["resultScore"]) for r in results] == [("a", 7), ("b", 9), ("c", 4)]
    reads = [r for r in platform.received if "/results" in r.path]
    assert len(reads) == 2
    assert all(r.headers["Accept"] == RESULT_CONTAINER_MEDIA for r in reads)
    tokens = [r for r in platform.received if r.path == "/token"]
    assert any(r.body["scope"] == SCOPE_RESULT_READONLY for r in tokens)


def test_results_need_the_result_scope(launcher: Launcher, platform: FakePlatform) -> None:
    context = course_with_items(launcher, [SCOPE_LINEITEM])
    with pytest.raises(PlatformError, match=r"result\.readonly"):
        results_read(context=context, lineitem_url=platform.url("/lineitems/1"))
    assert not [r for r in platform.received if "/results" in r.path]
