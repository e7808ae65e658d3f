"""A submit leaves its attempt pending and a worker adds it to the aggregates: the counts
stay exactly what a rebuild gives, whoever applies the pending attempts (a real Celery
worker, a read, a re-score, a deletion) and in whatever order."""

from __future__ import annotations

import random
import time

import pytest

from analytics.aggregate_reads import aggregates_drifted
from analytics.aggregates import attempt_count, pending_catch_up
from analytics.models import CourseCount, PendingContribution, QuizCount
from analytics.statistics import quiz_statistics
from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment
from tests.analytics.test_aggregates import _assert_exact, _stored, _submit
from tests.factories import UserFactory, multiple, numeric, quiz_of, single, true_false


def _course(slug: str) -> tuple[Course, list[Quiz]]:
    course = Course.objects.create(slug=slug, title=slug)
    pre = quiz_of(single(), multiple(), course=course, role=Quiz.Role.PRE, slug=f"{slug}-pre")
    post = quiz_of(true_false(), numeric(), course=course, role=Quiz.Role.POST, slug=f"{slug}-po")
    Quiz.objects.filter(course=course).update(attempts_allowed=None)
    return course, [pre, post]


@pytest.mark.django_db
def test_a_submit_leaves_the_counts_alone_until_its_attempt_is_applied():
    # given a course whose counts hold one learner's submitted attempt
    rng = random.Random(7)
    course, (pre, _) = _course("pending")
    learner = UserFactory.create()
    Enrollment.objects.create(course=course, learner=learner)
    _submit(pre, learner, rng)
    pending_catch_up()
    before = _stored(course)
    # when the learner submits again
    _submit(pre, learner, rng)
    # then the submit wrote only its pending row, not the counts
    assert PendingContribution.objects.filter(learner=learner).count() == 1
    assert _stored(course) == before
    # and applying it makes the counts exactly a rebuild's
    assert pending_catch_up(course_id=course.id) == 1
    assert not PendingContribution.objects.exists()
    _assert_exact(course)


@pytest.mark.django_db
def test_a_read_applies_what_is_pending_so_it_is_exact_without_the_worker():
    rng = random.Random(8)
    course, (pre, _) = _course("read-pending")
    learners = [UserFactory.create() for _ in range(3)]
    for learner in learners:
        Enrollment.objects.create(course=course, learner=learner)
        _submit(pre, learner, rng)
    assert PendingContribution.objects.count() == 3
    # when an instructor reads the statistics with the worker never having run
    statistics = quiz_statistics(quiz=pre, fresh=True)
    # then they count every submitted attempt, as the raw rows do
    assert statistics["attempts_counted"] == 3
    assert statistics == quiz_statistics(quiz=pre, from_raw=True)
    assert not PendingContribution.objects.exists()


@pytest.mark.django_db
def test_a_rescore_or_deletion_of_a_pending_attempt_applies_it_first():
    rng = random.Random(9)
    course, (pre, post) = _course("change-pending")
    first, second = UserFactory.create(), UserFactory.create()
    for learner in (first, second):
        Enrollment.objects.create(course=course, learner=learner)
    _submit(pre, first, rng)
    _submit(post, first, rng)
    _submit(pre, second, rng)
    # when one pending attempt is re-scored (as a code verdict does) and another deleted
    rescored = Attempt.objects.filter(learner=first, quiz=pre).get()
    attempt_count(attempt_id=rescored.id, sign=-1)
    attempt_count(attempt_id=rescored.id, sign=1)
    Attempt.objects.filter(learner=second).get().delete()
    # then the first learner's pending attempts were applied by the re-score, the second's
    # went with its attempt, and the counts are exactly a rebuild's
    assert not PendingContribution.objects.exists()
    _assert_exact(course)


@pytest.mark.django_db
def test_pending_attempts_of_many_learners_in_random_order_sum_to_a_rebuild():
    rng = random.Random(10)
    course, quizzes = _course("many-pending")
    learners = [UserFactory.create() for _ in range(6)]
    for learner in learners:
        Enrollment.objects.create(course=course, learner=learner)
    for step in range(30):
        _submit(rng.choice(quizzes), rng.choice(learners), rng)
        if step % 7 == 6:  # a worker run catching up part of the way
            pending_catch_up(limit=rng.randint(1, 3))
    assert QuizCount.objects.exists() and CourseCount.objects.exists()
    _assert_exact(course)


def test_a_real_worker_applies_the_pending_attempts_of_submits(celery_worker):
    # given a course, and a Celery worker consuming the default queue
    rng = random.Random(11)
    course, (pre, post) = _course("worker-pending")
    learners = [UserFactory.create() for _ in range(3)]
    for learner in learners:
        Enrollment.objects.create(course=course, learner=learner)
    # when learners submit (each submit enqueues the catch-up on commit)
    for learner in learners:
        _submit(pre, learner, rng)
        _submit(post, learner, rng)
    # then the worker applies every pending attempt, without any read asking for it
    deadline = time.monotonic() + 30
    while PendingContribution.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not PendingContribution.objects.exists()
    assert not aggregates_drifted(course=course)
    _assert_exact(course)
