"""The misconception heatmap, prevalence, per-question CRI matrix, Hake's gain and a
learner's profile, on small hand-made classes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.misconceptions import course_gain, course_misconceptions, learner_profile
from assessments.models import Attempt, Misconception, Question, Quiz, Response
from core.errors import NotFoundError
from courses.models import Course, Enrollment
from grader.models import Submission
from tests.factories import UserFactory, quiz_of, single, true_false

pytestmark = pytest.mark.django_db


def _course() -> tuple[Course, Quiz, Quiz, list[Question]]:
    course = Course.objects.create(slug="c", title="Course")
    # q1 probes DO-SPEED (wrong A reveals it), q2 probes DO-DATA (True reveals it)
    questions = [single(), true_false()]
    pre = quiz_of(*questions, course=course, role=Quiz.Role.PRE, slug="pre")
    post = quiz_of(*questions, course=course, role=Quiz.Role.POST, slug="post")
    QUESTIONS[:] = questions
    return course, pre, post, questions


QUESTIONS: list[Question] = []  # the two questions both tests ask, in slot order


def _answer(
    quiz: Quiz, learner: Any, answers: list[tuple[bool, int, tuple[str, ...]]], number: int = 1
) -> Attempt:
    """answers: per question (right?, confidence, misconceptions revealed)."""
    questions = QUESTIONS
    score = sum(1 for right, _, _ in answers if right)
    attempt = Attempt.objects.create(
        quiz=quiz, learner=learner, number=number, seed=1, state=Attempt.State.SUBMITTED,
        started_at=timezone.now(), submitted_at=timezone.now(), score=Decimal(score),
        max_score=Decimal(len(answers)),
    )  # fmt: skip
    for slot, (question, (right, confidence, codes)) in enumerate(
        zip(questions, answers, strict=True), start=1
    ):
        response = Response.objects.create(
            attempt=attempt, slot=slot, question=question, mark=Decimal(int(right)),
            max_mark=Decimal(1), is_correct=right, confidence=confidence,
            answered_at=timezone.now(),
        )  # fmt: skip
        pick = question.choices.filter(is_correct=right).order_by("position").first()
        assert pick is not None
        response.selected_choices.add(pick)
        response.misconceptions.set(Misconception.objects.filter(code__in=codes))
    return attempt


def _enrol(course: Course, count: int) -> list[Any]:
    learners = [UserFactory.create(username=f"l{i}") for i in range(count)]
    for learner in learners:
        Enrollment.objects.create(course=course, learner=learner)
    return learners


def _cell(data: dict[str, Any], learner: Any, code: str) -> dict[str, Any] | None:
    return next(
        (c for c in data["cells"] if c["learner"] == learner.id and c["code"] == code), None
    )


def test_each_learner_lands_in_the_cri_quadrant_of_their_answers():
    course, pre, _, _ = _course()
    sure_wrong, unsure_wrong, sure_right, unsure_right = _enrol(course, 4)
    _answer(pre, sure_wrong, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    _answer(pre, unsure_wrong, [(False, 1, ("DO-SPEED",)), (True, 1, ())])
    _answer(pre, sure_right, [(True, 4, ()), (True, 5, ())])
    _answer(pre, unsure_right, [(True, 2, ()), (False, 2, ("DO-DATA",))])
    data = course_misconceptions(course=course)
    expected = {
        (sure_wrong, "DO-SPEED"): "misconception",
        (sure_wrong, "DO-DATA"): "knowledge",
        (unsure_wrong, "DO-SPEED"): "gap",
        (unsure_wrong, "DO-DATA"): "lucky_guess",
        (sure_right, "DO-SPEED"): "knowledge",
        (unsure_right, "DO-SPEED"): "lucky_guess",
        (unsure_right, "DO-DATA"): "gap",
    }
    for (learner, code), quadrant in expected.items():
        cell = _cell(data, learner, code)
        assert cell is not None and cell["quadrant"] == quadrant, (learner.username, code, cell)
    speed = next(m for m in data["misconceptions"] if m["code"] == "DO-SPEED")
    assert (speed["holding"], speed["confident"]) == (2, 1)
    assert speed["confident_share"] == 50
    assert [u["username"] for u in data["learners"]] == ["l0", "l1", "l2", "l3"]


def test_the_question_matrix_gives_mean_confidence_of_right_and_wrong_answers():
    course, pre, _, questions = _course()
    a, b, c = _enrol(course, 3)
    _answer(pre, a, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    _answer(pre, b, [(False, 3, ("DO-SPEED",)), (True, 2, ())])
    _answer(pre, c, [(True, 1, ()), (True, 3, ())])
    rows = {r["question"]: r for r in course_misconceptions(course=course)["questions"]}
    first = rows[questions[0].id]
    assert (first["right"], first["wrong"]) == (1, 2)
    assert first["mean_confidence_wrong"] == 4.0
    assert first["mean_confidence_right"] == 1.0
    assert first["codes"] == {"DO-SPEED": 2}
    assert rows[questions[1].id]["mean_confidence_right"] == 3.0


def test_instructors_previews_and_strangers_are_left_out():
    course, pre, _, _ = _course()
    (learner,) = _enrol(course, 1)
    teacher, stranger = UserFactory.create(), UserFactory.create()
    course.instructors.add(teacher)
    Enrollment.objects.create(course=course, learner=teacher)
    _answer(pre, learner, [(True, 4, ()), (True, 4, ())])
    _answer(pre, teacher, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    _answer(pre, stranger, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    preview = _answer(pre, UserFactory.create(), [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    preview.is_preview = True
    preview.save()
    data = course_misconceptions(course=course)
    assert {c["learner"] for c in data["cells"]} == {learner.id}


def test_failing_practice_code_counts_as_held():
    course, pre, _, _ = _course()
    (learner,) = _enrol(course, 1)
    _answer(pre, learner, [(True, 2, ()), (True, 2, ())])
    for status in (Submission.Status.PASSED, Submission.Status.FAILED):
        submission = Submission.objects.create(
            learner=learner, exercise="dropout-forward", code="x", seed=1,
            queued_at=timezone.now(), status=status,
        )  # fmt: skip
    submission.misconceptions.set(Misconception.objects.filter(code="DO-SPEED"))
    cell = _cell(course_misconceptions(course=course), learner, "DO-SPEED")
    assert cell is not None
    assert cell["quadrant"] == "misconception"
    assert (cell["right"], cell["wrong"]) == (1, 1)


def test_hake_gain_on_matched_learners_and_per_misconception():
    course, pre, post, _ = _course()
    a, b, c = _enrol(course, 3)
    # pre: a 0/2, b 1/2; post: a 2/2, b 1/2; c only took the pre-test (not matched)
    _answer(pre, a, [(False, 4, ("DO-SPEED",)), (False, 4, ("DO-DATA",))])
    _answer(pre, b, [(True, 4, ()), (False, 1, ("DO-DATA",))])
    _answer(pre, c, [(True, 4, ()), (True, 4, ())])
    _answer(post, a, [(True, 4, ()), (True, 4, ())])
    _answer(post, b, [(True, 4, ()), (False, 4, ("DO-DATA",))])
    gain = course_gain(course=course)
    assert gain["learners_matched"] == 2
    assert gain["pre_percent"] == pytest.approx(25.0)
    assert gain["post_percent"] == pytest.approx(75.0)
    assert gain["gain"] == pytest.approx((75 - 25) / (100 - 25))
    assert gain["band"] == "medium"
    shares = {m["code"]: (m["before"], m["after"]) for m in gain["per_misconception"]}
    assert shares == {"DO-SPEED": (50.0, 0.0), "DO-DATA": (100.0, 50.0)}


@pytest.mark.parametrize(("post_score", "band"), [(0, "low"), (2, "high")])
def test_hake_bands(post_score, band):
    course, pre, post, _ = _course()
    (learner,) = _enrol(course, 1)
    _answer(pre, learner, [(False, 4, ()), (False, 4, ())])
    _answer(post, learner, [(i < post_score, 4, ()) for i in range(2)])
    assert course_gain(course=course)["band"] == band


def test_gain_says_why_it_is_missing():
    course = Course.objects.create(slug="empty", title="Empty")
    assert "pre-test and a post-test" in course_gain(course=course)["note"]
    course, _, _, _ = _course()
    assert "No learner has finished both" in course_gain(course=course)["note"]


def test_a_learners_profile_lists_attempts_oldest_first():
    course, pre, post, _ = _course()
    (learner,) = _enrol(course, 1)
    _answer(pre, learner, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    _answer(post, learner, [(True, 4, ()), (True, 4, ())])
    profile = learner_profile(course=course, learner_id=learner.id)
    assert [a["quiz"] for a in profile["attempts"]] == [pre.id, post.id]
    first = {d["code"]: d["quadrant"] for d in profile["attempts"][0]["diagnoses"]}
    assert first["DO-SPEED"] == "misconception"
    assert profile["attempts"][1]["percent"] == 100
    with pytest.raises(NotFoundError):
        learner_profile(course=course, learner_id=UserFactory.create().id)


def test_the_number_of_queries_does_not_grow_with_the_class(django_assert_max_num_queries):
    course, pre, post, _ = _course()
    learners = _enrol(course, 20)
    for learner in learners[:2]:
        _answer(pre, learner, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
        _answer(post, learner, [(True, 4, ()), (True, 4, ())])
    with CaptureQueriesContext(connection) as small:
        course_misconceptions(course=course)
        course_gain(course=course)
    for learner in learners[2:]:
        _answer(pre, learner, [(False, 5, ("DO-SPEED",)), (False, 1, ("DO-DATA",))])
        _answer(post, learner, [(True, 4, ()), (False, 4, ("DO-DATA",))])
    with django_assert_max_num_queries(len(small.captured_queries)):
        course_misconceptions(course=course)
        course_gain(course=course)


def test_course_quizzes_are_for_enrolled_learners_and_previews_for_instructors():
    from assessments import selectors, services

    course, _, post, _ = _course()  # the post-test's banks hold the questions
    (learner,) = _enrol(course, 1)
    teacher, stranger = UserFactory.create(), UserFactory.create()
    course.instructors.add(teacher)
    assert post in [card.quiz for card in selectors.quizzes_for_learner(learner=learner)]
    assert post not in [card.quiz for card in selectors.quizzes_for_learner(learner=stranger)]
    with pytest.raises(NotFoundError):
        services.attempt_start(quiz=post, learner=stranger)
    assert services.attempt_start(quiz=post, learner=teacher).is_preview
    assert not services.attempt_start(quiz=post, learner=learner).is_preview


def test_learners_and_cells_come_a_page_at_a_time_prevalence_for_everyone():
    course, pre, _, _ = _course()
    learners = _enrol(course, 5)
    for learner in learners:
        _answer(pre, learner, [(False, 5, ("DO-SPEED",)), (True, 4, ())])
    data = course_misconceptions(course=course, page=2, page_size=2)
    assert (data["learners_total"], data["pages"], data["page"]) == (5, 3, 2)
    assert [u["username"] for u in data["learners"]] == ["l2", "l3"]
    assert {c["learner"] for c in data["cells"]} == {learners[2].id, learners[3].id}
    speed = next(m for m in data["misconceptions"] if m["code"] == "DO-SPEED")
    assert speed["holding"] == 5
    assert course_misconceptions(course=course, page=99, page_size=2)["page"] == 3
