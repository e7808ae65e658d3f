"""What every exercise provides, and what its checks report.

An exercise is a module in grader/exercises/ with a module-level EXERCISE object. The
trusted worker asks it for a plan (inputs chosen per submission from a seed the
learner never sees), the sandbox runs the plan (see grader/sandbox/harness.py), and the
exercise evaluates the decoded results: every comparison happens here, never in the
sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from grader.sandbox.results import CallResult

# Defects of code that are not misconceptions (misconceptions.md): tagged apart.
# "mask-inverted": a mask argument read the other way round (keep_mask taken for a drop
# mask). What the argument means is a fact of the function's interface, stated in the
# exercise, not a belief about dropout: such code still zeroes one set of units and scales
# the other by the right factor, so it is reported like a wrong shape, not as a
# misconception (it is not DO-PKEEP: the probability p is used correctly).
DEFECTS = frozenset(
    {
        "mutates-input",
        "ignores-rng",
        "mask-inverted",
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
    # Per check id, in the order the checks run, every misconception code that check can
    # name when it fails (an empty tuple: it names none, only defects or nothing). Declared
    # without running anything, so that coverage ("which checks name DO-X") can be listed.
    check_codes: Mapping[str, tuple[str, ...]]

    def plan(self, seed: int) -> Plan:
        """Return the calls and inputs for one submission, drawn from `seed`."""
        ...

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Return every check's verdict on the decoded results of `plan`."""
        ...
