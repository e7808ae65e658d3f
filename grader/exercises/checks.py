"""Shared pieces of the exercises' check suites: statistics, result access and messages.

Every check runs in the trusted worker on values decoded from the sandbox (CallResult), so
nothing here may assume that a result has the type, shape, dtype or values it should have.
Helpers that read a result return either the value or a failed CheckResult explaining what
came back instead, and `run_checks` turns any exception a check still raises into a failed
verdict (logged as a grader bug), so that `evaluate` never raises.

Statistics. A randomised check states δ, the probability that it fails a CORRECT solution,
and keeps δ ≤ DELTA = 1e-9 with a distribution-free bound:
- Hoeffding for a fraction of n independent indicators: P(|f - E f| ≥ t) ≤ 2 exp(-2 n t²),
  so t = sqrt(ln(2/δ) / (2n))                                      (hoeffding_tolerance);
- Hoeffding for a sum of independent variables, variable i confined to an interval of
  length r_i: P(|S - E S| ≥ t) ≤ 2 exp(-2 t² / Σ r_i²), t = sqrt(ln(2/δ) Σ r_i² / 2)
                                                                    (hoeffding_sum_tolerance);
- Bernstein for a mean of n i.i.d. variables with variance v and |Z - E Z| ≤ b:
  P(|mean - E| ≥ t) ≤ 2 exp(-n t² / (2v + 2bt/3))                  (bernstein_tolerance).
Checks that compare values with what the mask observed in the same output are exact
(δ = 0 up to float rounding, covered by a relative tolerance).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from grader.exercises.base import CheckResult, Plan
from grader.sandbox.results import CallResult, Unsupported

Array: TypeAlias = npt.NDArray[Any]

DELTA = 1e-9  # the largest false-failure probability of one check for a correct solution
VALUE_RTOL = 1e-5  # float tolerance of exact checks (float32 rounding is about 6e-8)
P_LOW = (0.2, 0.35)  # drop probabilities far from 0.5, so that p and 1-p are distinguishable
P_HIGH = (0.65, 0.8)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- statistics


def hoeffding_tolerance(n: int, delta: float = DELTA) -> float:
    """t such that a fraction of n independent indicators is within t of its mean w.p. ≥ 1-δ."""
    return math.sqrt(math.log(2.0 / delta) / (2.0 * max(n, 1)))


def hoeffding_sum_tolerance(ranges: Array, delta: float = DELTA) -> float:
    """t such that a sum of independent variables (ranges[i] wide) is within t of its mean."""
    return math.sqrt(math.log(2.0 / delta) * float(np.sum(np.square(ranges))) / 2.0)


def bernstein_tolerance(n: int, variance: float, bound: float, delta: float = DELTA) -> float:
    """t such that the mean of n i.i.d. variables with the given variance and |Z - E Z| ≤ bound
    is within t of its expectation w.p. ≥ 1-δ: the positive root of n t² = L (2v + 2bt/3)."""
    log_term = math.log(2.0 / delta)
    linear = 2.0 * bound * log_term / 3.0
    return (linear + math.sqrt(linear * linear + 8.0 * n * variance * log_term)) / (2.0 * n)


def uniform_probability(p: float, length: int) -> float:
    """The probability that `length` independent drop decisions (drop w.p. p) all agree."""
    return float(p**length + (1.0 - p) ** length)


def p_draw(gen: np.random.Generator) -> float:
    """A drop probability in [0.2, 0.35] or [0.65, 0.8], rounded to three decimals."""
    low, high = P_LOW if gen.random() < 0.5 else P_HIGH
    return round(float(gen.uniform(low, high)), 3)


def seeds_draw(gen: np.random.Generator, count: int) -> list[int]:
    """`count` distinct generator seeds (small enough for any JSON parser)."""
    seeds: list[int] = []
    while len(seeds) < count:
        seed = int(gen.integers(0, 2**32))
        if seed not in seeds:
            seeds.append(seed)
    return seeds


def signed_values(
    gen: np.random.Generator, shape: tuple[int, ...], dtype: type[np.floating[Any]] = np.float64
) -> Array:
    """Values with magnitudes in [0.5, 2] and random signs: never zero, so 0 means dropped."""
    magnitudes = gen.uniform(0.5, 2.0, size=shape)
    signs = np.where(gen.random(size=shape) < 0.5, -1.0, 1.0)
    return np.asarray(magnitudes * signs, dtype=dtype)


# --------------------------------------------------------------------------- the plan


class PlanBuilder:
    """Collects harness calls under names, so that checks can find their results by name."""

    def __init__(self, function: str) -> None:
        self.function = function  # the function called unless a call names another
        self.calls: list[dict[str, Any]] = []
        self.arrays: list[Array] = []
        self.index: dict[str, int] = {}
        self.labels: dict[str, str] = {}

    def array(self, value: Array) -> dict[str, Any]:
        self.arrays.append(value)
        return {"array": len(self.arrays) - 1}

    def network(self, weights: Sequence[Array], p: float) -> dict[str, Any]:
        """A stochastic network argument: (w1, b1, w2, b2) and its dropout probability."""
        indices = [self.array(weight)["array"] for weight in weights]
        return {"network": {"weights": indices, "p": p}}

    def call(
        self,
        name: str,
        args: list[dict[str, Any]],
        label: str,
        *,
        return_inputs: bool = False,
        function: str | None = None,
    ) -> None:
        """Add a call named `name`; `label` describes it to the learner in messages."""
        self.index[name] = len(self.calls)
        self.labels[name] = label
        call: dict[str, Any] = {"function": function or self.function, "args": args}
        if return_inputs:
            call["return_inputs"] = True
        self.calls.append(call)

    def build(self, **context: Any) -> Plan:
        context["index"] = dict(self.index)
        context["labels"] = dict(self.labels)
        return Plan(calls=self.calls, arrays=self.arrays, context=context)


def generated(seed: int, shape: tuple[int, ...], block: int) -> dict[str, Any]:
    """An input the sandbox makes itself (harness.generated_input): it never crosses the
    boundary, and the trusted side makes it again from the same spec to judge."""
    return {"generated": {"seed": seed, "shape": list(shape), "block": block}}


def value(x: Any) -> dict[str, Any]:
    return {"value": x}


def generator(name: str, seed: int) -> dict[str, Any]:
    return {"rng": name, "seed": seed}


def shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def array_text(array: Array) -> str:
    return f"a {array.dtype} array of shape {shape_text(array.shape)}"


# --------------------------------------------------------------------------- verdicts


def passed(check_id: str, message: str) -> CheckResult:
    return CheckResult(id=check_id, passed=True, message=message)


def failed(
    check_id: str,
    message: str,
    misconceptions: Iterable[str] = (),
    defects: Iterable[str] = (),
) -> CheckResult:
    return CheckResult(
        id=check_id,
        passed=False,
        message=message,
        misconceptions=tuple(dict.fromkeys(misconceptions)),
        defects=tuple(dict.fromkeys(defects)),
    )


def combine(check_id: str, parts: Sequence[CheckResult], success: str) -> CheckResult:
    """One verdict from several: passed with `success` if all passed, else the failures."""
    failures = [part for part in parts if not part.passed]
    if not failures:
        return passed(check_id, success)
    return failed(
        check_id,
        " ".join(dict.fromkeys(part.message for part in failures)),
        [code for part in failures for code in part.misconceptions],
        [tag for part in failures for tag in part.defects],
    )


GRADER_ERROR = "The grader could not evaluate this check"


def run_checks(
    checks: Sequence[tuple[str, Callable[[str], CheckResult]]],
    codes: Mapping[str, tuple[str, ...]],
) -> list[CheckResult]:
    """Run every check (called with its id); one that raises (a grader bug) becomes a failure.

    `codes` is the exercise's declaration (Exercise.check_codes): a check that is not
    declared, or names a code its declaration lacks, is a grader bug and is logged; the
    verdict is kept as it is, since hiding evidence from the learner would be worse."""
    verdicts: list[CheckResult] = []
    for check_id, check in checks:
        try:
            with np.errstate(all="ignore"):
                verdict = check(check_id)
        except Exception as error:  # never let one check's bug lose the whole evaluation
            logger.exception("check %s raised", check_id)
            verdict = failed(
                check_id,
                f"{GRADER_ERROR} ({type(error).__name__}); this is a problem with the grader, "
                "not with your code.",
            )
        if check_id not in codes:
            logger.error("check %s is not declared in the exercise's check_codes", check_id)
        elif undeclared := set(verdict.misconceptions) - set(codes[check_id]):
            logger.error("check %s named codes it does not declare: %s", check_id, undeclared)
        verdicts.append(verdict)
    return verdicts


# --------------------------------------------------------------------------- results


def describe(value: Any) -> str:
    """A learner-facing description of a decoded value."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return array_text(value)
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, float):
        return f"the number {value:g}"
    if isinstance(value, tuple):
        return f"a sequence of {len(value)} item(s)"
    if isinstance(value, Unsupported):
        name = value.type_name.removeprefix("builtins.")
        if name in ("list", "tuple"):
            return f"a {name} (nested too deep or too long to be an array)"
        return f"an object of type {name}"
    return f"a value of type {type(value).__name__}"


def as_float(array: Array) -> Array:
    """The values as float32 (kept, for speed on big arrays) or float64 (everything else)."""
    if array.dtype in (np.float32, np.float64):
        return np.asarray(array)
    return np.asarray(array, dtype=np.float64)


class Outcomes:
    """The decoded results of a plan, found by the names the plan gave its calls."""

    def __init__(self, plan: Plan, results: Sequence[CallResult]) -> None:
        context = plan.context if isinstance(plan.context, dict) else {}
        index = context.get("index")
        labels = context.get("labels")
        self._index: dict[str, int] = index if isinstance(index, dict) else {}
        self._labels: dict[str, str] = labels if isinstance(labels, dict) else {}
        self._results = list(results) if isinstance(results, list | tuple) else []

    def label(self, name: str) -> str:
        return self._labels.get(name, name)

    def get(self, name: str) -> CallResult | None:
        position = self._index.get(name)
        if not isinstance(position, int) or not 0 <= position < len(self._results):
            return None
        result = self._results[position]
        return result if isinstance(result, CallResult) else None

    def raised(self, check_id: str, name: str) -> CheckResult | None:
        """A failed verdict if the call did not return normally, else None."""
        result = self.get(name)
        label = self.label(name)
        if result is None:
            return failed(check_id, f"No result was recorded for {label}.")
        if result.raised is not None:
            kind, text = raised_parts(result)
            if kind == "MissingFunction":
                return failed(check_id, f"{label} could not run: your code has {text}.")
            return failed(
                check_id, f"{label} raised {kind}: {text}".rstrip(": ") + ".", defects=["crashes"]
            )
        return None

    def returned(self, check_id: str, name: str) -> Any | CheckResult:
        """The returned value (possibly of any type), or a failed verdict if it raised."""
        problem = self.raised(check_id, name)
        if problem is not None:
            return problem
        result = self.get(name)
        return None if result is None else result.returned

    def array(
        self, check_id: str, name: str, shape: tuple[int, ...] | None = None
    ) -> Array | CheckResult:
        """The returned ndarray, checked for its shape, or a failed verdict saying why not."""
        value = self.returned(check_id, name)
        if isinstance(value, CheckResult):
            return value
        return array_or_failure(check_id, value, self.label(name), shape)

    def input_after(self, name: str, position: int) -> Any:
        result = self.get(name)
        if result is None or not isinstance(result.inputs_after, list):
            return None
        if not 0 <= position < len(result.inputs_after):
            return None
        return result.inputs_after[position]


def array_or_failure(
    check_id: str,
    value: Any,
    label: str,
    shape: tuple[int, ...] | None,
    shape_reason: str = "the same as the input",
) -> Array | CheckResult:
    if not isinstance(value, np.ndarray):
        return failed(
            check_id,
            f"{label} returned {describe(value)}; expected a NumPy ndarray"
            + (f" of shape {shape_text(shape)}." if shape is not None else "."),
            defects=["wrong-return-type"],
        )
    if shape is not None and tuple(value.shape) != tuple(shape):
        return failed(
            check_id,
            f"{label} returned an array of shape {shape_text(value.shape)}; "
            f"expected shape {shape_text(shape)}, {shape_reason}.",
            defects=["wrong-shape"],
        )
    return value


def raised_parts(result: CallResult) -> tuple[str, str]:
    """Return the exception type and message the learner's code raised, as text."""
    raised = result.raised
    if isinstance(raised, tuple) and len(raised) == 2:
        return str(raised[0]), str(raised[1])
    return "an exception", ""
