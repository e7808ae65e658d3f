"""The per-learner submission rate holds when many submissions arrive at the same moment."""

from __future__ import annotations

from collections import Counter

import pytest
from rest_framework.test import APIClient

from grader.models import Submission
from quizsite.celery import app as celery_app
from tests.simultaneous import at_once


@pytest.fixture
def no_queued_grading():
    """Drop the grading tasks these submissions enqueued (no worker runs in these tests)."""
    yield
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("grader")


@pytest.mark.django_db(transaction=True)
def test_fourteen_simultaneous_submissions_accept_exactly_the_limit(
    learner, settings, no_queued_grading
):
    # given: a limit of 10 a minute and 14 submissions sent at the same moment
    settings.GRADER_SUBMISSIONS_PER_MINUTE = 10

    def submit():
        http = APIClient()
        http.force_authenticate(learner)
        return http.post(
            "/api/v1/submissions/",
            {"exercise": "dropout-forward", "code": "x = 1"},
            format="json",
        )

    # when
    responses = at_once([submit] * 14)

    # then: 10 accepted, 4 refused with the rate's error, and 10 rows
    errors = [r for r in responses if isinstance(r, BaseException)]
    assert not errors, errors
    assert Counter(r.status_code for r in responses) == {202: 10, 429: 4}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {
        "rate_limited"
    }
    assert Submission.objects.filter(learner=learner).count() == 10
