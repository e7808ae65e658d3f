"""The checks several exercises share: shapes, dtypes, inputs left unchanged, ValueError
on bad arguments, reproducibility and seed dependence, fresh masks, the drop fraction and
the scaling of kept values. Their statistics and helpers are in grader.exercises.checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.exercises.base import CheckResult
from grader.exercises.checks import (
    VALUE_RTOL,
    Array,
    Outcomes,
    as_float,
    combine,
    describe,
    failed,
    hoeffding_tolerance,
    passed,
    raised_parts,
    shape_text,
)


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
            kind, text = raised_parts(result)
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
