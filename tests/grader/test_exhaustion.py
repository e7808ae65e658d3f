"""Code that lacks its function or exhausts a limit gets an error naming the cause and the
limit, not a failed check (as if its output had been judged) and not the wall clock."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from grader import services
from grader.exercises import exercise_get
from grader.grading import grade
from grader.models import Submission
from grader.sandbox import harness
from grader.sandbox.parent import Limits, SandboxParent
from tests.factories import UserFactory

# Generous time limits: the verdicts below must come from the mechanism, not from a race
# with a loaded machine's clock.
LIMITS = Limits(wall_seconds=30.0, cpu_seconds=10, memory_bytes=512 * 1024 * 1024)
WALL_CLOCK = "ran longer than the"
NO_CHECKS = "No checks were run."

MISSPELT = """
import numpy as np
def dropout_forwardd(x, p, training, rng):
    return x
def helper(x):
    return x
"""
NOT_A_FUNCTION = "dropout_forward = 3\n"
HOGS_IN_THE_FUNCTION = """
import numpy as np
def dropout_forward(x, p, training, rng):
    hog = []
    while True:
        hog.append(np.empty(10_000_000))  # address space: no page is touched
"""
HOGS_AT_IMPORT = """
hog = [bytearray(10**8) for _ in range(1000)]
def dropout_forward(x, p, training, rng):
    return x
"""
RECURSES = """
def dropout_forward(x, p, training, rng):
    return dropout_forward(x, p, training, rng)
"""
# Raising the limit first: the frames would then fill the memory for seconds.
RAISES_THE_LIMIT_AND_RECURSES = """
import sys
sys.setrecursionlimit(10**8)
def dropout_forward(x, p, training, rng):
    return dropout_forward(x, p, training, rng)
"""
RECURSES_AT_IMPORT = """
def f(n):
    return f(n + 1)
f(0)
def dropout_forward(x, p, training, rng):
    return x
"""
# Recursion in C (the repr of a deeply nested list) counts against the same limit.
RECURSES_IN_C = """
nested = []
for _ in range(100_000):
    nested = [nested]
def dropout_forward(x, p, training, rng):
    return repr(nested)
"""
# Wraps the reference: recursion it catches itself, then the right answer.
CATCHES_ITS_OWN_RECURSION = """
def depth(n):
    try:
        return depth(n + 1)
    except RecursionError:
        return n
_reference = dropout_forward
def dropout_forward(x, p, training, rng):
    assert depth(0) > 900
    return _reference(x, p, training, rng)
"""


@pytest.fixture(scope="module")
def parent() -> Iterator[SandboxParent]:
    sandbox = SandboxParent()
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def forward():
    return exercise_get("dropout-forward")


def _grade(parent, forward, code):
    started = time.perf_counter()
    report = grade(exercise=forward, code=code, seed=11, parent=parent, limits=LIMITS)
    # Printed for the record (pytest -s); not asserted: the mechanism is.
    print(f"{report.status} in {time.perf_counter() - started:.3f} s: {report.message}")
    return report


@pytest.mark.parametrize("code", [MISSPELT, NOT_A_FUNCTION], ids=["misspelt", "not-callable"])
def test_a_module_without_the_function_is_an_error_naming_it(parent, forward, code):
    # when
    report = _grade(parent, forward, code)
    # then: an error before any check ran, naming the function and its signature
    assert report.status == Submission.Status.ERROR
    assert report.checks == []
    assert report.message.startswith("Your code defines no function named dropout_forward;")
    assert forward.signature in report.message
    assert NO_CHECKS in report.message


def test_the_missing_function_message_lists_what_the_code_defines(parent, forward):
    report = _grade(parent, forward, MISSPELT)
    assert "Your code defines: dropout_forwardd, helper." in report.message


@pytest.mark.parametrize(
    ("code", "when"),
    [(HOGS_IN_THE_FUNCTION, ""), (HOGS_AT_IMPORT, " while your module was loading")],
    ids=["in-the-function", "at-import"],
)
def test_running_out_of_memory_is_an_error_naming_the_limit(parent, forward, code, when):
    # when
    report = _grade(parent, forward, code)
    # then: caught in the child (MemoryError), not killed by the wall clock or a signal
    assert report.status == Submission.Status.ERROR
    assert report.message == f"Your code ran out of memory (limit 512 MB){when}. {NO_CHECKS}"
    assert report.checks == []
    # and the grader grades the next submission as before
    assert _grade(parent, forward, forward.reference_source).status == Submission.Status.PASSED


@pytest.mark.parametrize(
    ("code", "when"),
    [
        (RECURSES, ""),
        (RAISES_THE_LIMIT_AND_RECURSES, ""),
        (RECURSES_IN_C, ""),
        (RECURSES_AT_IMPORT, " while your module was loading"),
    ],
    ids=["plain", "raises-the-limit", "in-c", "at-import"],
)
def test_runaway_recursion_is_an_error_naming_the_depth(parent, forward, code, when):
    # when
    report = _grade(parent, forward, code)
    # then: the RecursionError at 1000 frames ends the run in the child; the wall clock
    # (status timeout, "ran longer than") and the memory limit never come into it
    assert report.status == Submission.Status.ERROR
    assert (
        report.message == f"Recursion went deeper than 1000 frames (the limit){when}. {NO_CHECKS}"
    )
    assert WALL_CLOCK not in report.message
    assert "memory" not in report.message
    assert report.checks == []


def test_recursion_the_code_catches_itself_is_not_an_error(parent, forward):
    # A learner's own RecursionError handler keeps working; only an uncaught one ends the run.
    report = _grade(parent, forward, forward.reference_source + CATCHES_ITS_OWN_RECURSION)
    assert report.status == Submission.Status.PASSED, report.as_dict(forward.slug)


def test_a_function_that_raises_still_fails_its_checks(parent, forward):
    # Not every exception is an exhaustion: a ValueError is the code's answer to a call.
    code = "def dropout_forward(x, p, training, rng):\n    raise ValueError('no')\n"
    report = _grade(parent, forward, code)
    assert report.status == Submission.Status.FAILED
    assert report.checks


def test_the_harness_names_missing_functions_and_lets_exhaustion_through():
    plan = {"calls": [{"function": "f", "args": [{"array": 0}]}, {"function": "g", "args": []}]}
    assert harness.missing_functions({"f": len, "g": 3}, plan) == ["g"]
    assert harness.missing_functions({"f": len, "g": len}, plan) == []

    def bottomless(x):
        return bottomless(x)

    with pytest.raises(RecursionError):
        harness.run_plan({"f": bottomless, "g": len}, plan, [np.zeros(3)])


@pytest.mark.django_db(transaction=True)
def test_a_recursing_submission_is_saved_as_an_error_by_the_worker(celery_worker):
    # given
    learner = UserFactory.create(username="deep")
    # when: graded by a real worker under the settings' limits
    submission = services.submission_create(
        learner=learner, exercise="dropout-forward", code=RECURSES
    )
    deadline = time.monotonic() + 60
    while not Submission.objects.get(id=submission.id).is_finished:
        assert time.monotonic() < deadline, "not graded"
        time.sleep(0.1)
    # then
    graded = Submission.objects.get(id=submission.id)
    assert graded.status == "error"
    assert graded.message == f"Recursion went deeper than 1000 frames (the limit). {NO_CHECKS}"
    assert graded.checks == []
