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
from dataclasses import dataclass, field
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
            kind, text = _raised(result)
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


def _raised(result: CallResult) -> tuple[str, str]:
    raised = result.raised
    if isinstance(raised, tuple) and len(raised) == 2:
        return str(raised[0]), str(raised[1])
    return "an exception", ""


# --------------------------------------------------------------------------- shared checks


def check_shapes(
    outcomes: Outcomes, check_id: str, expected: Sequence[tuple[str, tuple[int, ...]]]
) -> CheckResult:
    """Exact: every listed call returned an ndarray of the input's shape (δ = 0)."""
    parts: list[CheckResult] = []
    for name, shape in expected:
        got = outcomes.array(check_id, name, shape)
        parts.append(got if isinstance(got, CheckResult) else passed(check_id, ""))
    shapes = ", ".join(shape_text(shape) for _, shape in expected)
    return combine(check_id, parts, f"Every output had its input's shape: {shapes}.")


def check_dtypes(
    outcomes: Outcomes, check_id: str, expected: Sequence[tuple[str, np.dtype[Any]]]
) -> CheckResult:
    """Exact: every listed call returned an ndarray of the input's dtype (δ = 0)."""
    parts: list[CheckResult] = []
    for name, dtype in expected:
        got = outcomes.array(check_id, name)
        if isinstance(got, CheckResult):
            parts.append(got)
        elif got.dtype != dtype:
            parts.append(
                failed(
                    check_id,
                    f"For {outcomes.label(name)} the output's dtype was {got.dtype}; expected "
                    f"{dtype}, the input's dtype (a float32 input must stay float32).",
                    defects=["wrong-dtype"],
                )
            )
        else:
            parts.append(passed(check_id, ""))
    dtypes = ", ".join(sorted({str(dtype) for _, dtype in expected}))
    return combine(check_id, parts, f"Every output kept its input's dtype ({dtypes}).")


def check_not_mutated(
    outcomes: Outcomes, check_id: str, expected: Sequence[tuple[str, int, Array, str]]
) -> CheckResult:
    """Exact: the arrays passed in are unchanged after the call (δ = 0).

    `expected` lists (call name, position among the call's array arguments, the original,
    the argument's name)."""
    parts: list[CheckResult] = []
    for name, position, original, argument in expected:
        after = outcomes.input_after(name, position)
        label = outcomes.label(name)
        if not isinstance(after, np.ndarray) or after.shape != original.shape:
            parts.append(
                failed(check_id, f"Could not read back `{argument}` after {label}.")
                if outcomes.get(name) is not None
                else failed(check_id, f"No result was recorded for {label}.")
            )
            continue
        changed = ~_same_values(after, original)
        count = int(np.count_nonzero(changed))
        if count:
            where = tuple(int(i) for i in np.argwhere(changed)[0])
            parts.append(
                failed(
                    check_id,
                    f"{label} modified its input `{argument}` in place: {count:,} of "
                    f"{original.size:,} values changed (at index {where} "
                    f"{float(original[where]):.4g} became {float(after[where]):.4g}). "
                    "Work on a copy: the caller may still need the array.",
                    defects=["mutates-input"],
                )
            )
        else:
            parts.append(passed(check_id, ""))
    arguments = ", ".join(sorted({f"`{argument}`" for *_, argument in expected}))
    return combine(check_id, parts, f"The inputs ({arguments}) were left unchanged.")


def _same_values(a: Array, b: Array) -> Array:
    a64, b64 = as_float(a), as_float(b)
    return np.asarray((a64 == b64) | (np.isnan(a64) & np.isnan(b64)))


def check_raises_value_error(
    outcomes: Outcomes, check_id: str, cases: Sequence[tuple[str, float]]
) -> CheckResult:
    """Exact: an invalid p raises ValueError (δ = 0)."""
    parts: list[CheckResult] = []
    for name, p in cases:
        result = outcomes.get(name)
        label = outcomes.label(name)
        if result is None:
            parts.append(failed(check_id, f"No result was recorded for {label}."))
        elif result.raised is None:
            parts.append(
                failed(
                    check_id,
                    f"With p = {p:g} (outside [0, 1]) the call returned "
                    f"{describe(result.returned)} instead of raising ValueError: a probability "
                    "outside [0, 1] is a bug in the caller and should be reported, not used.",
                    defects=["accepts-invalid-p"],
                )
            )
        else:
            kind, text = _raised(result)
            if kind == "ValueError":
                parts.append(passed(check_id, ""))
            elif kind == "MissingFunction":
                parts.append(outcomes.raised(check_id, name) or failed(check_id, text))
            else:
                parts.append(
                    failed(
                        check_id,
                        f"With p = {p:g} the call raised {kind}: {text}; expected ValueError, "
                        "the conventional exception for an invalid argument value.",
                        defects=["crashes"],
                    )
                )
    values = " and ".join(f"{p:g}" for _, p in cases)
    return combine(check_id, parts, f"p = {values} raised ValueError, as expected.")


def check_reproducible(
    outcomes: Outcomes, check_id: str, first: str, second: str, shape: tuple[int, ...]
) -> CheckResult:
    """Exact: two fresh generators with the same seed give identical outputs (δ = 0)."""
    a = outcomes.array(check_id, first, shape)
    if isinstance(a, CheckResult):
        return a
    b = outcomes.array(check_id, second, shape)
    if isinstance(b, CheckResult):
        return b
    same = _same_values(a, b)
    if bool(np.all(same)):
        return passed(
            check_id,
            "Two generators created with the same seed gave identical outputs: your function "
            "draws its randomness only from `rng`, so results are reproducible.",
        )
    return failed(
        check_id,
        f"Two generators created with the same seed gave different outputs ({int(np.sum(~same)):,}"
        f" of {same.size:,} values differ). The randomness must come only from the `rng` "
        "argument: np.random.*, the random module or an unseeded generator created inside the "
        "function give different draws on every call, whatever rng's seed.",
        defects=["ignores-rng"],
    )


def zeros(out: Array) -> Array:
    """The dropped units of an element-wise dropout output: its zeros (inputs have none)."""
    return np.asarray(as_float(out) == 0)


def value_keys(x: Array) -> list[tuple[str, Array]]:
    """The orders a mask chosen by value would follow, per element: values and magnitudes."""
    x64 = as_float(x)
    return [("values", x64), ("magnitudes", np.abs(x64))]


def value_ordered(dropped: Array, keys: Sequence[tuple[str, Array]]) -> str | None:
    """Say by which key the dropped units are exactly the lowest or the highest, if they are.

    Only asked once a check has already failed, to name the belief: a random mask that drops
    m of n ≥ 900 units is one of C(n, m) equally likely sets, at most two of which are
    ordered by a given key, so a random mask is never mistaken for a chosen one."""
    if not bool(np.any(dropped)) or bool(np.all(dropped)):
        return None
    for name, key in keys:
        if key.shape != dropped.shape:
            continue
        out, kept = key[dropped], key[~dropped]
        if float(np.max(out)) <= float(np.min(kept)):
            return f"smallest {name}"
        if float(np.min(out)) >= float(np.max(kept)):
            return f"largest {name}"
    return None


def _targeted(check_id: str, head: str, order: str) -> CheckResult:
    return failed(
        check_id,
        f"{head}: exactly the ones with the {order}. Dropout drops units at random, each with "
        "probability p whatever its value; which units are dropped must come from `rng`, "
        "never from x.",
        misconceptions=["DO-TARGETED"],
    )


def check_seed_dependent(
    outcomes: Outcomes,
    check_id: str,
    first: str,
    second: str,
    shape: tuple[int, ...],
    dropped: Callable[[Array], Array] = zeros,
    keys: Sequence[tuple[str, Array]] = (),
    unit: str = "units",
) -> CheckResult:
    """Two generators with different seeds must give different outputs.

    δ: for a correct solution the outputs agree everywhere with probability at most
    (p² + (1-p)²)^n ≤ 0.68^n for n ≥ 900 independent drop decisions, far below 1e-9.
    `dropped` turns an output into its drop decisions; `keys` (shaped like them) are the
    orders a mask chosen by value would follow."""
    a = outcomes.array(check_id, first, shape)
    if isinstance(a, CheckResult):
        return a
    b = outcomes.array(check_id, second, shape)
    if isinstance(b, CheckResult):
        return b
    if not bool(np.all(_same_values(a, b))):
        return passed(check_id, "Generators with different seeds gave different outputs.")
    decisions = dropped(a)
    n, count = decisions.size, int(np.count_nonzero(decisions))
    head = f"Generators with two different seeds gave exactly the same output ({a.size:,} values)"
    if count in (0, n):
        # Nothing was left to chance: no mask to speak of, so no evidence of a fixed one.
        return failed(
            check_id,
            f"{head}, with {'none' if count == 0 else 'every one'} of the {n:,} {unit} dropped, "
            "so whether the mask depends on the seed could not be observed.",
        )
    same = f"{head}: the same {count:,} of {n:,} {unit} were dropped with both"
    order = value_ordered(decisions, keys)
    if order is not None:
        return _targeted(check_id, same, order)
    # The same units dropped on two passes whatever the generator: a fixed mask, the
    # catalogue's evidence of DO-FIXEDMASK. An unseeded generator of the function's own
    # would not do this (its draws change on every call: the reproducibility check fails).
    return failed(
        check_id,
        f"{same}, so the mask does not come from `rng`. A generator created inside the function "
        "with a fixed seed (or np.random re-seeded with a constant) draws the same mask on every "
        "call, and so does a mask kept from an earlier call: the same units are then dropped on "
        "every pass. Draw the mask from the `rng` argument.",
        misconceptions=["DO-FIXEDMASK"],
        defects=["ignores-rng"],
    )


def check_fresh_mask(
    check_id: str,
    first: Array,
    second: Array,
    unit: str = "units",
    keys: Sequence[tuple[str, Array]] = (),
) -> CheckResult:
    """Two calls with the same generator must drop different units (`first`, `second`: dropped).

    δ: for a correct solution the two masks are independent and agree everywhere with
    probability at most (p² + (1-p)²)^n ≤ 0.68^n for n ≥ 1000 decisions, far below 1e-9.
    `keys` (shaped like the masks) are the orders a mask chosen by value would follow."""
    n = first.size
    d1, d2 = int(np.count_nonzero(first)), int(np.count_nonzero(second))
    if d1 in (0, n) and d2 in (0, n):
        return failed(
            check_id,
            f"In both calls either none or all of the {n:,} {unit} were dropped, so whether a "
            "fresh mask is drawn on every call could not be observed.",
        )
    agree = float(np.mean(first == second))
    if agree == 1.0:
        head = f"Two calls with the same generator dropped exactly the same {d1:,} of {n:,} {unit}"
        order = value_ordered(first, keys)
        if order is not None:
            return _targeted(check_id, head, order)
        return failed(
            check_id,
            f"{head}. Dropout draws a fresh random mask on every forward pass; a mask kept from "
            "an earlier call, or drawn from a generator created inside the function with a fixed "
            "seed (or np.random re-seeded with a constant), drops the same units on every call.",
            misconceptions=["DO-FIXEDMASK"],
        )
    return passed(
        check_id,
        f"Two calls with the same generator drew different masks (they agreed on {agree:.1%} of "
        f"the {n:,} {unit}, as independent masks do).",
    )


def check_drop_fraction(
    check_id: str, dropped: Array, p: float, unit: str = "units"
) -> CheckResult:
    """The fraction of dropped units is p within a Hoeffding tolerance.

    δ = 1e-9: the n drop decisions are independent Bernoulli(p), so
    P(|fraction - p| ≥ t) ≤ 2 exp(-2 n t²) = δ with t = sqrt(ln(2/δ) / (2n))."""
    n = dropped.size
    if n == 0:
        return failed(check_id, f"There were no {unit} to count.")
    fraction = float(np.mean(dropped))
    t = hoeffding_tolerance(n)
    observed = f"With p = {p:g}, {fraction:.2%} of {n:,} {unit} were dropped"
    expected = f"expected {p:.1%} ± {t:.2%}"
    if abs(fraction - p) <= t:
        return passed(check_id, f"{observed} ({expected}).")
    if abs(fraction - (1.0 - p)) <= t:
        return failed(
            check_id,
            f"{observed}; {expected}. Dropping 1-p = {1 - p:g} instead of p suggests the drop and "
            "keep probabilities are swapped: here p is the probability of DROPPING a unit.",
            misconceptions=["DO-PKEEP"],
        )
    if fraction == 0.0:
        return failed(check_id, f"{observed}; {expected}. No {unit[:-1]} was dropped at all.")
    return failed(check_id, f"{observed}; {expected}.")


@dataclass(frozen=True)
class Factor:
    """A candidate factor between output and input, with what it would reveal."""

    value: float
    name: str
    explanation: str = ""
    misconceptions: tuple[str, ...] = ()
    defects: tuple[str, ...] = field(default=())


def factor_match(ratios: Array, candidates: Sequence[Factor]) -> Factor | None:
    """The candidate every ratio equals (within a relative 1e-4), if any."""
    if ratios.size == 0:
        return None
    for candidate in candidates:
        if bool(np.all(np.abs(ratios - candidate.value) <= 1e-4 * abs(candidate.value))):
            return candidate
    return None


def check_kept_scaled(
    check_id: str,
    out: Array,
    x: Array,
    expected: Factor,
    wrong: Sequence[Factor],
    what: str,
) -> CheckResult:
    """Exact: every kept (non-zero) output equals x * the expected factor (δ = 0)."""
    o, x64 = as_float(out), as_float(x)
    kept = o != 0
    count = int(np.count_nonzero(kept))
    if count == 0:
        return failed(check_id, f"{what}: every value was 0, so no kept value could be checked.")
    target = x64 * expected.value
    if bool(np.all(~kept | (np.abs(o - target) <= VALUE_RTOL * np.abs(target)))):
        factor = (
            "x, unscaled"
            if expected.value == 1.0
            else f"x * {expected.name} = x * {expected.value:.4g}"
        )
        return passed(check_id, f"{what}: all {count:,} kept values equal {factor}.")
    ratios = o[kept] / x64[kept]
    match = factor_match(ratios, wrong)
    head = (
        f"{what}: kept values should equal x, unscaled"
        if expected.value == 1.0
        else f"{what}: kept values should equal x * {expected.name} = x * {expected.value:.4g}"
    )
    if match is not None:
        return failed(
            check_id,
            f"{head}, but they were x * {match.name} = x * {match.value:.4g}. {match.explanation}",
            match.misconceptions,
            match.defects,
        )
    bad = int(np.count_nonzero(np.abs(o[kept] - target[kept]) > VALUE_RTOL * np.abs(target[kept])))
    finite = ratios[np.isfinite(ratios)]
    median = (
        f"; the median ratio output/x was {float(np.median(finite)):.4g}" if finite.size else ""
    )
    return failed(check_id, f"{head}, but {bad:,} of {count:,} kept values differ{median}.")
