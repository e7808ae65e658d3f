"""The instructor's side of guided practice: the class's numbers, the dashboard section, the
review queue of explain-backs and the practice settings, driven through the pages.

The scripted class practises on a few items of the real banks (the rest left out), through
the practice services, with scripted beliefs; the expected numbers below are counted by
hand from the path each learner takes (see `CLASS`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from html import escape
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessments.answers import MAX_TEXT_LENGTH, AnswerInput
from assessments.catalog import FIXTURES_DIR, catalog_load
from assessments.models import Question, QuestionType
from courses.models import Course, Enrollment
from courses.roles import BANK_AUTHORS, INSTRUCTORS, role_group
from practice import instructor_views
from practice.bkt import DEFAULT_PARAMS, bkt_trace, bkt_update
from practice.instructor_services import confused_pair_add, practice_items_arrange
from practice.models import (
    ConfusedPair,
    Mastery,
    PracticeItem,
    PracticeSession,
    PracticeSettings,
    PracticeStep,
)
from practice.selectors.course_report import practice_summary
from practice.selectors.items import confused_pairs, practice_questions
from practice.services import session_open, session_stop, step_answer, step_self_check
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The practice of the scripted class: three checks per prerequisite, four items on DO-SPEED
# (two of them also probe DO-PKEEP and DO-MORE), and one explain item whose five key ideas
# map to DO-SPEED, DO-SPEED, DO-ENSEMBLE, DO-ENSEMBLE + DO-DATA and DO-ENSEMBLE (the neuron's
# own explain item is left out, so a PRE-NEURON explain-back uses the catalogue's prompt).
ITEMS = [
    "pre-neuron-tf-1",
    "pre-neuron-tf-2",
    "pre-neuron-compute-1",
    "pre-overfit-tf-1",
    "pre-overfit-tf-2",
    "pre-overfit-define-1",
    "speed-epochs-tf-a",
    "speed-paper-tf-b",
    "speed-stepcost-a",
    "more-curves-b",
    "explain-cost-ensemble-b",
]
BANKS = ("prerequisites.json", "dropout-purpose.json", "explain-back.json")
# Per learner, what they do, and the path it takes (counted by hand from practice.policy).
# Every answer is given with confidence 4, so each wrong one is explained back two steps
# later (once per code); every explain-back is written with all its key ideas ticked.
#   ada   knows it all: PRE-NEURON, PRE-OVERFIT, speed-stepcost-a, more-curves-b right, then
#         the closing explain-back: 5 steps, finished.
#   bob   believes DO-SPEED: the two checks right, then wrong on speed-stepcost-a and on the
#         other angle, speed-epochs-tf-a; explains DO-SPEED back (explain-cost-ensemble-b);
#         wrong on more-curves-b (his option names DO-SPEED only) and speed-paper-tf-b (no
#         second explain-back on DO-SPEED); the closing explain-back: 8 steps.
#   cy    misses PRE-NEURON once (pre-neuron-tf-1), right on the fresh check, explains
#         PRE-NEURON back (the catalogue's prompt), right on the last check (mastered);
#         PRE-OVERFIT right; misses DO-SPEED once on speed-stepcost-a, right on
#         speed-epochs-tf-a, explains DO-SPEED back, right on more-curves-b and
#         speed-paper-tf-b (mastered); the closing explain-back: 11 steps.
#   dee   misses PRE-NEURON and stops; opens practice again and leaves it in progress.
#   eve   opens practice and answers nothing.
#   fay   enrolled, never practises.
#   teacher   the instructor's preview, wrong on everything: never counted.
#   gus   practised one step, then became an instructor of the course: not counted.
CLASS_STEPS = {"ada": 5, "bob": 8, "cy": 11}
# Explain-backs: ada's closing one; bob's on DO-SPEED and closing one; cy's on PRE-NEURON, on
# DO-SPEED and closing one.
CLASS_EXPLANATIONS = {"ada": 1, "bob": 2, "cy": 3}


# --- Driving learners through practice ------------------------------------------------------


def _codes(choice: Any) -> set[str]:
    return {m.code for m in choice.misconceptions.all()}


def _answer(step: PracticeStep, holds: set[str]) -> AnswerInput:
    """The answer of a learner holding `holds`: the first wrong option naming one of them,
    else the right answer."""
    question = step.prompt
    if question.qtype == QuestionType.EXPLAIN:
        return AnswerInput(
            choice_ids=[],
            numeric_value=None,
            # A complete explanation (the reading finds every key idea): the ticks decide.
            text=question.model_answer,
            confidence=3,
            seconds_spent=40,
        )
    choices = list(question.choices.prefetch_related("misconceptions").order_by("position"))
    wrong = [c for c in choices if not c.is_correct and _codes(c) & holds]
    picked = wrong[:1] or [c for c in choices if c.is_correct][:1]
    return AnswerInput(
        choice_ids=[c.id for c in picked],
        numeric_value=None,
        text="",
        confidence=4,
        seconds_spent=20,
    )


def _practise(
    course: Course,
    learner: Any,
    *,
    holds: Iterable[str] = (),
    misses_once: Iterable[str] = (),
    steps: int | None = None,
) -> PracticeSession:
    """Answer up to `steps` steps of the learner's session (all of them when None); every
    explain-back is written and checked with every key idea ticked."""
    beliefs, once = set(holds) | set(misses_once), set(misses_once)
    session = session_open(course=course, learner=learner)
    answered = 0
    while steps is None or answered < steps:
        step = session.steps.exclude(state=PracticeStep.State.DONE).first()
        if step is None:
            break
        if step.state == PracticeStep.State.CHECKING:
            ideas = list(range(len(step.prompt.key_ideas)))
            step_self_check(step_id=step.id, learner=learner, ideas=ideas)
            continue
        step_answer(step_id=step.id, learner=learner, answer=_answer(step, beliefs))
        step.refresh_from_db()
        beliefs -= once & {m.code for m in step.revealed.all()}
        answered += 1
    session.refresh_from_db()
    return session


def _course(slug: str = "dropout-101", title: str = "Dropout 101") -> tuple[Course, Any]:
    course = Course.objects.create(slug=slug, title=title)
    teacher = UserFactory.create(username=f"teacher-{slug}")
    course.instructors.add(teacher)
    return course, teacher


def _enrol(course: Course, username: str) -> Any:
    learner = UserFactory.create(username=username)
    Enrollment.objects.create(course=course, learner=learner)
    return learner


def _arrange(course: Course) -> None:
    ids = dict(Question.objects.values_list("slug", "id"))
    practice_items_arrange(
        course=course,
        order=[(ids[slug], True) for slug in ITEMS]
        + [(i, False) for slug, i in sorted(ids.items()) if slug not in ITEMS],
    )


def catalog_subset_load(directory: Path) -> None:
    """Load the real misconception catalogue and the three banks the scripted items come
    from (practice reads every question at every step: fewer banks, faster tests)."""
    (directory / "banks").mkdir()
    shutil.copy(FIXTURES_DIR / "misconceptions.json", directory)
    for bank in BANKS:
        shutil.copy(FIXTURES_DIR / "banks" / bank, directory / "banks")
    (directory / "quizzes.json").write_text("[]")
    catalog_load(directory)


@pytest.fixture
def catalog(tmp_path: Path) -> None:
    catalog_subset_load(tmp_path)


@pytest.fixture
def taught(catalog: None) -> tuple[Course, Any]:
    """A course on the scripted items, and its instructor; nobody has practised."""
    course, teacher = _course()
    _arrange(course)
    return course, teacher


@pytest.fixture
def scripted(taught: tuple[Course, Any]) -> tuple[Course, Any]:
    """The scripted class, after practice (see the module docstring)."""
    course, teacher = taught
    _practise(course, _enrol(course, "ada"))
    _practise(course, _enrol(course, "bob"), holds={"DO-SPEED"})
    _practise(course, _enrol(course, "cy"), misses_once={"PRE-NEURON", "DO-SPEED"})
    dee = _enrol(course, "dee")
    session_stop(session_id=_practise(course, dee, holds={"PRE-NEURON"}, steps=1).id, learner=dee)
    _practise(course, dee, steps=0)
    _practise(course, _enrol(course, "eve"), steps=0)
    _enrol(course, "fay")
    _practise(course, teacher, holds={"PRE-NEURON", "PRE-OVERFIT", "DO-SPEED"})
    gus = _enrol(course, "gus")
    _practise(course, gus, holds={"PRE-NEURON"}, steps=1)
    course.instructors.add(gus)
    return course, teacher


@pytest.fixture
def explained(taught: tuple[Course, Any]) -> tuple[Course, Any]:
    """ada's and then bob's finished sessions, each ending in an explain-back with every key
    idea ticked (bob's after another on DO-SPEED, which he was sure of and got wrong), and
    the instructor's preview up to one of their own."""
    course, teacher = taught
    _practise(course, _enrol(course, "ada"))
    _practise(course, _enrol(course, "bob"), holds={"DO-SPEED"})
    _practise(course, teacher)
    return course, teacher


@pytest.fixture
def teacher_client(client: Client, explained: tuple[Course, Any]) -> Client:
    client.force_login(explained[1])
    return client


def _explain_step(course: Course, username: str) -> PracticeStep:
    """The learner's closing explain-back (not one on a misconception they were sure of)."""
    return PracticeStep.objects.get(
        session__course=course,
        session__learner__username=username,
        kind=PracticeStep.Kind.EXPLAIN_BACK,
        target__isnull=True,
    )


def _p_known(course: Course, username: str, code: str) -> float:
    return Mastery.objects.get(
        course=course, learner__username=username, misconception__code=code
    ).p_known


def _html(response: Any) -> str:
    return response.content.decode()


# --- The numbers --------------------------------------------------------------------------


def test_the_summary_matches_the_hand_counted_class(scripted, django_assert_num_queries):
    # given the scripted class, whose learners took the paths counted by hand
    course, _ = scripted
    for username, count in CLASS_STEPS.items():
        session = PracticeSession.objects.get(course=course, learner__username=username)
        assert session.state == PracticeSession.State.FINISHED, username
        assert session.steps.count() == count, username
        explains = session.steps.filter(kind=PracticeStep.Kind.EXPLAIN_BACK)
        assert explains.count() == CLASS_EXPLANATIONS[username], username
    # when
    with django_assert_num_queries(4):  # however large the class
        summary = practice_summary(course=course)
    # then: five learners practised (not fay, the teacher's preview nor gus)
    assert summary["learners_practised"] == 5
    assert summary["sessions"] == {"finished": 3, "stopped": 1, "active": 2}
    assert summary["median_steps_finished"] == 8  # of 5, 8 and 11
    rows = {row["code"]: row for row in summary["misconceptions"]}
    assert set(rows) == {"DO-SPEED", "DO-PKEEP", "DO-MORE", "DO-ILLUSION", "DO-DATA", "DO-ENSEMBLE"}
    speed = rows["DO-SPEED"]
    # bob holds it still, cy held it and mastered it since, ada mastered it never holding it
    assert (speed["held"], speed["resolved"], speed["persisting"]) == (2, 1, 1)
    assert speed["mastered_without_holding"] == 1
    assert (speed["learners"], speed["evidence"]) == (5, 3)
    right, wrong = True, False
    expected = [
        bkt_trace([right, right], DEFAULT_PARAMS)[-1],  # ada
        bkt_trace([wrong] * 4, DEFAULT_PARAMS)[-1],  # bob
        bkt_trace([wrong, right, right, right], DEFAULT_PARAMS)[-1],  # cy
        DEFAULT_PARAMS.prior,  # dee, no evidence
        DEFAULT_PARAMS.prior,  # eve, no evidence
    ]
    assert speed["mean_p_known"] == pytest.approx(mean(expected))
    # DO-MORE: bob's wrong option on more-curves-b names DO-SPEED alone, so it says nothing
    # on DO-MORE; ada and cy answered the item right once (.5 -> .836364, not mastered)
    more = rows["DO-MORE"]
    assert (more["held"], more["resolved"], more["persisting"], more["evidence"]) == (0, 0, 0, 2)
    assert more["mastered_without_holding"] == 0
    assert more["mean_p_known"] == pytest.approx(
        (2 * bkt_update(0.5, right, DEFAULT_PARAMS) + 3 * 0.5) / 5
    )
    # DO-PKEEP: only ada's right answer bears on it (wrong answers on DO-SPEED say nothing)
    assert (rows["DO-PKEEP"]["held"], rows["DO-PKEEP"]["evidence"]) == (0, 1)
    assert rows["DO-PKEEP"]["mean_p_known"] == pytest.approx(
        (bkt_update(0.5, right, DEFAULT_PARAMS) + 4 * 0.5) / 5
    )
    # the explain-backs with every idea ticked: evidence against the illusion of understanding
    # (ada one, bob two, cy three: right answers on DO-ILLUSION only)
    assert (rows["DO-ILLUSION"]["held"], rows["DO-ILLUSION"]["evidence"]) == (0, 3)
    assert rows["DO-ILLUSION"]["mean_p_known"] == pytest.approx(
        (
            bkt_trace([right], DEFAULT_PARAMS)[-1]
            + bkt_trace([right] * 2, DEFAULT_PARAMS)[-1]
            + bkt_trace([right] * 3, DEFAULT_PARAMS)[-1]
            + 2 * DEFAULT_PARAMS.prior
        )
        / 5
    )
    assert (rows["DO-ENSEMBLE"]["evidence"], rows["DO-DATA"]["evidence"]) == (0, 0)
    # prerequisites: cy missed PRE-NEURON and has mastered it since; dee has not
    gaps = {row["code"]: row for row in summary["prerequisites"]}
    assert gaps["PRE-NEURON"] == {
        "code": "PRE-NEURON",
        "title": "What an artificial neuron computes",
        "learners": 5,
        "missed": 2,
        "mastered_since": 1,
        "still_missing": 1,
    }
    assert (gaps["PRE-OVERFIT"]["missed"], gaps["PRE-OVERFIT"]["mastered_since"]) == (0, 0)
    # ada's one, bob's two and cy's three explain-backs; not the teacher's preview
    assert (summary["explanations_awaiting"], summary["explanations_reviewed"]) == (6, 0)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(taught):
    # given two finished sessions of 5 and 8 steps
    course, _ = taught
    _practise(course, _enrol(course, "ada"))
    _practise(course, _enrol(course, "bob"), holds={"DO-SPEED"})
    # then
    assert practice_summary(course=course)["median_steps_finished"] == 6.5


def test_a_course_nobody_practised_has_empty_numbers(taught):
    course, teacher = taught
    _practise(course, teacher, steps=1)  # a preview only
    summary = practice_summary(course=course)
    assert summary["learners_practised"] == 0
    assert summary["sessions"] == {"finished": 0, "stopped": 0, "active": 0}
    assert summary["median_steps_finished"] is None
    assert summary["misconceptions"] == summary["prerequisites"] == []
    assert summary["explanations_awaiting"] == 0


# --- The dashboard section ---------------------------------------------------------------------


def test_the_dashboard_shows_the_practice_section(client, scripted):
    course, teacher = scripted
    client.force_login(teacher)
    # when
    html = _html(client.get(f"/instructor/courses/{course.id}/"))
    # then
    assert 'id="practice-title">Guided practice' in html
    for name, value in {
        "learners": 5,
        "finished": 3,
        "stopped": 1,
        "active": 2,
        "median": 8,
        "awaiting": 6,
    }.items():
        assert f'id="practice-{name}">{value}</span>' in html, name
    assert (
        '<strong>DO-SPEED</strong> Dropout speeds up training</th><td class="num">2</td><td class="num">1</td><td class="num">1</td><td class="num">1</td>'
        in html
    )
    assert (
        '<strong>PRE-NEURON</strong> What an artificial neuron computes</th><td class="num">2</td><td class="num">1</td><td class="num">1</td>'
        in html
    )
    assert f'href="/instructor/courses/{course.id}/practice/explanations/"' in html
    assert f'href="/instructor/courses/{course.id}/practice/settings/"' in html


def test_the_dashboard_says_when_nobody_practised(client, taught):
    course, teacher = taught
    client.force_login(teacher)
    html = _html(client.get(f"/instructor/courses/{course.id}/"))
    assert "Nobody has practised yet." in html
    assert 'id="practice-misconceptions"' not in html
    assert f'href="/instructor/courses/{course.id}/practice/settings/"' in html


# --- The review queue -----------------------------------------------------------------------


def _queue(course: Course) -> str:
    return f"/instructor/courses/{course.id}/practice/explanations/"


def _review_url(course: Course, step: PracticeStep) -> str:
    return f"{_queue(course)}{step.id}/review/"


def test_the_queue_shows_each_text_with_the_ideas_and_the_learners_ticks(teacher_client, explained):
    course, teacher = explained
    # when
    response = teacher_client.get(_queue(course))
    # then: ada's and bob's two, oldest first; never the instructor's preview
    assert response.status_code == 200
    html = _html(response)
    ada, bob = (_explain_step(course, u) for u in ("ada", "bob"))
    sure = PracticeStep.objects.get(
        session__learner__username="bob",
        kind=PracticeStep.Kind.EXPLAIN_BACK,
        target__code="DO-SPEED",
    )
    assert sure.kind == PracticeStep.Kind.EXPLAIN_BACK and sure.number < bob.number
    positions = [html.index(f'id="explanation-{step.id}"') for step in (ada, sure, bob)]
    assert positions == sorted(positions)
    assert html.count('<article class="card"') == 3
    assert f"{teacher.username} <span" not in html
    prompt = Question.objects.get(slug="explain-cost-ensemble-b")
    assert html.count(escape(prompt.model_answer)) == 3  # the scripted learners' text
    assert "Every unit is still computed on each step" in html
    assert html.count("learner ticked it") == 3 * 5
    assert html.count('<span class="badge badge-warn">Awaiting review</span>') == 3
    assert f'action="{_review_url(course, ada)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_queue_reads_the_same_number_of_queries_however_many_texts(teacher_client, explained):
    # given
    course, _ = explained
    teacher_client.get(_queue(course))  # the signed-in user is cached from then on
    with CaptureQueriesContext(connection) as two:
        teacher_client.get(_queue(course))
    _practise(course, _enrol(course, "cy"), misses_once={"PRE-NEURON", "DO-SPEED"})
    # when
    with CaptureQueriesContext(connection) as three:
        html = _html(teacher_client.get(_queue(course)))
    # then: cy's three explain-backs beside ada's one and bob's two
    assert html.count('<article class="card"') == 6
    assert len(three.captured_queries) == len(two.captured_queries)


def test_a_first_review_is_evidence_and_a_later_one_is_not(teacher_client, explained):
    # given ada ticked all five ideas of her explain-back
    course, teacher = explained
    step = _explain_step(course, "ada")
    assert _p_known(course, "ada", "DO-ENSEMBLE") == DEFAULT_PARAMS.prior
    # when the reviewer finds only the first two
    response = teacher_client.post(
        _review_url(course, step), {"ideas": ["0", "1"], "comment": "  Say what the ensemble is.  "}
    )
    # then it is saved and the page says so
    assert response.status_code == 302
    assert response["Location"] == _queue(course)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Review saved for ada's explanation."
    ]
    step.refresh_from_db()
    assert step.review_ideas == [0, 1]
    assert step.review_comment == "Say what the ensemble is."
    assert step.reviewed_by == teacher and step.reviewed_at is not None
    # and ideas 2 (DO-ENSEMBLE), 3 (DO-ENSEMBLE, DO-DATA) and 4 (DO-ENSEMBLE), claimed but
    # missing, count as one wrong answer each on those misconceptions
    after_one_miss = bkt_update(DEFAULT_PARAMS.prior, False, DEFAULT_PARAMS)
    for code in ("DO-ENSEMBLE", "DO-DATA"):
        mastery = Mastery.objects.get(
            course=course, learner__username="ada", misconception__code=code
        )
        assert mastery.held
        assert mastery.p_known == pytest.approx(after_one_miss), code
    summary = practice_summary(course=course)  # bob's two still await a review
    assert (summary["explanations_awaiting"], summary["explanations_reviewed"]) == (2, 1)
    ensemble = next(r for r in summary["misconceptions"] if r["code"] == "DO-ENSEMBLE")
    assert (ensemble["held"], ensemble["persisting"]) == (1, 1)
    # when the reviewer changes their mind
    response = teacher_client.post(_review_url(course, step), {"ideas": [], "comment": ""})
    # then the review changes but the evidence does not count twice
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.review_ideas == []
    for code in ("DO-ENSEMBLE", "DO-DATA", "DO-SPEED"):
        expected = (
            after_one_miss if code != "DO-SPEED" else bkt_trace([True, True], DEFAULT_PARAMS)[-1]
        )
        assert _p_known(course, "ada", code) == pytest.approx(expected), code


def test_a_review_finding_every_claimed_idea_changes_no_mastery(teacher_client, explained):
    course, _ = explained
    step = _explain_step(course, "bob")
    before = dict(Mastery.objects.filter(learner__username="bob").values_list("id", "p_known"))
    response = teacher_client.post(_review_url(course, step), {"ideas": ["0", "1", "2", "3", "4"]})
    assert response.status_code == 302
    assert (
        dict(Mastery.objects.filter(learner__username="bob").values_list("id", "p_known")) == before
    )


def test_the_filter_shows_awaiting_or_reviewed_ones(teacher_client, explained):
    course, _ = explained
    ada, bob = _explain_step(course, "ada"), _explain_step(course, "bob")
    teacher_client.post(_review_url(course, ada), {"ideas": ["0"], "comment": "Nearly."})
    reviewed = _html(teacher_client.get(_queue(course) + "?state=reviewed"))
    assert f'id="explanation-{ada.id}"' in reviewed and f'id="explanation-{bob.id}"' not in reviewed
    assert "Nearly." in reviewed  # the review, ready to be changed
    assert 'value="0" checked' in reviewed
    awaiting = _html(teacher_client.get(_queue(course) + "?state=awaiting"))
    assert f'id="explanation-{ada.id}"' not in awaiting and f'id="explanation-{bob.id}"' in awaiting
    everything = _html(teacher_client.get(_queue(course)))
    assert everything.index(f'id="explanation-{bob.id}"') < everything.index(
        f'id="explanation-{ada.id}"'
    )  # awaiting first


def test_the_queue_comes_in_pages(teacher_client, explained, monkeypatch):
    course, _ = explained
    monkeypatch.setattr(instructor_views, "EXPLANATIONS_PER_PAGE", 1)
    # ada's, then bob's on DO-SPEED, then bob's closing one
    sure = PracticeStep.objects.get(
        session__learner__username="bob",
        kind=PracticeStep.Kind.EXPLAIN_BACK,
        target__code="DO-SPEED",
    )
    ada, bob_sure, bob = (
        f'id="explanation-{step.id}"'
        for step in (_explain_step(course, "ada"), sure, _explain_step(course, "bob"))
    )
    first = _html(teacher_client.get(_queue(course)))
    second = _html(teacher_client.get(_queue(course) + "?page=2"))
    third = _html(teacher_client.get(_queue(course) + "?page=3"))
    assert ada in first and bob_sure not in first and bob not in first
    assert bob_sure in second and ada not in second and bob not in second
    assert bob in third and ada not in third
    assert 'href="?page=2" rel="next"' in first
    assert 'href="?page=1" rel="prev"' in second
    assert "(page 1 of 3)" in first


def test_an_unknown_filter_is_a_400_naming_it(teacher_client, explained):
    course, _ = explained
    response = teacher_client.get(_queue(course) + "?state=late")
    assert response.status_code == 400
    assert "state: Choose awaiting, reviewed, or nothing for all." in _html(response)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ideas": ["zero"]}, "ideas"),
        ({"ideas": ["5"]}, "ideas"),  # the prompt has ideas 0 to 4
        ({"ideas": ["0"], "comment": "x" * (MAX_TEXT_LENGTH + 1)}, "comment"),
    ],
)
def test_a_bad_review_is_a_400_naming_the_field_and_changes_nothing(
    teacher_client, explained, data, field
):
    course, _ = explained
    step = _explain_step(course, "ada")
    before = dict(Mastery.objects.filter(learner__username="ada").values_list("id", "p_known"))
    # when
    response = teacher_client.post(_review_url(course, step), data)
    # then
    assert response.status_code == 400
    html = _html(response)
    assert "The review was not saved." in html
    assert f'<p class="field-error" id="{field}-{step.id}-error" role="alert">{field}: ' in html
    step.refresh_from_db()
    assert step.reviewed_at is None and step.review_ideas is None
    assert (
        dict(Mastery.objects.filter(learner__username="ada").values_list("id", "p_known")) == before
    )


def test_a_review_of_another_courses_or_a_missing_explanation_is_404(teacher_client, explained):
    course, _ = explained
    other, _ = _course("other", "Other course")
    _arrange(other)
    outsider = _practise(other, _enrol(other, "olga"))
    foreign = outsider.steps.get(kind=PracticeStep.Kind.EXPLAIN_BACK)
    not_an_explanation = PracticeStep.objects.filter(
        session__course=course, kind=PracticeStep.Kind.PREREQUISITE
    ).first()
    assert not_an_explanation is not None
    for step_id in (foreign.id, not_an_explanation.id, 999_999, 10**25):
        response = teacher_client.post(f"{_queue(course)}{step_id}/review/", {"ideas": ["0"]})
        assert response.status_code == 404, step_id
    foreign.refresh_from_db()
    assert foreign.reviewed_at is None


# --- Settings -----------------------------------------------------------------------------------


def _settings(course: Course) -> str:
    return f"/instructor/courses/{course.id}/practice/settings/"


@pytest.fixture
def settings_client(client: Client, taught: tuple[Course, Any]) -> Client:
    client.force_login(taught[1])
    return client


def test_the_settings_page_shows_pairs_and_every_item(settings_client, taught):
    course, _ = taught
    confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA")
    html = _html(settings_client.get(_settings(course)))
    built_in = html[html.index('id="built-in-pairs"') : html.index("Linked for this course")]
    assert (
        "<strong>DO-ENSEMBLE</strong>" in built_in and "<strong>DO-PERMANENT</strong>" in built_in
    )
    assert "<strong>DO-NOSCALE</strong>" in built_in and "<strong>DO-TEST</strong>" in built_in
    assert "<strong>DO-SCHEME</strong>" in built_in
    assert built_in.count("built in, fixed") == 3
    assert "Unlink" not in built_in
    assert 'Unlink<span class="sr-only"> DO-SPEED and DO-DATA</span>' in html
    assert html.count('name="question"') == Question.objects.count()
    first = Question.objects.get(slug=ITEMS[0])
    assert f'id="position-{first.id}" name="position-{first.id}" value="1"' in html
    assert (
        f'<label for="position-{first.id}" class="sr-only">Position of {first.slug}</label>' in html
    )
    left_out = Question.objects.exclude(slug__in=ITEMS).first()
    assert left_out is not None
    assert f'name="enabled-{left_out.id}">' in html  # unticked
    assert f'name="enabled-{first.id}" checked>' in html


def test_linking_two_misconceptions(settings_client, taught):
    course, _ = taught
    response = settings_client.post(
        _settings(course) + "pairs/", {"first": "DO-TEST", "second": "DO-SPEED"}
    )
    assert response.status_code == 302 and response["Location"] == _settings(course)
    assert ("DO-SPEED", "DO-TEST") in confused_pairs(course=course)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Linked DO-SPEED and DO-TEST")


@pytest.mark.parametrize(
    ("first", "second", "field", "status"),
    [
        ("", "DO-SPEED", "first", 400),
        ("DO-SPEED", "", "second", 400),
        ("DO-NOPE", "DO-SPEED", "first", 400),
        ("DO-SPEED", "DO-SPEED", "second", 400),
        ("DO-PERMANENT", "DO-ENSEMBLE", "pair", 409),  # built in
    ],
)
def test_a_bad_pair_is_refused_with_the_field_named(
    settings_client, taught, first, second, field, status
):
    course, _ = taught
    response = settings_client.post(
        _settings(course) + "pairs/", {"first": first, "second": second}
    )
    assert response.status_code == status
    html = _html(response)
    assert "The pair was not linked." in html
    if field == "pair":
        assert "always treated as confused" in html
    else:
        assert f'id="pair-{field}-error">{field}: ' in html
        assert f'id="pair-{field}" name="{field}" aria-invalid="true"' in html
    assert not ConfusedPair.objects.exists()


def test_linking_a_pair_twice_is_a_conflict(settings_client, taught):
    course, _ = taught
    confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA")
    response = settings_client.post(
        _settings(course) + "pairs/", {"first": "DO-DATA", "second": "DO-SPEED"}
    )
    assert response.status_code == 409
    assert "already linked" in _html(response)
    assert ConfusedPair.objects.count() == 1


def test_unlinking_a_pair(settings_client, taught):
    course, _ = taught
    pair = confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA")
    assert settings_client.get(f"{_settings(course)}pairs/{pair.id}/remove/").status_code == 405
    response = settings_client.post(f"{_settings(course)}pairs/{pair.id}/remove/")
    assert response.status_code == 302
    assert not ConfusedPair.objects.exists()
    # again: it is gone
    assert settings_client.post(f"{_settings(course)}pairs/{pair.id}/remove/").status_code == 404


def test_another_courses_pair_cannot_be_unlinked(settings_client, taught):
    course, _ = taught
    other, _ = _course("other", "Other course")
    pair = confused_pair_add(course=other, first="DO-SPEED", second="DO-DATA")
    for pair_id in (pair.id, 10**25):
        assert (
            settings_client.post(f"{_settings(course)}pairs/{pair_id}/remove/").status_code == 404
        )
    assert ConfusedPair.objects.filter(id=pair.id).exists()


def _table(course: Course) -> dict[str, Any]:
    """The items form as the page sends it, unchanged."""
    data: dict[str, Any] = {"question": []}
    for position, question in enumerate(
        practice_questions(course=course, include_disabled=True), 1
    ):
        data["question"].append(str(question.id))
        data[f"position-{question.id}"] = str(position)
    for question_id, enabled in PracticeItem.objects.filter(course=course).values_list(
        "question_id", "is_enabled"
    ):
        if enabled:
            data[f"enabled-{question_id}"] = "on"
    return data


def _order(course: Course) -> list[str]:
    return [q.slug for q in practice_questions(course=course)]


def test_saving_the_order_moves_and_leaves_out_items(settings_client, taught):
    # given
    course, _ = taught
    ids = dict(Question.objects.values_list("slug", "id"))
    data = _table(course)
    # when speed-paper-tf-b goes between the 1st and 2nd item, and more-curves-b is left out
    data[f"position-{ids['speed-paper-tf-b']}"] = "1.5"
    del data[f"enabled-{ids['more-curves-b']}"]
    response = settings_client.post(_settings(course) + "items/", data)
    # then
    assert response.status_code == 302
    order = _order(course)
    assert order[:3] == ["pre-neuron-tf-1", "speed-paper-tf-b", "pre-neuron-tf-2"]
    assert "more-curves-b" not in order
    assert len(order) == len(ITEMS) - 1
    assert PracticeItem.objects.filter(course=course).count() == Question.objects.count()
    message = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == [
        f"Practice order saved: {len(ITEMS) - 1} items in use, {Question.objects.count() - len(ITEMS) + 1} left out."
    ]


def test_equal_positions_keep_the_current_order(settings_client, taught):
    course, _ = taught
    ids = dict(Question.objects.values_list("slug", "id"))
    data = _table(course)
    data[f"position-{ids['pre-neuron-tf-2']}"] = "1"
    assert settings_client.post(_settings(course) + "items/", data).status_code == 302
    assert _order(course)[:2] == ["pre-neuron-tf-1", "pre-neuron-tf-2"]


@pytest.mark.parametrize("typed", ["", "first", "nan", "inf", "1e999"])
def test_a_bad_position_is_a_400_naming_the_row_and_changes_nothing(settings_client, taught, typed):
    course, _ = taught
    ids = dict(Question.objects.values_list("slug", "id"))
    before = list(
        PracticeItem.objects.filter(course=course).values_list(
            "question_id", "position", "is_enabled"
        )
    )
    data = _table(course)
    data[f"position-{ids['speed-paper-tf-b']}"] = typed
    del data[f"enabled-{ids['more-curves-b']}"]
    # when
    response = settings_client.post(_settings(course) + "items/", data)
    # then
    assert response.status_code == 400
    html = _html(response)
    field = f"position-{ids['speed-paper-tf-b']}"
    assert f'<p class="field-error" id="{field}-error">{field}: Enter a number' in html
    assert f'name="{field}" value="{typed}" aria-invalid="true"' in html
    assert f'name="enabled-{ids["more-curves-b"]}">' in html  # as sent, unticked
    assert (
        list(
            PracticeItem.objects.filter(course=course).values_list(
                "question_id", "position", "is_enabled"
            )
        )
        == before
    )


@pytest.mark.parametrize("tamper", ["unknown", "twice", "not-a-number", "nothing"])
def test_a_tampered_table_is_a_400_on_the_order(settings_client, taught, tamper):
    course, _ = taught
    before = list(
        PracticeItem.objects.filter(course=course).values_list(
            "question_id", "position", "is_enabled"
        )
    )
    data = _table(course)
    ids = data["question"]
    if tamper == "unknown":
        ids.append("999999")
        data["position-999999"] = "3"
    elif tamper == "twice":
        ids.append(ids[0])
    elif tamper == "not-a-number":
        ids.append("12a")
    else:
        data = {}
    response = settings_client.post(_settings(course) + "items/", data)
    assert response.status_code == 400
    assert '<p class="field-error" role="alert" id="order-error">order: ' in _html(response)
    assert (
        list(
            PracticeItem.objects.filter(course=course).values_list(
                "question_id", "position", "is_enabled"
            )
        )
        == before
    )


# --- Access -------------------------------------------------------------------------------------


def _pages(course: Course) -> list[str]:
    base = f"/instructor/courses/{course.id}/practice"
    return [f"{base}/explanations/", f"{base}/settings/"]


def _posts(course: Course, step: PracticeStep, pair: ConfusedPair) -> list[str]:
    base = f"/instructor/courses/{course.id}/practice"
    return [
        f"{base}/explanations/{step.id}/review/",
        f"{base}/settings/pairs/",
        f"{base}/settings/pairs/{pair.id}/remove/",
        f"{base}/settings/items/",
        f"{base}/settings/post-test/",
    ]


@pytest.fixture
def reviewable(explained: tuple[Course, Any]) -> tuple[Course, PracticeStep, ConfusedPair]:
    course, _ = explained
    pair = confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA")
    return course, _explain_step(course, "ada"), pair


def test_anonymous_visitors_are_sent_to_log_in(client, reviewable):
    course, step, pair = reviewable
    for url in _pages(course) + _posts(course, step, pair):
        response = client.post(url) if url in _posts(course, step, pair) else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["learner", "other instructor", "staff author of another course"])
def test_anyone_but_the_courses_instructors_gets_404_and_changes_nothing(client, reviewable, who):
    course, step, pair = reviewable
    if who == "learner":
        user = Enrollment.objects.get(course=course, learner__username="ada").learner
    else:
        user = UserFactory.create(username="other-teacher", is_staff=who.startswith("staff"))
        Course.objects.create(slug="theirs", title="Theirs").instructors.add(user)
    if who.startswith("staff"):
        user.groups.add(role_group(BANK_AUTHORS), role_group(INSTRUCTORS))
    client.force_login(user)
    for url in _pages(course):
        assert client.get(url).status_code == 404, url
    for url in _posts(course, step, pair):
        data = {
            "ideas": ["0"],
            "first": "DO-TEST",
            "second": "DO-MORE",
            "use_post_test_items": "on",
        }
        assert client.post(url, data).status_code == 404, url
    step.refresh_from_db()
    assert step.reviewed_at is None
    assert ConfusedPair.objects.filter(id=pair.id).exists() and ConfusedPair.objects.count() == 1
    assert not PracticeSettings.objects.exists()


def test_superusers_may_use_every_page(client, reviewable):
    course, step, _ = reviewable
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    for url in _pages(course):
        assert client.get(url).status_code == 200, url
    assert client.post(f"{_queue(course)}{step.id}/review/", {"ideas": ["0"]}).status_code == 302


def test_an_unknown_course_is_404(settings_client):
    for course_id in (999_999, 10**25):
        for url in (
            f"/instructor/courses/{course_id}/practice/settings/",
            f"/instructor/courses/{course_id}/practice/explanations/",
        ):
            assert settings_client.get(url).status_code == 404, url


def test_posts_need_the_csrf_token(reviewable):
    course, step, pair = reviewable
    client = Client(enforce_csrf_checks=True)
    client.force_login(course.instructors.get())
    for url in _posts(course, step, pair):
        assert client.post(url, {"ideas": ["0"], "use_post_test_items": "on"}).status_code == 403
    step.refresh_from_db()
    assert step.reviewed_at is None
    assert ConfusedPair.objects.filter(id=pair.id).exists()
    assert not PracticeSettings.objects.exists()
