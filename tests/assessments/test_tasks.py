"""Celery tasks run on a real worker through the real Redis broker."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Attempt
from assessments.services import attempt_start
from assessments.tasks import attempts_submit_overdue
from tests.factories import quiz_of, single


def _wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_worker_submits_attempts_whose_time_ran_out(celery_worker, learner, other_learner):
    # given: one attempt past its deadline, one still running
    quiz = quiz_of(single(), time_limit=timedelta(minutes=10))
    late = attempt_start(quiz=quiz, learner=learner)
    running = attempt_start(quiz=quiz, learner=other_learner)
    Attempt.objects.filter(id=late.id).update(deadline=timezone.now() - timedelta(minutes=1))
    # when
    attempts_submit_overdue.delay()
    # then
    assert _wait_for(lambda: Attempt.objects.get(id=late.id).is_submitted)
    late.refresh_from_db()
    assert late.auto_submitted
    assert late.score == 0
    assert not Attempt.objects.get(id=running.id).is_submitted
