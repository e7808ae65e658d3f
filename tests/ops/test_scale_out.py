"""Scale-out by configuration: two grader workers with different --hostname's, each with its
own sandbox, grade from the one `grader` queue."""

from __future__ import annotations

import time

import psutil
import pytest

from grader import services
from grader.exercises import exercise_get
from grader.models import Submission
from quizsite.ops.heartbeat import grader_workers_alive
from tests.factories import UserFactory
from tests.grader.test_submissions import _wait_finished
from tests.grader.test_verdicts import _stop, _worker

# Half a second in the sandbox: long enough that one worker cannot take every task alone.
SLOW = "import time\ntime.sleep(0.5)\n"


@pytest.mark.django_db(transaction=True)
def test_two_grader_workers_share_one_queue_each_with_its_own_sandbox(fresh_heartbeats):
    # given: two prefork grader workers, as on two grader hosts, both alive (heartbeats)
    workers = [_worker("grader", "grader-a", 1), _worker("grader", "grader-b", 1)]
    try:
        deadline = time.monotonic() + 60
        while grader_workers_alive() < 2:
            assert time.monotonic() < deadline, "the two grader workers never both started"
            time.sleep(0.2)
        # when: six learners' submissions go to the one queue
        code = SLOW + exercise_get("dropout-forward").reference_source
        submitted = [
            services.submission_create(
                learner=UserFactory.create(), exercise="dropout-forward", code=code
            )
            for _ in range(6)
        ]
        graded = [_wait_finished(submission.id, seconds=90) for submission in submitted]
        # then: each worker process ran a sandbox of its own (a bubblewrap child)
        sandboxes = {
            worker.pid: [
                child.name() for child in psutil.Process(worker.pid).children(recursive=True)
            ]
            for worker in workers
        }
    finally:
        for worker in workers:
            _stop(worker)
    assert {submission.status for submission in graded} == {Submission.Status.PASSED}
    # both graded: the submissions name two different grading processes
    graders = {submission.worker for submission in graded}
    assert len(graders) == 2, graders
    for names in sandboxes.values():
        assert "bwrap" in names, sandboxes
