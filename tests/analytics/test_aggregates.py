"""The aggregates stay exactly what a rebuild from the raw rows gives, through random
submits, deletions (one attempt, a learner with all their rows) and enrolments."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from analytics.aggregate_reads import aggregates_drifted
from analytics.aggregates import aggregates_rebuild, raw_counts
from analytics.misconceptions import course_gain, course_misconceptions
from analytics.models import FOLDED, CourseCount, QuizCount
from analytics.statistics import POLICIES, quiz_statistics
from assessments import services
from assessments.answers import AnswerInput
from assessments.models import Attempt, Question, QuestionType, Quiz
from core.errors import ConflictError
from courses.models import Course, Enrollment
from tests.factories import UserFactory, multiple, numeric, quiz_of, single, true_false

pytestmark = pytest.mark.django_db


def _answer(question: Question, parameters: dict[str, float], rng: random.Random) -> AnswerInput:
    confidence = rng.randrange(6)
    if question.qtype == QuestionType.NUMERIC:
        p = parameters["p"]
        return AnswerInput(
            numeric_value=rng.choice([(1 - p) * 1000, p * 1000]), confidence=confidence
        )
    options = list(question.choices.order_by("position"))
    if question.qtype == QuestionType.MULTIPLE:
        picks = rng.sample(options, rng.randint(1, len(options)))
        return AnswerInput(choice_ids=[c.id for c in picks], confidence=confidence)
    return AnswerInput(choice_ids=[rng.choice(options).id], confidence=confidence)


def _submit(quiz: Quiz, learner: Any, rng: random.Random) -> None:
    try:
        attempt = services.attempt_start(quiz=quiz, learner=learner, seed=rng.randrange(2**32))
    except ConflictError:  # numbered by count: after an earlier one was deleted, may collide
        return
    for response in attempt.responses.select_related("question").order_by("slot"):
        if rng.random() < 0.9:  # some questions left unanswered
            services.response_save(
                attempt_id=attempt.id,
                learner=learner,
                slot=response.slot,
                answer=_answer(response.question, response.parameters, rng),
            )
    services.attempt_submit(attempt_id=attempt.id, learner=learner)


def _stored(course: Course) -> tuple[dict[Any, int], dict[Any, int]]:
    # A row's m... columns are the sum kinds folded beside its count kind (FOLDED): unfold
    # them; a key's stripes (one per learner id modulo STRIPES) sum to its count.
    beside: dict[str, list[tuple[str, str]]] = {}
    for kind, (count, column) in FOLDED.items():
        beside.setdefault(count, []).append((kind, column))
    quizzes: Counter[Any] = Counter()
    for c in QuizCount.objects.filter(quiz__course=course):
        key = (c.mask, c.a, c.b, c.mark, c.max_mark, c.total, c.maximum)
        quizzes[(c.quiz_id, c.kind, *key)] += c.n
        for kind, column in beside.get(c.kind, []):
            quizzes[(c.quiz_id, kind, *key)] += getattr(c, column)
    counters: Counter[Any] = Counter()
    for k in CourseCount.objects.filter(course=course).exclude(kind="G"):
        counters[(k.scope, k.kind, k.a, k.b)] += k.n
        for kind, column in beside.get(k.kind, []):
            counters[(k.scope, kind, k.a, k.b)] += getattr(k, column)
    return (
        {key: n for key, n in quizzes.items() if n},
        {key: n for key, n in counters.items() if n},
    )


def _assert_exact(course: Course) -> None:
    # given aggregates kept by the receivers alone, never rebuilt in this test
    assert not aggregates_drifted(course=course)
    # then they hold exactly the sum of every learner's contribution from the raw rows
    quizzes, counters, _ = raw_counts(course_id=course.id, quiz_id=None)
    raw_quizzes = {(q, *key): n for q, counts in quizzes.items() for key, n in counts.items() if n}
    assert _stored(course) == (raw_quizzes, {k: n for k, n in counters.items() if n})
    # and every result read from them equals the one computed from the raw rows
    for quiz in course.quizzes.all():
        for policy in POLICIES:
            fresh = quiz_statistics(quiz=quiz, attempts=policy, fresh=True)
            assert fresh == quiz_statistics(quiz=quiz, attempts=policy, from_raw=True)
        scoped = course_misconceptions(course=course, quiz=quiz, page_size=5, fresh=True)
        assert scoped == course_misconceptions(course=course, quiz=quiz, page_size=5, from_raw=True)
    heatmap = course_misconceptions(course=course, fresh=True)
    assert heatmap == course_misconceptions(course=course, from_raw=True)
    assert course_gain(course=course, fresh=True) == course_gain(course=course, from_raw=True)


def test_aggregates_equal_a_rebuild_after_random_submits_deletions_and_enrolments():
    rng = random.Random(15)
    course = Course.objects.create(slug="agg", title="Aggregates")
    pre = quiz_of(single(), multiple(), true_false(), course=course, role=Quiz.Role.PRE, slug="pre")
    post = quiz_of(
        true_false(), numeric(), single(), course=course, role=Quiz.Role.POST, slug="post"
    )
    other = quiz_of(single(), multiple(), numeric(), course=course, slug="other")
    Quiz.objects.filter(course=course).update(attempts_allowed=None)
    quizzes = [pre, post, other]
    learners = [UserFactory.create(username=f"agg{i}") for i in range(8)]
    for learner in learners[:6]:
        Enrollment.objects.create(course=course, learner=learner)
    for step in range(60):
        roll = rng.random()
        attempts = list(Attempt.objects.filter(quiz__course=course, state="submitted"))
        enrolled = [e.learner for e in Enrollment.objects.filter(course=course)]
        if (roll < 0.65 or not attempts) and enrolled:
            _submit(rng.choice(quizzes), rng.choice(enrolled), rng)
        elif roll < 0.8:
            rng.choice(attempts).delete()
        elif roll < 0.9:
            enrolment = Enrollment.objects.filter(course=course).order_by("?").first()
            if enrolment is not None:
                enrolment.delete()
            absent = [lr for lr in learners if not lr.enrollments.filter(course=course).exists()]
            if absent:
                Enrollment.objects.create(course=course, learner=rng.choice(absent))
        else:
            gone = rng.choice(learners)
            learners.remove(gone)
            gone.delete()  # its attempts, responses and enrolment go by cascade
            learners.append(UserFactory.create(username=f"agg-new{step}"))
        if step % 10 == 9:
            _assert_exact(course)
    _assert_exact(course)
    # the learners' changes went to several stripes of the same keys, which the reads summed
    shared = QuizCount.objects.filter(quiz__course=course, kind="n")
    assert shared.values("stripe").distinct().count() > 1


def test_drift_is_seen_and_the_rebuild_repairs_it():
    rng = random.Random(2)
    course = Course.objects.create(slug="drift", title="Drift")
    quiz = quiz_of(single(), true_false(), course=course, slug="drift-quiz")
    learner = UserFactory.create()
    Enrollment.objects.create(course=course, learner=learner)
    _submit(quiz, learner, rng)
    assert not aggregates_drifted(course=course)
    # when rows change behind the services' back
    QuizCount.objects.filter(quiz=quiz).delete()
    CourseCount.objects.filter(course=course).delete()
    assert aggregates_drifted(course=course)
    # the reads still answer from the raw rows
    assert quiz_statistics(quiz=quiz, fresh=True)["attempts_counted"] == 1
    aggregates_rebuild(course=course)
    assert not aggregates_drifted(course=course)
    assert quiz_statistics(quiz=quiz, fresh=True) == quiz_statistics(quiz=quiz, from_raw=True)
