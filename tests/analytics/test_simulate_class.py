"""`manage.py simulate_class`: a simulated class takes its pre- and post-test through the services."""

from __future__ import annotations

import json
from io import StringIO
from statistics import fmean

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.simulation import (
    ClassModel,
    Distractor,
    Item,
    LearnerState,
    Option,
    answer_draw,
    learner_draw,
    prevalences_draw,
    rng_for,
)
from assessments.models import Attempt, Quiz, QuizSection, Response
from courses.models import Course, Enrollment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LEARNERS = 12


@pytest.fixture
def catalog():
    call_command("load_catalog", stdout=StringIO())


def simulate(*args: str) -> list[str]:
    out = StringIO()
    call_command("simulate_class", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()


def counts(course: Course) -> tuple[int, int, int, int]:
    return (
        User.objects.filter(username__startswith=f"{course.slug}-learner-").count(),
        Enrollment.objects.filter(course=course).count(),
        Attempt.objects.filter(quiz__course=course).count(),
        Response.objects.filter(attempt__quiz__course=course).count(),
    )


def test_a_class_takes_both_tests_and_learns(catalog):
    # when
    lines = simulate("--course", "sim", "--learners", str(LEARNERS), "--seed", "7")
    # then: the last line names the course and its two quizzes
    summary = json.loads(lines[-1])
    course = Course.objects.get(slug="sim")
    pre = Quiz.objects.get(id=summary["pre_quiz"])
    post = Quiz.objects.get(id=summary["post_quiz"])
    assert summary == {"course": "sim", "pre_quiz": pre.id, "post_quiz": post.id}
    assert (pre.slug, pre.role, pre.course) == ("sim-pretest", Quiz.Role.PRE, course)
    assert (post.slug, post.role, post.course) == ("sim-posttest", Quiz.Role.POST, course)
    assert pre.time_limit is None
    assert course.title in pre.title
    assert pre.title.startswith(Quiz.objects.get(slug="dropout-pretest").title)

    def sections(slug):
        return list(
            QuizSection.objects.filter(quiz__slug=slug)
            .order_by("position")
            .values_list("bank_id", "draw_count", "form", "position")
        )

    assert sections("sim-pretest") == sections("dropout-pretest")
    assert sections("sim-posttest") == sections("dropout-posttest")
    # and every learner is enrolled, with no usable password
    enrollments = Enrollment.objects.filter(course=course).select_related("learner")
    assert enrollments.count() == LEARNERS
    assert {e.source for e in enrollments} == {Enrollment.Source.SIMULATED}
    assert {e.learner.username for e in enrollments} == {
        f"sim-learner-{i}" for i in range(1, LEARNERS + 1)
    }
    assert not any(e.learner.has_usable_password() for e in enrollments)
    # and each has exactly one submitted, scored attempt per quiz, every item answered
    for quiz in (pre, post):
        attempts = Attempt.objects.filter(quiz=quiz)
        assert attempts.count() == LEARNERS
        assert set(attempts.values_list("learner_id", flat=True)) == {
            e.learner_id for e in enrollments
        }
        assert {a.state for a in attempts} == {Attempt.State.SUBMITTED}
        assert all(a.score is not None and a.max_score > 0 for a in attempts)
        responses = Response.objects.filter(attempt__quiz=quiz)
        assert not responses.filter(answered_at__isnull=True).exists()
        assert not responses.filter(confidence__isnull=True).exists()
        assert not responses.filter(max_mark__gt=0, mark__isnull=True).exists()
        # misconceptions were diagnosed from the answers
        assert responses.filter(misconceptions__isnull=False).exists()

    # and the class learned something
    def mean_score(quiz):
        return fmean(float(a.score / a.max_score) for a in Attempt.objects.filter(quiz=quiz))

    assert mean_score(post) > mean_score(pre)
    misled = Response.misconceptions.through.objects
    assert (
        misled.filter(response__attempt__quiz=post).count()
        < misled.filter(response__attempt__quiz=pre).count()
    )


def test_rerunning_adds_only_the_missing_learners(catalog):
    first = simulate("--course", "sim", "--learners", str(LEARNERS), "--seed", "7")
    course = Course.objects.get(slug="sim")
    before = counts(course)
    # when: the same run again
    again = simulate("--course", "sim", "--learners", str(LEARNERS), "--seed", "7")
    # then: nothing is duplicated and the same quizzes are reused
    assert counts(course) == before
    assert json.loads(again[-1]) == json.loads(first[-1])
    assert Quiz.objects.filter(course=course).count() == 2
    # when: two more learners
    simulate("--course", "sim", "--learners", str(LEARNERS + 2), "--seed", "7")
    # then: only they get attempts
    learners, enrollments, attempts, _ = counts(course)
    assert (learners, enrollments, attempts) == (LEARNERS + 2, LEARNERS + 2, 2 * (LEARNERS + 2))
    for quiz in Quiz.objects.filter(course=course):
        per_learner = Attempt.objects.filter(quiz=quiz).values_list("learner_id", flat=True)
        assert len(per_learner) == len(set(per_learner)) == LEARNERS + 2


def test_an_existing_instructor_is_added(catalog):
    teacher = UserFactory.create(username="teacher")
    lines = simulate("--course", "sim", "--learners", "1", "--seed", "1", "--instructor", "teacher")
    assert json.loads(lines[-1])["course"] == "sim"
    assert list(Course.objects.get(slug="sim").instructors.all()) == [teacher]


def test_existing_users_are_enrolled_without_simulated_answers(catalog):
    ada = UserFactory.create(username="ada")
    simulate("--course", "sim", "--learners", "1", "--seed", "1", "--enroll", "ada, ada")
    assert Enrollment.objects.filter(course__slug="sim", learner=ada).count() == 1
    assert not Attempt.objects.filter(learner=ada).exists()
    with pytest.raises(CommandError, match="--enroll names no user called 'nobody'"):
        simulate("--course", "sim2", "--learners", "1", "--seed", "1", "--enroll", "ada,nobody")
    assert not Course.objects.filter(slug="sim2").exists()


def test_a_missing_instructor_is_refused_before_anything_is_made(catalog):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        simulate("--course", "sim", "--learners", "3", "--seed", "1", "--instructor", "nobody")
    assert not Course.objects.filter(slug="sim").exists()
    assert not User.objects.filter(username__startswith="sim-learner-").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--learners", "0", "--seed", "1"), "--learners must be at least 1"),
        (("--learners", "-3", "--seed", "1"), "--learners must be at least 1"),
        (("--learners", "2", "--seed", "-1"), "--seed must be a non-negative"),
    ],
)
def test_bad_arguments_are_refused(catalog, args, message):
    with pytest.raises(CommandError, match=message):
        simulate("--course", "sim", *args)
    assert not Course.objects.exists()


def test_a_bad_course_slug_is_refused(catalog):
    with pytest.raises(CommandError, match="is not a slug"):
        simulate("--course", "not a slug", "--learners", "1", "--seed", "1")
    with pytest.raises(CommandError, match="at most"):
        simulate("--course", "x" * 75, "--learners", "1", "--seed", "1")


def test_without_the_catalogue_it_says_to_load_it():
    with pytest.raises(CommandError, match="load_catalog"):
        simulate("--course", "sim", "--learners", "2", "--seed", "1")
    assert not Course.objects.exists()


def test_a_quiz_slug_taken_by_another_quiz_is_refused(catalog):
    Quiz.objects.create(slug="sim-pretest", title="Someone else's")
    with pytest.raises(CommandError, match="already exists"):
        simulate("--course", "sim", "--learners", "1", "--seed", "1")
    assert not Course.objects.filter(slug="sim").exists()


# ---------------------------------------------------------------- the model itself

MODEL = ClassModel()
CODES = ["DO-A", "DO-B", "DO-C"]
SINGLE = Item(
    key="q-single",
    qtype="single",
    options=(
        Option(1, 1, True, frozenset()),
        Option(2, 1, False, frozenset({"DO-A"})),
        Option(3, 1, False, frozenset({"DO-B"})),
    ),
)


def test_the_same_seed_gives_the_same_class_and_answers():
    prevalences = prevalences_draw(5, CODES, MODEL)
    assert prevalences == prevalences_draw(5, CODES, MODEL)
    assert all(0.25 <= p <= 0.5 for p in prevalences.values())
    assert learner_draw(5, 3, prevalences, MODEL) == learner_draw(5, 3, prevalences, MODEL)
    state = LearnerState(0.0, frozenset())
    draws = [
        answer_draw(rng_for(5, "x", i), state, SINGLE, difficulty=0.0, model=MODEL)
        for i in range(20)
    ]
    assert draws == [
        answer_draw(rng_for(5, "x", i), state, SINGLE, difficulty=0.0, model=MODEL)
        for i in range(20)
    ]


def test_teaching_drops_misconceptions_and_raises_ability():
    prevalences = dict.fromkeys(CODES, 0.5)
    pairs = [learner_draw(9, i, prevalences, MODEL) for i in range(400)]
    assert all(after.held <= before.held for before, after in pairs)
    assert all(after.theta == pytest.approx(before.theta + 0.8) for before, after in pairs)
    held_before = sum(len(b.held) for b, _ in pairs)
    held_after = sum(len(a.held) for _, a in pairs)
    assert held_before == pytest.approx(0.5 * 3 * 400, rel=0.15)
    assert held_after == pytest.approx(0.4 * held_before, rel=0.2)


def test_a_held_misconception_draws_its_option_with_high_confidence():
    believer = LearnerState(3.0, frozenset({"DO-A"}))
    answers = [
        answer_draw(rng_for(1, i), believer, SINGLE, difficulty=0.0, model=MODEL)
        for i in range(400)
    ]
    lured = [a for a in answers if a is not None and a.followed == "DO-A"]
    assert len(lured) == pytest.approx(0.85 * 400, rel=0.1)
    assert all(a.choice_ids == (2,) and a.confidence in (3, 4, 5) for a in lured)


def test_right_answers_are_surer_than_wrong_ones_without_a_misconception():
    learner = LearnerState(0.0, frozenset())
    answers = [
        answer_draw(rng_for(2, i), learner, SINGLE, difficulty=0.0, model=MODEL) for i in range(600)
    ]
    right = [a.confidence for a in answers if a is not None and a.choice_ids == (1,)]
    wrong = [a.confidence for a in answers if a is not None and a.choice_ids != (1,)]
    assert len(right) == pytest.approx(300, rel=0.15)  # logistic(0 - 0) = 1/2
    assert 0.75 < fmean(right) - fmean(wrong) < 2.25  # the model's gap is 1.5


def test_numeric_answers_hit_the_value_a_held_misconception_predicts():
    item = Item(
        key="q-numeric",
        qtype="numeric",
        answer="(1 - p) * 1000",
        tolerance=0.5,
        distractors=(Distractor("p * 1000", frozenset({"DO-PKEEP"})),),
    )
    believer = LearnerState(0.0, frozenset({"DO-PKEEP"}))
    novice = LearnerState(-1.0, frozenset())
    values = [
        answer_draw(
            rng_for(3, i), believer, item, difficulty=0.0, parameters={"p": 0.2}, model=MODEL
        )
        for i in range(200)
    ]
    assert sum(a is not None and a.numeric_value == 200 for a in values) > 150
    others = [
        answer_draw(rng_for(4, i), novice, item, difficulty=0.0, parameters={"p": 0.2}, model=MODEL)
        for i in range(200)
    ]
    numbers = {a.numeric_value for a in others if a is not None}
    assert 800 in numbers
    assert 200 not in numbers  # a wrong guess never lands on a distractor by accident
