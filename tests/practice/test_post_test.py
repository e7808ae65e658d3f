"""The post-test's items stay held: practice never shows the questions a course's post-test
can draw, nor their answers, unless the course's instructor releases them; the instructor
sees how many are held back. Driven through the learner's and the instructor's pages on the
real catalogue, with the shipped post-test copied into the course."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pytest
from django.test import Client

from assessments.catalog import catalog_load
from assessments.models import Question, QuestionBank, Quiz, QuizSection
from assessments.numeric import expression_evaluate
from assessments.services import quiz_structure_copy
from courses.models import Course, Enrollment
from practice.instructor_services import practice_items_arrange
from practice.models import PracticeSession, PracticeSettings, PracticeStep
from practice.selectors.items import (
    held_questions,
    post_test_questions,
    practice_items,
    practice_questions,
)
from practice.services import session_open
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = PracticeStep.Kind
# The shipped post-test draws from form B of five banks: 6 prerequisite items, 12 on what
# dropout is for, 12 on how it works, 9 calculations and 3 explain-backs.
POST_TEST_ITEMS = 6 + 12 + 12 + 9 + 3


def _post_test(course: Course, slug: str = "post") -> Quiz:
    """A post-test of the course with the shipped post-test's sections and blueprint."""
    quiz = Quiz.objects.create(slug=slug, title="Post-test", course=course, role=Quiz.Role.POST)
    quiz_structure_copy(source=Quiz.objects.get(slug="dropout-posttest"), target=quiz)
    return quiz


@pytest.fixture
def course(learner: Any) -> Course:
    catalog_load()
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    Enrollment.objects.create(course=course, learner=learner)
    _post_test(course)
    return course


@pytest.fixture
def teacher(course: Course) -> Any:
    teacher = UserFactory.create(username="tess")
    course.instructors.add(teacher)
    return teacher


def _held(course: Course) -> set[int]:
    return held_questions(course_ids=[course.id])[course.id]


def _pending(session: PracticeSession) -> PracticeStep | None:
    return session.steps.exclude(state="done").first()


def _choice_data(step: PracticeStep, chosen: list[int]) -> dict[str, Any]:
    question = step.prompt
    if question.qtype == "twotier":
        tiers = {c.id: c.tier for c in question.choices.all()}
        return {
            "choice-tier1": [i for i in chosen if tiers[i] == 1],
            "choice-tier2": [i for i in chosen if tiers[i] == 2],
        }
    return {"choice": chosen}


def _answer(step: PracticeStep, *, sure_wrong: bool) -> dict[str, Any]:
    """The form data of a right answer, or of a wrong one given with confidence 5."""
    question = step.prompt
    if question.qtype == "numeric":
        value = expression_evaluate(question.answer, step.parameters)
        distractors = list(question.distractors.all())
        if sure_wrong and distractors:
            value = expression_evaluate(distractors[0].answer, step.parameters)
        return {"numeric_value": str(value), "confidence": 5 if sure_wrong else 4}
    choices = list(question.choices.all())
    chosen = [c.id for c in choices if c.is_correct]
    if sure_wrong:
        wrong = [c for c in choices if not c.is_correct and c.misconceptions.exists()]
        if wrong:
            chosen = [c.id for c in choices if c.is_correct and c.tier != wrong[0].tier]
            chosen.append(wrong[0].id)
    return {**_choice_data(step, chosen), "confidence": 5 if sure_wrong else 4}


def _fingerprints(held: set[int]) -> dict[str, int]:
    """Texts of held items (stems, feedback, choice feedback, model answers, key ideas) that
    no item in use contains, each with its question's id: none may appear on a learner's
    practice page."""
    texts: dict[int, list[str]] = {}
    for question in Question.objects.prefetch_related("choices"):
        own = [question.feedback, question.model_answer, *question.key_ideas]
        own += [c.feedback for c in question.choices.all()]
        # the stem's literal parts, between the {parameters} numeric items fill in
        own += re.split(r"\{[^}]*\}", question.stem)
        texts[question.id] = [escape(text) for text in own if len(text) >= 40]
    in_use = [text for question_id, own in texts.items() if question_id not in held for text in own]
    return {
        text: question_id
        for question_id in held
        for text in texts[question_id]
        if not any(text in other for other in in_use)
    }


def _code_free(course: Course) -> None:
    """Leave the code exercises out (no grader in these tests), keeping the rest in use."""
    questions = practice_questions(course=course, include_disabled=True)
    practice_items_arrange(course=course, order=[(q.id, q.qtype != "code") for q in questions])


def test_the_post_test_holds_its_sections_pools(course):
    # given: the course's post-test (form B of five banks), its pre-test (form A), another
    # course's post-test on the code bank, and a second post-test of this course drawing
    # the numeric bank in either form
    pre = Quiz.objects.create(slug="pre", title="Pre-test", course=course, role=Quiz.Role.PRE)
    quiz_structure_copy(source=Quiz.objects.get(slug="dropout-pretest"), target=pre)
    other = Course.objects.create(slug="other", title="Other")
    theirs = Quiz.objects.create(slug="theirs", title="Post", course=other, role=Quiz.Role.POST)
    code = QuestionBank.objects.get(slug="dropout-code")
    QuizSection.objects.create(quiz=theirs, bank=code, draw_count=1)
    form_b = set(Question.objects.filter(form="B").values_list("id", flat=True))
    # then
    assert len(form_b) == POST_TEST_ITEMS
    assert post_test_questions(course_ids=[course.id]) == {course.id: form_b}
    assert _held(course) == form_b
    assert held_questions(course_ids=[other.id])[other.id] == set(
        code.questions.values_list("id", flat=True)
    )
    # when: a second post-test draws the numeric bank, any form
    second = Quiz.objects.create(slug="post-2", title="Post 2", course=course, role="post")
    numeric = QuestionBank.objects.get(slug="dropout-numeric")
    QuizSection.objects.create(quiz=second, bank=numeric, draw_count=3, form="")
    # then: both are held
    assert _held(course) == form_b | set(numeric.questions.values_list("id", flat=True))
    # and practice's items are the rest
    items = {item.question_id for item in practice_items(course=course)}
    assert items and not items & _held(course)
    assert items | _held(course) == set(Question.objects.values_list("id", flat=True))


def test_a_learners_whole_session_never_shows_a_held_item(client, course, learner):
    # given: a learner who is sure and wrong on the first five dropout items, then right
    # (code exercises left out: no grader here; the post-test has no code section anyway)
    _code_free(course)
    held = _held(course)
    fingerprints = _fingerprints(held)
    assert set(fingerprints.values()) == held  # every held item has texts of its own
    client.force_login(learner)
    assert client.post(f"/practice/courses/{course.id}/start/").status_code == 302
    session = PracticeSession.objects.get(course=course, learner=learner)
    pages: list[str] = [client.get("/practice/").content.decode()]
    sure_wrong = 0
    # when: the whole session is practised through the pages
    for _ in range(80):
        step = _pending(session)
        if step is None:
            break
        pages.append(client.get(f"/practice/courses/{course.id}/").content.decode())
        if step.state == "checking":
            ideas = list(range(len(step.prompt.key_ideas)))
            response = client.post(f"/practice/steps/{step.id}/self-check/", {"idea": ideas})
        elif step.prompt.qtype == "explain":
            response = client.post(
                f"/practice/steps/{step.id}/answer/",
                {"text": "Dropout zeroes random units in training only.", "confidence": 3},
            )
            continue
        else:
            wrong = step.kind == Kind.PROBE and sure_wrong < 5
            sure_wrong += wrong
            response = client.post(
                f"/practice/steps/{step.id}/answer/", _answer(step, sure_wrong=wrong)
            )
        assert response.status_code == 302, response.content.decode()[:500]
        pages.append(client.get(response["Location"]).content.decode())
    pages.append(client.get(f"/practice/courses/{course.id}/").content.decode())
    session.refresh_from_db()
    assert session.state == PracticeSession.State.FINISHED
    # then: no step was on a held item, and no page showed a held item's text
    steps = list(session.steps.all())
    assert len(steps) > 15
    assert {step.kind for step in steps} >= {Kind.PROBE, Kind.REMEDIATION, Kind.EXPLAIN_BACK}
    assert not [step.prompt.slug for step in steps if step.question_id in held]
    for html in pages:
        shown = [fingerprints[text] for text in fingerprints if text in html]
        assert not shown, [text for text in fingerprints if text in html]


def test_the_instructor_sees_how_many_items_are_held_and_can_release_them(
    client, course, teacher, learner
):
    _code_free(course)
    settings_url = f"/instructor/courses/{course.id}/practice/settings/"
    client.force_login(teacher)
    # when
    html = client.get(settings_url).content.decode()
    # then: the setting, off, with what it does and how many items it holds back
    assert "Use the post-test's items in practice" in html
    assert 'id="use-post-test-items" name="use_post_test_items"' in html
    assert 'name="use_post_test_items" aria-describedby="post-test-help">' in html  # unticked
    assert f"<strong>{POST_TEST_ITEMS}</strong> items held back from practice" in html
    assert html.count("held back: on the post-test") == POST_TEST_ITEMS
    # and in the API
    api = client.get(f"/api/v1/courses/{course.id}/practice/").json()
    assert api["settings"] == {
        "use_post_test_items": False,
        "post_test_items": POST_TEST_ITEMS,
        "held_back": POST_TEST_ITEMS,
    }
    # when: the instructor releases them
    response = client.post(settings_url + "post-test/", {"use_post_test_items": "on"})
    # then
    assert response.status_code == 302 and response["Location"] == settings_url
    saved = PracticeSettings.objects.get(course=course)
    assert saved.use_post_test_items is True and saved.updated_by == teacher
    html = client.get(settings_url).content.decode()
    assert f"Practice now uses the post-test&#x27;s {POST_TEST_ITEMS} items." in html
    assert 'aria-describedby="post-test-help" checked>' in html
    assert "held back: on the post-test" not in html
    assert html.count("on the post-test</span>") == POST_TEST_ITEMS
    assert client.get(f"/api/v1/courses/{course.id}/practice/").json()["settings"] == {
        "use_post_test_items": True,
        "post_test_items": POST_TEST_ITEMS,
        "held_back": 0,
    }
    # and a learner's practice now uses them: a form-B item comes within a few steps
    learner_client = Client()
    learner_client.force_login(learner)
    learner_client.post(f"/practice/courses/{course.id}/start/")
    session = PracticeSession.objects.get(course=course, learner=learner)
    for _ in range(10):
        step = _pending(session)
        assert step is not None
        if step.question_id in post_test_questions(course_ids=[course.id])[course.id]:
            break
        learner_client.post(f"/practice/steps/{step.id}/answer/", _answer(step, sure_wrong=False))
    else:
        raise AssertionError("no post-test item came up")
    assert step.prompt.form == "B"
    page = learner_client.get(f"/practice/courses/{course.id}/").content.decode()
    assert f'action="/practice/steps/{step.id}/answer/"' in page


def test_holding_them_again_withdraws_a_held_step_and_hides_the_answers(
    client, course, teacher, learner
):
    # given: released, a learner answered a form-B item wrongly (its feedback shows the right
    # answer) and has another one waiting
    _code_free(course)
    client.force_login(teacher)
    settings_url = f"/instructor/courses/{course.id}/practice/settings/"
    client.post(settings_url + "post-test/", {"use_post_test_items": "on"})
    learner_client = Client()
    learner_client.force_login(learner)
    learner_client.post(f"/practice/courses/{course.id}/start/")
    session = PracticeSession.objects.get(course=course, learner=learner)
    answered = None
    for _ in range(10):
        step = _pending(session)
        is_b = step.prompt.form == "B" and step.prompt.qtype != "numeric"
        learner_client.post(f"/practice/steps/{step.id}/answer/", _answer(step, sure_wrong=is_b))
        if is_b:
            answered = step
            break
    assert answered is not None
    feedback_url = f"/practice/steps/{answered.id}/feedback/"
    right = [c.text for c in answered.prompt.choices.all() if c.is_correct]
    before = learner_client.get(feedback_url).content.decode()
    assert escape(answered.prompt.feedback) in before and "Right answer:" in before
    waiting = _pending(session)
    assert waiting is not None
    if waiting.prompt.form != "B":  # make the waiting step a held one
        b_item = Question.objects.filter(form="B", qtype="single").exclude(
            id__in=session.steps.values_list("question_id", flat=True)
        )[0]
        waiting.question = b_item
        waiting.choice_order = list(b_item.choices.values_list("id", flat=True))
        waiting.save(update_fields=["question", "choice_order"])
    # when: the instructor holds them back again
    response = client.post(settings_url + "post-test/", {})
    # then
    assert response.status_code == 302
    assert PracticeSettings.objects.get(course=course).use_post_test_items is False
    page = client.get(settings_url).content.decode()
    assert f"Practice now holds back the post-test&#x27;s {POST_TEST_ITEMS} items" in page
    # the waiting step is gone, replaced by one on an item in use
    assert not PracticeStep.objects.filter(id=waiting.id).exists()
    replaced = _pending(session)
    assert replaced is not None and replaced.question_id not in _held(course)
    assert replaced.number == waiting.number
    html = learner_client.get(f"/practice/courses/{course.id}/").content.decode()
    assert f'action="/practice/steps/{replaced.id}/answer/"' in html
    # and the earlier step's feedback no longer shows its answers
    html = learner_client.get(feedback_url).content.decode()
    assert "held back for your course's post-test" in html
    assert escape(answered.prompt.feedback) not in html
    assert "Right answer:" not in html
    for text in right:
        assert f"<p><strong>Right answer:</strong> {escape(text)}" not in html


def test_a_pending_held_step_is_replaced_when_practice_is_opened_again(course, learner):
    # given: a session whose waiting step is on a form-B item (chosen before the course had
    # its post-test, say)
    _code_free(course)
    session = session_open(course=course, learner=learner)
    step = _pending(session)
    b_item = Question.objects.get(slug="pre-neuron-activation-1")
    step.question = b_item
    step.choice_order = list(b_item.choices.values_list("id", flat=True))
    step.save(update_fields=["question", "choice_order"])
    # when: the learner opens practice again
    again = session_open(course=course, learner=learner)
    # then: the same session, another step, on an item in use
    assert again.id == session.id
    replaced = _pending(session)
    assert replaced is not None and replaced.id != step.id
    assert replaced.question_id not in _held(course)
    assert replaced.kind == Kind.PREREQUISITE


def test_a_course_without_a_post_test_holds_nothing(client):
    catalog_load()
    course = Course.objects.create(slug="plain", title="Plain")
    teacher = UserFactory.create(username="tess")
    course.instructors.add(teacher)
    client.force_login(teacher)
    html = client.get(f"/instructor/courses/{course.id}/practice/settings/").content.decode()
    assert "This course has no post-test yet" in html
    assert "held back: on the post-test" not in html
    assert _held(course) == set()
    response = client.post(
        f"/instructor/courses/{course.id}/practice/settings/post-test/",
        {"use_post_test_items": "on"},
    )
    assert response.status_code == 302
    html = client.get(f"/instructor/courses/{course.id}/practice/settings/").content.decode()
    assert "The course has no post-test items yet, so practice holds nothing back." in html
