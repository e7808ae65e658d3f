"""Grade one piece of learner code: plan in the trusted worker, run sandboxed, judge here.

The sandbox only runs the learner's function on inputs chosen here and returns plain
values; every check is evaluated in this (trusted) process by the exercise. Whatever the
code does — exit early, print fake results, crash, loop, flood output — the worst it can
reach is a failed or error verdict about itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from grader.exercises.base import CheckResult, Exercise
from grader.models import Submission
from grader.sandbox.parent import Limits, RunOutcome, SandboxParent, SandboxUnavailable, frame_parse
from grader.sandbox.results import MalformedResult, arrays_decode, results_decode

SIGNAL_NAMES = {
    9: "SIGKILL",
    11: "SIGSEGV",
    6: "SIGABRT",
    24: "SIGXCPU",
    25: "SIGXFSZ",
    7: "SIGBUS",
}


@dataclass
class GradeReport:
    """The verdict on one submission, in the shape the API and pages show."""

    status: str
    score: float
    checks: list[CheckResult]
    message: str = ""
    stdout: str = ""
    duration_ms: float = 0.0
    sandbox_cpu_ms: float = 0.0
    sandbox_wall_ms: float = 0.0
    misconceptions: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def as_dict(self, exercise: str) -> dict[str, Any]:
        """Return the report as the `grade` command prints it."""
        return {
            "exercise": exercise,
            "status": self.status,
            "score": self.score,
            "checks": [
                {
                    "id": c.id,
                    "passed": c.passed,
                    "message": c.message,
                    "misconceptions": list(c.misconceptions),
                    "defects": list(c.defects),
                }
                for c in self.checks
            ],
            "misconceptions": self.misconceptions,
            "defects": self.defects,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 3),
        }


def _too_much_data(limits: Limits) -> str:
    return f"Your code returned more than {limits.result_bytes // (1024 * 1024)} MiB of data."


def _unfinished(outcome: RunOutcome, limits: Limits) -> tuple[str, str]:
    """Return the status and message for a child that sent no usable result."""
    if outcome.status == "timeout":
        return (
            Submission.Status.TIMEOUT,
            f"Your code ran longer than the {limits.wall_seconds:g} s allowed.",
        )
    if outcome.status == "output_limit":
        return (
            Submission.Status.ERROR,
            f"Your code printed more than {limits.output_bytes // 1024} KiB; printing was stopped.",
        )
    if outcome.status == "result_limit":
        return Submission.Status.ERROR, _too_much_data(limits)
    if outcome.signal == 24:
        return (
            Submission.Status.TIMEOUT,
            f"Your code used more than the {limits.cpu_seconds} s of CPU time allowed.",
        )
    if outcome.signal is not None:
        name = SIGNAL_NAMES.get(outcome.signal, f"signal {outcome.signal}")
        return (
            Submission.Status.ERROR,
            f"Your code's process was ended by {name} (a crash, or memory beyond the "
            f"{limits.memory_mb} MB limit).",
        )
    return (
        Submission.Status.ERROR,
        f"Your code ended the process (exit status {outcome.exit_code}) "
        "before returning its results.",
    )


def _exhausted(report: Any, limits: Limits) -> str:
    """Say which limit the code ran out of, and when (the child reported it itself)."""
    report = report if isinstance(report, dict) else {}
    when = "while your module was loading" if report.get("during") == "load" else ""
    if report.get("kind") == "recursion":
        cause = (
            f"Recursion went deeper than {limits.recursion_frames} frames (the limit)"
            f"{' ' + when if when else ''}."
        )
    else:
        cause = (
            f"Your code ran out of memory (limit {limits.memory_mb} MB)"
            f"{' ' + when if when else ''}."
        )
    return f"{cause} No checks were run."


def _missing(exercise: Exercise, header: dict[str, Any]) -> str:
    """Name the exercise's functions the module lacks (and what it defines instead)."""
    claimed = header.get("missing_functions")
    names = [n for n in exercise.functions if isinstance(claimed, list) and n in claimed]
    if not names:  # a report that names none of ours: the code forged it, or a bug
        return "Your code's results could not be read."
    defined = header.get("defined")
    others = [
        n
        for n in (defined if isinstance(defined, list) else [])[:20]
        if isinstance(n, str) and n.isidentifier() and len(n) <= 60
    ]
    message = (
        f"Your code defines no function named {' or '.join(names)}; the exercise calls "
        f"{exercise.signature}."
    )
    if others:
        message += f" Your code defines: {', '.join(others)}."
    return message + " No checks were run."


def grade(
    *, exercise: Exercise, code: str, seed: int, parent: SandboxParent, limits: Limits | None = None
) -> GradeReport:
    """Grade `code` against `exercise` with inputs drawn from `seed`."""
    limits = limits or Limits()
    started = time.perf_counter()
    plan = exercise.plan(seed)
    outcome = parent.run(code, {"calls": plan.calls}, plan.arrays, limits)
    report = _judge(exercise, plan, outcome, limits)
    report.stdout = outcome.stdout
    report.sandbox_cpu_ms = outcome.cpu_ms
    report.sandbox_wall_ms = outcome.wall_ms
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


def _judge(exercise: Exercise, plan: Any, outcome: RunOutcome, limits: Limits) -> GradeReport:
    if outcome.status != "finished" or not outcome.result_frame:
        status, message = _unfinished(outcome, limits)
        return GradeReport(status=status, score=0.0, checks=[], message=message)
    try:
        header, _ = frame_parse(outcome.result_frame)
    except ValueError:
        return GradeReport(
            Submission.Status.ERROR, 0.0, [], "Your code's results could not be read."
        )
    if "result_too_large" in header:
        return GradeReport(Submission.Status.ERROR, 0.0, [], _too_much_data(limits))
    if "isolation_error" in header:
        raise SandboxUnavailable(
            f"The sandbox could not isolate the child: {header['isolation_error']}"
        )
    if "exhausted" in header:
        return GradeReport(
            Submission.Status.ERROR, 0.0, [], _exhausted(header["exhausted"], limits)
        )
    if "missing_functions" in header:
        return GradeReport(Submission.Status.ERROR, 0.0, [], _missing(exercise, header))
    if "load_error" in header:
        error = header["load_error"] if isinstance(header["load_error"], dict) else {}
        return GradeReport(
            Submission.Status.ERROR,
            0.0,
            [],
            f"Your code could not be loaded: {str(error.get('type', '?'))[:100]}: "
            f"{str(error.get('message', ''))[:500]}",
        )
    try:
        arrays = arrays_decode(header.get("arrays", []), outcome.output_area)
        results = results_decode(header.get("results"), arrays, len(plan.calls))
    except (MalformedResult, TypeError, ValueError) as error:
        return GradeReport(
            Submission.Status.ERROR, 0.0, [], f"Your code's results could not be read ({error})."
        )
    checks = exercise.evaluate(plan, results)
    passed = sum(1 for c in checks if c.passed)
    failed = [c for c in checks if not c.passed]
    return GradeReport(
        status=Submission.Status.PASSED if checks and not failed else Submission.Status.FAILED,
        score=round(passed / len(checks), 4) if checks else 0.0,
        checks=checks,
        message="" if not failed else f"{len(failed)} of {len(checks)} checks failed.",
        misconceptions=sorted({code for c in failed for code in c.misconceptions}),
        defects=sorted({tag for c in failed for tag in c.defects}),
    )
