"""The sandbox against hostile code: nothing passes, leaks, escapes or persists."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from grader.exercises import exercise_get
from grader.grading import grade
from grader.models import Submission
from grader.sandbox.parent import Limits, SandboxParent
from tests.grader.attacks import ATTACKS, PLANTED_SECRET, STATE_PROBE

# Tight limits keep the slow attacks (sleep, spin, floods) quick.
LIMITS = Limits(wall_seconds=3.0, cpu_seconds=2, memory_bytes=512 * 1024 * 1024)


@pytest.fixture(scope="module")
def parent() -> Iterator[SandboxParent]:
    # A secret in the trusted process's environment and on its disk, to be hunted for.
    os.environ["GRADER_PLANTED_SECRET"] = PLANTED_SECRET
    sandbox = SandboxParent()
    sandbox.start()
    yield sandbox
    sandbox.stop()
    os.environ.pop("GRADER_PLANTED_SECRET", None)


@pytest.fixture(scope="module")
def forward():
    return exercise_get("dropout-forward")


def _reference_passes(parent, forward) -> None:
    report = grade(
        exercise=forward, code=forward.reference_source, seed=12345, parent=parent, limits=LIMITS
    )
    assert report.status == Submission.Status.PASSED, report.as_dict(forward.slug)


def test_the_sandbox_is_really_sandboxed(parent):
    assert parent.sandboxed


def test_the_reference_passes_and_the_parent_is_warm(parent, forward):
    report = grade(
        exercise=forward, code=forward.reference_source, seed=1, parent=parent, limits=LIMITS
    )
    assert report.status == Submission.Status.PASSED
    assert report.score == 1.0


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_attack_never_passes_leaks_or_breaks_the_grader(parent, forward, name):
    # when
    report = grade(exercise=forward, code=ATTACKS[name], seed=7, parent=parent, limits=LIMITS)
    # then: a failed or error verdict about the attacker's own code, and nothing leaked
    assert report.status != Submission.Status.PASSED, report.as_dict(forward.slug)
    everything = json.dumps(report.as_dict(forward.slug)) + report.stdout
    assert PLANTED_SECRET not in everything
    for escaped in (
        "CONNECTED",
        "WROTE",
        "THREAD STARTED",
        "SUBPROCESS b'ran",
        "READ /work",
        "FORKED 1",
    ):
        assert escaped not in report.stdout, (escaped, report.stdout[:2000])
    # and the grader still grades the next submission correctly
    _reference_passes(parent, forward)


def test_nothing_a_submission_leaves_is_seen_by_the_next(parent, forward):
    grade(
        exercise=forward,
        code=ATTACKS["leaves-files-for-the-next"],
        seed=3,
        parent=parent,
        limits=LIMITS,
    )
    grade(
        exercise=forward,
        code=ATTACKS["monkeypatches-numpy-and-builtins"],
        seed=3,
        parent=parent,
        limits=LIMITS,
    )
    marked = grade(
        exercise=forward,
        code=ATTACKS["marks-the-shared-job-area"],
        seed=3,
        parent=parent,
        limits=LIMITS,
    )
    assert "MARKED" in marked.stdout, marked.stdout  # it did reach its own job area
    report = grade(exercise=forward, code=STATE_PROBE, seed=3, parent=parent, limits=LIMITS)
    # The probe sees a job area of its own (a fresh one), with nothing of the marker in it.
    assert "TRACES [] PWNED None PATCHED False AREAS 1 MARKED False" in report.stdout, report.stdout


def test_attack_verdicts_name_what_happened(parent, forward):
    def verdict(name):
        return grade(exercise=forward, code=ATTACKS[name], seed=5, parent=parent, limits=LIMITS)

    assert verdict("sleeps").status == Submission.Status.TIMEOUT
    assert verdict("cpu-spin").status == Submission.Status.TIMEOUT
    assert "printed more than" in verdict("output-flood").message
    assert "could not be loaded: SyntaxError" in verdict("syntax-error").message
    assert "SIGSEGV" in verdict("ctypes-segfault").message
    assert "returned more than 64 MiB" in verdict("huge-result").message
    assert verdict("exits-0-at-import").status == Submission.Status.ERROR
    connections = verdict("connects-to-redis-and-postgres").stdout
    assert "refused 127.0.0.1 6379 PermissionError" in connections


def test_the_sandbox_restarts_after_its_parent_dies(forward):
    sandbox = SandboxParent()
    sandbox.start()
    try:
        assert sandbox.process is not None
        sandbox.process.kill()
        sandbox.process.wait()
        _reference_passes(sandbox, forward)
    finally:
        sandbox.stop()


def test_grading_refuses_without_bubblewrap(monkeypatch):
    from grader.sandbox import parent as parent_module
    from grader.sandbox.parent import SandboxUnavailable

    monkeypatch.setattr(parent_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        SandboxParent().start()
