"""The learner's practice pages, driven through Django's test client on the real catalogue."""

from __future__ import annotations

import time
from html import escape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.answers import CONFIDENCE_MESSAGE
from assessments.catalog import catalog_load
from assessments.models import Misconception, Question
from assessments.numeric import expression_evaluate
from courses.models import Course, Enrollment
from grader.exercises import exercise_get
from practice.instructor_services import practice_items_arrange
from practice.models import Mastery, PracticeSession, PracticeStep
from practice.selectors.calibration import session_calibration
from practice.services import explanation_review, session_open
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = PracticeStep.Kind


@pytest.fixture
def course(learner):
    catalog_load()
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    Enrollment.objects.create(course=course, learner=learner)
    return course


@pytest.fixture
def client_in(client, learner):
    client.force_login(learner)
    return client


def _only(course, *slugs):
    """Let the course practise only these questions, in this order."""
    ids = dict(Question.objects.values_list("slug", "id"))
    rest = [(i, False) for slug, i in ids.items() if slug not in slugs]
    practice_items_arrange(course=course, order=[(ids[s], True) for s in slugs] + rest)


def _start(client, course):
    response = client.post(f"/practice/courses/{course.id}/start/")
    assert response.status_code == 302
    assert response["Location"] == f"/practice/courses/{course.id}/"
    return PracticeSession.objects.get(course=course, state="active")


def _pending(session):
    return session.steps.exclude(state="done").get()


def _choice_post(step, pick):
    """Form data choosing, per tier, the first choice `pick` accepts."""
    question = step.question
    names = {"twotier": ("choice-tier1", "choice-tier2")}.get(question.qtype, ("choice",))
    data = {}
    for tier, name in enumerate(names, start=1):
        options = [c for c in question.choices.all() if c.tier == tier]
        chosen = [c.id for c in options if pick(c)]
        data[name] = chosen if question.qtype == "multiple" else chosen[:1]
    return data


def _right(step, confidence=4):
    question = step.question
    if question.qtype == "numeric":
        value = expression_evaluate(question.answer, step.parameters)
        return {"numeric_value": str(value), "confidence": confidence}
    return {**_choice_post(step, lambda c: c.is_correct), "confidence": confidence}


def _wrong(step, confidence=4, code=None):
    """A wrong answer; with `code`, one whose wrong choice points at that misconception."""

    def pick(choice):
        if choice.is_correct:
            return False
        return code is None or {m.code for m in choice.misconceptions.all()} == {code}

    data = _choice_post(step, pick)
    for name, chosen in data.items():
        if not chosen:  # this tier has no such wrong choice: answer it right
            tier = 2 if name == "choice-tier2" else 1
            data[name] = [
                c.id for c in step.question.choices.all() if c.tier == tier and c.is_correct
            ][:1]
    return {**data, "confidence": confidence}


def _answer(client, step, data):
    return client.post(f"/practice/steps/{step.id}/answer/", data)


def _html(response):
    return response.content.decode()


# The list of courses


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/practice/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_list_has_an_empty_state(client_in):
    html = _html(client_in.get("/practice/"))
    assert "You are not in any course yet" in html
    # and the site's navigation and the quiz list lead here
    assert 'href="/practice/">Practice</a>' in html
    assert 'href="/practice/"' in _html(client_in.get("/"))


def test_the_list_shows_each_course_with_its_progress(client_in, course, learner):
    # given: a course the learner is in and one they teach, and one they have nothing to do with
    taught = Course.objects.create(slug="taught", title="Taught course")
    taught.instructors.add(learner)
    Course.objects.create(slug="other", title="Somebody else's course")
    # when
    html = _html(client_in.get("/practice/"))
    # then
    assert "Dropout 101" in html
    assert "Taught course" in html
    assert "practice here is a preview" in html
    assert "Somebody else" not in html
    # 14 misconceptions and 2 prerequisites (DO-ILLUSION is shown by explanations alone)
    assert "0 of 16 ideas settled" in html
    assert f'action="/practice/courses/{course.id}/start/"' in html
    assert ">Practise</button>" in html


def test_the_list_counts_mastered_ideas(client_in, course, learner):
    # given: the learner has settled one prerequisite
    Mastery.objects.create(
        course=course,
        learner=learner,
        misconception=Misconception.objects.get(code="PRE-NEURON"),
        p_known=0.99,
    )
    # then
    assert "1 of 16 ideas settled" in _html(client_in.get("/practice/"))


def test_someone_outside_the_course_cannot_practise_in_it(client, course):
    client.force_login(UserFactory.create(username="eve"))
    assert client.post(f"/practice/courses/{course.id}/start/").status_code == 404
    response = client.get(f"/practice/courses/{course.id}/")
    assert response.status_code == 404
    assert "No such course." in _html(response)


# One step at a time


def test_the_course_page_offers_a_start_before_any_session(client_in, course):
    html = _html(client_in.get(f"/practice/courses/{course.id}/"))
    assert "Start practice" in html
    assert f'action="/practice/courses/{course.id}/start/"' in html


def test_starting_shows_the_first_step_without_its_answers(client_in, course):
    # when
    session = _start(client_in, course)
    response = client_in.get(f"/practice/courses/{course.id}/")
    # then: the reason, the kind, the progress, the question form with a slider, a stop button
    html = _html(response)
    step = _pending(session)
    assert response.status_code == 200
    assert step.kind == Kind.PREREQUISITE
    assert "First, a quick check of something dropout builds on" in html
    assert "Prerequisite check" in html
    assert "0 of 16 ideas settled" in html
    assert 'type="range"' in html
    assert f'action="/practice/steps/{step.id}/answer/"' in html
    assert f'action="/practice/sessions/{session.id}/stop/"' in html
    assert "Stop for now" in html
    # the choices in the step's shuffled order, and no feedback or verdict
    positions = [html.index(f'value="{choice_id}"') for choice_id in step.choice_order]
    assert positions == sorted(positions)
    for choice in step.question.choices.all():
        assert escape(choice.feedback) not in html
    assert escape(step.question.feedback) not in html
    # starting again resumes the same session
    assert _start(client_in, course) == session


def test_a_right_answer_shows_its_feedback_and_moves_on(client_in, course):
    # given
    session = _start(client_in, course)
    step = _pending(session)
    # when
    response = _answer(client_in, step, _right(step, confidence=5))
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/practice/steps/{step.id}/feedback/"
    html = _html(client_in.get(response["Location"]))
    assert "Right" in html
    assert "Not right" not in html
    assert escape(step.question.feedback) in html
    assert "Before going on" not in html
    # the prerequisite's P(known) moved from its prior (0.8) after one right answer
    assert "What an artificial neuron computes: 80% → <strong>96%</strong>" in html
    assert "Confidence check:" in html
    assert f'id="next" href="/practice/courses/{course.id}/"' in html
    # and the course page now shows the next step
    following = _pending(session)
    assert following.number == 2
    assert escape(following.reason) in _html(client_in.get(f"/practice/courses/{course.id}/"))


def test_a_missed_prerequisite_comes_with_a_lesson_and_a_fresh_check(client_in, course):
    # given
    session = _start(client_in, course)
    step = _pending(session)
    neuron = Misconception.objects.get(code="PRE-NEURON")
    # when
    response = _answer(client_in, step, _wrong(step, confidence=2))
    # then: the lesson says what is true and gives the everyday analogy
    html = _html(client_in.get(response["Location"]))
    assert "Not right" in html
    assert "Before going on: What an artificial neuron computes" in html
    assert escape(neuron.truth) in html
    assert "Think of it this way:" in html
    assert escape(neuron.analogy[:60]) in html
    assert "80% → <strong>53%</strong>" in html
    # the wrong choice's feedback and the right answer are shown
    assert "Right answer:" in html
    # and the next step is a fresh check on the same prerequisite, on another item
    recheck = _pending(session)
    assert recheck.kind == Kind.RECHECK
    assert recheck.question_id != step.question_id
    page = _html(client_in.get(f"/practice/courses/{course.id}/"))
    assert "A fresh check on" in page
    assert "Fresh check after an explanation" in page


def test_a_wrong_answer_names_the_misconception_with_its_truth(client_in, course):
    # given: a course practising one DO-TEST item and another to come back with
    _only(course, "test-eval-a", "test-random-tf-a")
    session = _start(client_in, course)
    step = _pending(session)
    assert step.question.slug == "test-eval-a"
    test = Misconception.objects.get(code="DO-TEST")
    # when: answered wrongly and sure
    response = _answer(client_in, step, _wrong(step, confidence=5, code="DO-TEST"))
    # then
    html = _html(client_in.get(response["Location"]))
    assert "What your answer points at" in html
    assert escape(test.title) in html
    assert escape(test.truth) in html
    assert "An everyday picture:" in html
    assert escape(test.analogy[:60]) in html
    assert "Before going on" not in html
    assert "You were more sure than right by 100 points." in html
    # and the next item comes at the same idea from another angle, saying they were sure
    again = _pending(session)
    assert again.kind == Kind.REMEDIATION
    assert again.question.slug == "test-random-tf-a"
    assert "You were sure (confidence 5 of 5)" in _html(
        client_in.get(f"/practice/courses/{course.id}/")
    )


def test_a_numeric_step_takes_a_number(client_in, course):
    # given
    _only(course, "num-eval-value-b")
    session = _start(client_in, course)
    step = _pending(session)
    assert 'id="numeric_value"' in _html(client_in.get(f"/practice/courses/{course.id}/"))
    # when
    bad = _answer(client_in, step, {"numeric_value": "lots", "confidence": 3})
    good = _answer(client_in, step, _right(step))
    # then
    assert bad.status_code == 400
    assert "is not a number" in _html(bad)
    assert good.status_code == 302
    html = _html(client_in.get(good["Location"]))
    assert "Right" in html
    assert "Your answer:" in html


# Bad input changes nothing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"confidence": "3"}, "Choose an answer before going on."),
        ("right-without-confidence", CONFIDENCE_MESSAGE),
        ("right-with-confidence-9", CONFIDENCE_MESSAGE),
        ({"choice": "999999", "confidence": "3"}, "Not an option of this question: 999999."),
        (
            {"choice": "abc", "confidence": "3"},
            "&#x27;abc&#x27; is not an option of this question.",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_named(client_in, course, data, message):
    # given
    session = _start(client_in, course)
    step = _pending(session)
    if data == "right-without-confidence":
        data = {k: v for k, v in _right(step).items() if k != "confidence"}
    elif data == "right-with-confidence-9":
        data = {**_right(step), "confidence": "9"}
    # when
    response = _answer(client_in, step, data)
    # then: the form again, with the message, and nothing recorded
    assert response.status_code == 400
    html = _html(response)
    assert message in html
    assert 'role="alert"' in html
    assert f'action="/practice/steps/{step.id}/answer/"' in html
    step.refresh_from_db()
    assert step.state == "open"
    assert step.answered_at is None
    assert step.confidence is None
    assert not step.selected_choices.exists()
    assert session.steps.count() == 1


def test_a_refused_answer_keeps_what_was_chosen(client_in, course):
    # given
    session = _start(client_in, course)
    step = _pending(session)
    choice = step.question.choices.first()
    # when: no confidence rating
    response = _answer(client_in, step, {"choice": choice.id})
    # then: the choice is still ticked
    assert response.status_code == 400
    assert f'value="{choice.id}" checked' in _html(response)


def test_a_done_step_cannot_be_answered_again(client_in, course):
    # given
    session = _start(client_in, course)
    step = _pending(session)
    _answer(client_in, step, _right(step))
    # when: the same answer again, and a malformed one
    again = _answer(client_in, step, _wrong(step))
    malformed = _answer(client_in, step, {"choice": "abc"})
    # then
    for response in (again, malformed):
        assert response.status_code == 409
        assert "already been answered" in _html(response)
        assert f'href="/practice/courses/{course.id}/"' in _html(response)
    step.refresh_from_db()
    assert step.is_correct is True
    assert session.steps.count() == 2


def test_another_learners_step_and_session_are_not_found(client, course, learner):
    # given: ada's session
    session = _start_for(learner, course)
    step = _pending(session)
    # when: bob tries them
    client.force_login(UserFactory.create(username="bob"))
    responses = [
        client.post(f"/practice/steps/{step.id}/answer/", _right(step)),
        client.post(f"/practice/steps/{step.id}/code/", {"code": "x", "confidence": 3}),
        client.post(f"/practice/steps/{step.id}/self-check/", {"idea": 0}),
        client.get(f"/practice/steps/{step.id}/feedback/"),
        client.get(f"/practice/steps/{step.id}/status/"),
        client.post(f"/practice/sessions/{session.id}/stop/"),
    ]
    # then
    assert [r.status_code for r in responses] == [404] * 6
    assert responses[4].json()["error"]["code"] == "not_found"
    step.refresh_from_db()
    session.refresh_from_db()
    assert step.state == "open"
    assert session.is_active


def _start_for(user, course):
    return session_open(course=course, learner=user)


def test_the_status_of_an_open_step(client_in, course):
    step = _pending(_start(client_in, course))
    assert client_in.get(f"/practice/steps/{step.id}/status/").json() == {
        "state": "open",
        "finished": False,
        "could_not_grade": False,
    }
    # and its feedback page sends the learner back to the question
    response = client_in.get(f"/practice/steps/{step.id}/feedback/")
    assert response.status_code == 302
    assert response["Location"] == f"/practice/courses/{course.id}/"


# Explain it back


def _to_explain_back(client, course):
    """Answer the course's one probe right, which leaves the explain-back."""
    _only(course, "speed-epochs-tf-a", "explain-what-why-a")
    session = _start(client, course)
    probe = _pending(session)
    _answer(client, probe, _right(probe, confidence=4))
    step = _pending(session)
    assert step.kind == Kind.EXPLAIN_BACK
    return session, step


def test_an_explain_back_is_written_then_checked_against_its_key_ideas(client_in, course):
    # given
    session, step = _to_explain_back(client_in, course)
    page = _html(client_in.get(f"/practice/courses/{course.id}/"))
    assert "Explain it back" in page
    assert 'id="text"' in page
    # when: no text, then the explanation
    empty = _answer(client_in, step, {"text": " ", "confidence": 3})
    text = (
        "Units are zeroed at random, with a new mask on every training pass, so no unit can "
        "rely on particular other units."
    )
    written = _answer(client_in, step, {"text": text, "confidence": 4})
    # then
    assert empty.status_code == 400
    assert "Write your explanation before going on." in _html(empty)
    assert written.status_code == 302
    assert written["Location"] == f"/practice/courses/{course.id}/"
    html = _html(client_in.get(written["Location"]))
    assert "Tick each idea your explanation contains" in html
    assert escape(text) in html
    assert "The service's reading" not in html  # shown after the learner's own check
    for idea in step.question.key_ideas:
        assert escape(idea) in html
    # when: the two ideas the text has ticked, and a third it does not have
    checked = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": [0, 1, 2]})
    # then: the model answer, what is missing (the ticked idea the reading did not find
    # too), the reading beside the ticks, and that practice goes back to what is missing
    assert checked["Location"] == f"/practice/steps/{step.id}/feedback/"
    html = _html(client_in.get(checked["Location"]))
    assert "Your explanation left out 2 key ideas" in html
    assert escape(step.question.model_answer) in html
    assert escape(f"✗ Missing: {step.question.key_ideas[2]}") in html
    assert escape(f"✓ In your explanation: {step.question.key_ideas[0]}") in html
    assert "The service's reading: found: “Units are zeroed at random, with a new" in html
    assert "The service's reading: I could not find this in your explanation." in html
    assert html.count("you ticked it") == 3
    assert "the next items go back to what your explanation left out" in html
    session.refresh_from_db()
    assert session.is_active


def test_a_complete_explanation_ends_with_the_summary(client_in, course):
    # given
    session, step = _to_explain_back(client_in, course)
    _answer(client_in, step, {"text": step.question.model_answer, "confidence": 5})
    ideas = list(range(len(step.question.key_ideas)))
    # when
    checked = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": ideas})
    # then: the feedback and, with the session over, its summary with calibration
    html = _html(client_in.get(checked["Location"]))
    session.refresh_from_db()
    assert session.state == "finished"
    assert "Your explanation has every key idea" in html
    assert "Session complete" in html
    assert "How sure you were" in html
    assert "<caption>This session:" in html
    assert escape(step.question.model_answer) in html
    assert "Practise again" in html
    assert 'id="next"' not in html
    # the same summary on the course page
    assert "Session complete" in _html(client_in.get(f"/practice/courses/{course.id}/"))


def test_ticks_the_reading_does_not_find_do_not_complete_an_explanation(client_in, course):
    # given: a text that claims understanding but says none of the key ideas
    session, step = _to_explain_back(client_in, course)
    _answer(client_in, step, {"text": "Dropout, fully explained.", "confidence": 5})
    ideas = list(range(len(step.question.key_ideas)))
    # when: every idea ticked
    checked = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": ideas})
    # then: a claim is not evidence: nothing is credited and practice goes on
    html = _html(client_in.get(checked["Location"]))
    session.refresh_from_db()
    step.refresh_from_db()
    assert session.is_active
    assert step.is_correct is False
    assert f"Your explanation left out {len(ideas)} key ideas" in html
    assert html.count("you ticked it") == len(ideas)
    assert "DO-ILLUSION" in set(step.revealed.values_list("code", flat=True))


def test_a_self_check_refuses_unknown_ideas(client_in, course):
    # given
    _session, step = _to_explain_back(client_in, course)
    _answer(client_in, step, {"text": "Something.", "confidence": 3})
    # when
    word = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": "all"})
    far = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": [1, 42]})
    # then
    assert word.status_code == 400
    assert "Tick key ideas from the list." in _html(word)
    assert far.status_code == 400
    assert "Unknown key idea(s): 42." in _html(far)
    assert 'value="1" checked' in _html(far)
    step.refresh_from_db()
    assert step.state == "checking"
    assert step.self_assessed_ideas is None


def test_the_summary_shows_an_instructors_review(client_in, course, learner):
    # given: a finished explain-back, reviewed
    _session, step = _to_explain_back(client_in, course)
    _answer(client_in, step, {"text": step.question.model_answer, "confidence": 5})
    client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": [0, 1, 2, 3]})
    teacher = UserFactory.create(username="tess", first_name="Tess")
    explanation_review(
        step_id=step.id, course=course, reviewer=teacher, ideas=[0, 1], comment="Say more on 3."
    )
    # when
    html = _html(client_in.get(f"/practice/courses/{course.id}/"))
    # then
    assert "Tess reviewed it:" in html
    assert "Say more on 3." in html
    assert "your instructor did not find it" in html
    assert "your instructor found it" in html


def test_a_sure_wrong_answer_is_explained_back_from_the_catalogue_when_no_item_covers_it(
    client_in, course
):
    # given: a course practising two DO-GRADIENT items and the closing explain item, none
    # of whose key ideas is about gradients
    _only(course, "gradient-twotier-a", "gradient-dropped-tf-b", "explain-what-why-a")
    session = _start(client_in, course)
    gradient = Misconception.objects.get(code="DO-GRADIENT")
    # when: sure (5 of 5) that dropped units still pass gradient back
    probe = _pending(session)
    assert probe.question.slug == "gradient-twotier-a"
    _answer(client_in, probe, _wrong(probe, confidence=5, code="DO-GRADIENT"))
    # then: first the other angle, answered right
    angle = _pending(session)
    assert angle.kind == Kind.REMEDIATION and angle.question.slug == "gradient-dropped-tf-b"
    _answer(client_in, angle, _right(angle))
    # then: the idea the learner was sure of, in their own words, from the catalogue's prompt
    explain = _pending(session)
    assert explain.kind == Kind.EXPLAIN_BACK and explain.question is None
    assert explain.target == gradient
    page = _html(client_in.get(f"/practice/courses/{course.id}/"))
    assert (
        escape(
            "Two steps ago you were sure (confidence 5 of 5) of an answer that pointed at "
            "“Dropped units still pass gradient”. Explain that idea back in your own words."
        )
        in page
    )
    assert escape(gradient.explain_prompt) in page
    assert 'id="text"' in page
    written = _answer(
        client_in, explain, {"text": "The gradient goes back to every unit.", "confidence": 4}
    )
    assert written["Location"] == f"/practice/courses/{course.id}/"
    # the self-check has one key idea: what the catalogue says is true
    check = _html(client_in.get(f"/practice/courses/{course.id}/"))
    assert "Tick each idea your explanation contains" in check
    assert escape(gradient.truth) in check
    assert check.count('name="idea"') == 1
    # when: the learner finds it is not in their text
    checked = client_in.post(f"/practice/steps/{explain.id}/self-check/", {})
    # then: a wrong answer on DO-GRADIENT and on DO-ILLUSION, and the session goes on
    html = _html(client_in.get(checked["Location"]))
    assert "Your explanation left out 1 key idea" in html
    assert escape(f"✗ Missing: {gradient.truth}") in html
    explain.refresh_from_db()
    assert explain.is_correct is False
    # DO-GRADIENT: .5 -> .2 (the sure answer), right on the other angle: .18/.34 = .529412;
    # +.470588*.1 = .576471; left out: .057647/(.057647+.338824) = .145401; +.854599*.1 = .230861
    assert explain.mastery_after == {
        "DO-GRADIENT": pytest.approx(0.230861, abs=1e-4),
        "DO-ILLUSION": pytest.approx(0.2, abs=1e-4),  # .05/.45 = .111111; +.888889*.1
    }
    session.refresh_from_db()
    assert session.is_active
    # and the closing explain-back about dropout still comes (no DO-GRADIENT item is left)
    closing = _pending(session)
    assert closing.kind == Kind.EXPLAIN_BACK and closing.target is None
    assert closing.question.slug == "explain-what-why-a"
    assert "Last step" in closing.reason


# Stop and resume


def test_stopping_keeps_progress_and_practice_resumes_from_what_is_open(client_in, course):
    # given: the first prerequisite answered right
    session = _start(client_in, course)
    step = _pending(session)
    _answer(client_in, step, _right(step, confidence=5))
    # when
    stopped = client_in.post(f"/practice/sessions/{session.id}/stop/")
    # then: the summary says progress is kept
    assert stopped.status_code == 302
    html = _html(client_in.get(stopped["Location"]))
    assert "You stopped here" in html
    assert "Your progress is kept" in html
    assert "Still open (15)" in html
    assert "Settled (1)" in html
    assert "Practise again" in html
    session.refresh_from_db()
    assert session.state == "stopped"
    # answering the step left open is refused, and says how to go on
    left = _pending(session)
    refused = _answer(client_in, left, _right(left))
    assert refused.status_code == 409
    assert "open practice again" in _html(refused)
    # when: practising again
    again = _start(client_in, course)
    # then: a new session without the settled prerequisite
    assert again != session
    assert "PRE-NEURON" not in again.agenda
    assert "0 of 15 ideas settled" in _html(client_in.get(f"/practice/courses/{course.id}/"))


# Calibration


def test_the_summary_tabulates_calibration(client_in, course):
    # given: one right at confidence 5, one wrong at confidence 5, then stopped
    _only(course, "test-random-tf-a", "speed-epochs-tf-a", "num-eval-value-b")
    session = _start(client_in, course)
    first = _pending(session)
    _answer(client_in, first, _right(first, confidence=5))
    second = _pending(session)
    _answer(client_in, second, _wrong(second, confidence=5))
    client_in.post(f"/practice/sessions/{session.id}/stop/")
    # when
    html = _html(client_in.get(f"/practice/courses/{course.id}/"))
    # then: sure 100% on average, right 50%
    assert "<caption>This session: You were more sure than right by 50 points.</caption>" in html
    assert '<th scope="row">5 - certain</th><td>2</td><td>1</td><td>50%</td>' in html
    assert "Mean confidence when right: 5.0 · when wrong: 5.0" in html
    assert "sure minus right: +50 points" in html


def test_calibration_figures():
    # given: answers at confidence (right?): 5 (yes), 5 (no), 4 (no), 1 (yes)
    calibration = _calibration_of([(5, True), (5, False), (4, False), (1, True)])
    # then: sure (5+5+4+1)/20 = 75%, right 50%
    assert calibration.answers == 4
    assert calibration.percent_sure == 75
    assert calibration.percent_right == 50
    assert calibration.gap_points == 25
    assert calibration.sentence == "You were more sure than right by 25 points."
    assert calibration.mean_confidence_right == 3.0
    assert calibration.mean_confidence_wrong == 4.5
    assert [level.answers for level in calibration.levels] == [0, 1, 0, 0, 1, 2]
    # under-confidence and agreement read differently
    assert "right more often than you were sure, by 70 points" in (
        _calibration_of([(2, True), (1, True)]).sentence
    )
    assert _calibration_of([(4, True)] * 4 + [(4, False)]).sentence.startswith(
        "Your confidence matched"
    )
    assert _calibration_of([]).gap_points is None


def _calibration_of(rows):
    learner = UserFactory.create()
    course = Course.objects.create(slug=f"cal-{learner.username}", title="Calibration")
    session = PracticeSession.objects.create(
        course=course, learner=learner, started_at=timezone.now()
    )
    question = QuestionFactory.create()
    for number, (confidence, correct) in enumerate(rows, start=1):
        PracticeStep.objects.create(
            session=session,
            number=number,
            kind=Kind.PROBE,
            state="done",
            question=question,
            reason="r",
            confidence=confidence,
            is_correct=correct,
        )
    # an unanswered step and one without a verdict do not count
    PracticeStep.objects.create(
        session=session, number=99, kind=Kind.PROBE, question=question, reason="r"
    )
    return session_calibration(session=session)


# Queries


def test_the_step_page_costs_the_same_queries_however_long_the_session(
    client_in, course, django_assert_max_num_queries
):
    # given
    session = _start(client_in, course)
    url = f"/practice/courses/{course.id}/"
    with CaptureQueriesContext(connection) as first:
        assert client_in.get(url).status_code == 200
    # when: six more steps answered
    for _ in range(6):
        step = _pending(session)
        _answer(client_in, step, _right(step))
    # then
    with django_assert_max_num_queries(10):
        assert client_in.get(url).status_code == 200
    with CaptureQueriesContext(connection) as later:
        client_in.get(url)
    assert len(later) == len(first)
    # and the feedback page stays flat too
    done = session.steps.filter(state="done").order_by("-number").first()
    # (one of them reads which items the course holds for its post-test)
    with django_assert_max_num_queries(19):
        assert client_in.get(f"/practice/steps/{done.id}/feedback/").status_code == 200


# Code steps, graded by the real worker


def _wait(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_a_code_step_is_graded_while_its_page_waits(celery_worker, client, learner):
    # given: a course practising the forward-pass exercise only
    catalog_load()
    course = Course.objects.create(slug="code-course", title="Code course")
    Enrollment.objects.create(course=course, learner=learner)
    _only(course, "code-dropout-forward")
    client.force_login(learner)
    session = _start(client, course)
    step = _pending(session)
    page = _html(client.get(f"/practice/courses/{course.id}/"))
    assert f'action="/practice/steps/{step.id}/code/"' in page
    assert 'name="code"' in page
    assert "def dropout_forward" in page
    reference = exercise_get("dropout-forward").reference_source
    # when: no confidence, no code, then the reference
    unrated = client.post(f"/practice/steps/{step.id}/code/", {"code": reference})
    empty = client.post(f"/practice/steps/{step.id}/code/", {"code": " ", "confidence": 4})
    sent = client.post(f"/practice/steps/{step.id}/code/", {"code": reference, "confidence": 4})
    # then
    assert unrated.status_code == 400
    assert CONFIDENCE_MESSAGE in _html(unrated)
    assert empty.status_code == 400
    assert "Write some code before submitting." in _html(empty)
    assert sent.status_code == 302
    assert sent["Location"] == f"/practice/steps/{step.id}/feedback/"
    # the waiting page polls the status and refreshes without JavaScript
    _wait(lambda: PracticeStep.objects.get(id=step.id).state in ("grading", "done"))
    if PracticeStep.objects.get(id=step.id).state == "grading":
        waiting = _html(client.get(sent["Location"]))
        assert "Grading your code" in waiting
        assert 'aria-live="polite"' in waiting
        assert '<noscript><meta http-equiv="refresh"' in waiting
        assert f'data-status-url="/practice/steps/{step.id}/status/"' in waiting
    _wait(lambda: client.get(f"/practice/steps/{step.id}/status/").json()["finished"])
    assert client.get(f"/practice/steps/{step.id}/status/").json() == {
        "state": "done",
        "finished": True,
        "could_not_grade": False,
    }
    html = _html(client.get(sent["Location"]))
    assert "Grader's verdict:</strong> Passed, 100% of checks passed" in html
    assert "check-pass" in html
    assert "Right" in html
    # and sending again is refused
    assert (
        client.post(f"/practice/steps/{step.id}/code/", {"code": "x", "confidence": 1}).status_code
        == 409
    )
