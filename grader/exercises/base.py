"""What every exercise provides, and what its checks report.

An exercise is a module in grader/exercises/ with a module-level EXERCISE object. The
trusted worker asks it for a plan (inputs chosen per submission from a seed the
learner never sees), the sandbox runs the plan (see grader/sandbox/harness.py), and the
exercise evaluates the decoded results: every comparison happens here, never in the
sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from grader.sandbox.results import CallResult

# Defects of code that are not misconceptions (misconceptions.md): tagged apart.
DEFECTS = frozenset(
    {
        "mutates-input",
        "ignores-rng",
        "wrong-shape",
        "wrong-dtype",
        "nan-at-p1",
        "accepts-invalid-p",
        "not-vectorised",
        "wrong-return-type",
        "crashes",
    }
)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, with a learner-facing message that gives the numbers."""

    id: str
    passed: bool
    message: str
    misconceptions: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()


@dataclass
class Plan:
    """The calls to make in the sandbox, their input arrays, and trusted-only context."""

    calls: list[dict[str, Any]]
    arrays: list[np.ndarray]
    context: dict[str, Any] = field(default_factory=dict)  # never sent to the sandbox


class Exercise(Protocol):
    slug: str
    title: str
    statement: str
    signature: str
    functions: tuple[str, ...]
    starter_code: str
    reference_source: str
    hints: tuple[str, ...]

    def plan(self, seed: int) -> Plan:
        """Return the calls and inputs for one submission, drawn from `seed`."""
        ...

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Return every check's verdict on the decoded results of `plan`."""
        ...
