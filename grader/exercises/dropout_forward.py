"""Exercise `dropout-forward`: the forward pass of inverted dropout."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from grader.exercises.base import CheckResult, Plan
from grader.exercises.checks import (
    DELTA,
    Array,
    Outcomes,
    PlanBuilder,
    as_float,
    combine,
    failed,
    generated,
    generator,
    hoeffding_sum_tolerance,
    hoeffding_tolerance,
    p_draw,
    passed,
    run_checks,
    seeds_draw,
    shape_text,
    signed_values,
    uniform_probability,
    value,
)
from grader.exercises.inverted import (
    INVERTED_CHECK_CODES,
    InvertedChecks,
    InvertedInputs,
    inverted_calls_add,
    inverted_scale_factors,
)
from grader.exercises.shared_checks import (
    Factor,
    check_drop_fraction,
    check_dtypes,
    check_fresh_mask,
    check_kept_scaled,
    check_seed_dependent,
    check_shapes,
    value_keys,
)
from grader.sandbox.harness import generated_input
from grader.sandbox.results import CallResult

FUNCTION = "dropout_forward"

STATEMENT = """\
Implement the forward pass of inverted dropout.

Convention: p is the probability of DROPPING a unit (as in PyTorch's nn.Dropout(p) and
Keras' Dropout(rate)); a unit is kept with probability 1 - p.

dropout_forward(x, p, training, rng) receives a float NumPy array x of any shape, the drop
probability p, a bool training and a numpy.random.Generator rng. It returns a NEW array of
the same shape and dtype as x (a float32 input gives a float32 output):

- training=True: every element is dropped (set to 0) independently with probability p, and
  every kept element is divided by 1 - p, so that the expected output equals x. Draw a
  fresh mask on every call, and use only rng for randomness (no np.random.*, no random
  module, no generator of your own), so that results are reproducible from rng's seed.
- training=False: dropout does nothing; the output equals x.
- p = 0 keeps everything; p = 1 drops everything and returns zeros (without NaN).
- p outside [0, 1] raises ValueError.
- x itself is never modified.

Your function will be called on large arrays too (a quarter of a million elements): use
vectorised NumPy operations, not a Python loop over the elements.
"""

SIGNATURE = (
    "def dropout_forward(x: np.ndarray, p: float, training: bool, "
    "rng: np.random.Generator) -> np.ndarray"
)

STARTER_CODE = '''\
import numpy as np


def dropout_forward(x, p, training, rng):
    """Inverted dropout.

    x: float ndarray of any shape; p: probability of DROPPING a unit, in [0, 1];
    training: apply dropout only when True; rng: numpy.random.Generator, the only
    source of randomness. Returns a new array with x's shape and dtype.
    """
    raise NotImplementedError
'''

REFERENCE_SOURCE = '''\
import numpy as np


def dropout_forward(x, p, training, rng):
    """Inverted dropout: drop each unit with probability p, scale kept units by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    x = np.asarray(x)
    if not training or p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1.0 - p), 0).astype(x.dtype, copy=False)
'''

HINTS = (
    "p is the probability of DROPPING a unit, so a unit is kept with probability 1 - p.",
    "rng.random(x.shape) >= p is True with probability 1 - p: a keep mask of x's shape.",
    "Divide the kept values by 1 - p so that the expected output equals the input.",
    "At training=False return (a copy of) x: inverted dropout does its scaling in training.",
    "Handle p = 1 before dividing by 1 - p; validate p first and raise ValueError.",
    "Build a new array (np.where, or x * mask) instead of assigning into x.",
    "x / (1 - p) keeps float32 as float32; an explicit float64 mask or .astype(float) does not.",
)

LARGE_SIZE = 2**18  # a Python loop takes ~0.4 s here, a vectorised call ~3 ms
LARGE_BLOCK = 2**16  # the large input tiles this many drawn values
# The main training input: rows x columns, about MAIN_ELEMENTS values. Sized by the power
# table (grader/POWER.md, grader/exercises/power.py): the mean check needs about 12,100
# values to tell "1-p dropped, nothing rescaled" from a correct layer at p = 0.8, and
# whole-column masks (one mask for every example) show in all but p^cols + (1-p)^cols ≤
# 0.8^65 ≈ 5e-7 of draws only with at least 65 columns.
MAIN_ELEMENTS = 12_500
MAIN_COLUMNS = (65, 100)

# Per check, in the order they run, the misconception codes it can name (Exercise.check_codes).
CHECK_CODES: dict[str, tuple[str, ...]] = {
    "shape": (),
    "dtype": (),
    "eval-identity": INVERTED_CHECK_CODES["eval-identity"],
    "drop-fraction": ("DO-PKEEP",),
    "kept-scaled": INVERTED_CHECK_CODES["kept-scaled"],
    "mean-preserved": ("DO-NOSCALE", "DO-PKEEP", "DO-SCHEME"),
    "fresh-mask": ("DO-FIXEDMASK", "DO-TARGETED"),
    "seed-reproducible": INVERTED_CHECK_CODES["seed-reproducible"],
    "seed-dependent": INVERTED_CHECK_CODES["seed-dependent"],
    "independent-elements": ("DO-FIXEDMASK",),
    "input-not-mutated": INVERTED_CHECK_CODES["input-not-mutated"],
    "p-zero": INVERTED_CHECK_CODES["p-zero"],
    "p-one": INVERTED_CHECK_CODES["p-one"],
    "invalid-p": INVERTED_CHECK_CODES["invalid-p"],
    "large-input": ("DO-NOSCALE", "DO-PKEEP", "DO-SCHEME"),  # drop fraction and kept-scaled
}


class DropoutForward:
    slug = "dropout-forward"
    title = "Inverted dropout: the forward pass"
    statement = STATEMENT
    signature = SIGNATURE
    functions = (FUNCTION,)
    starter_code = STARTER_CODE
    reference_source = REFERENCE_SOURCE
    hints = HINTS
    check_codes = CHECK_CODES

    def plan(self, seed: int) -> Plan:
        """Hidden inputs drawn from `seed`: shapes, p, values and generator seeds."""
        gen = np.random.default_rng(seed)
        p = p_draw(gen)
        s_main, s_seed, s_other, s_eval, s_f32, s_edge, s_large = seeds_draw(gen, 7)
        cols = int(gen.integers(MAIN_COLUMNS[0], MAIN_COLUMNS[1] + 1))
        main = gen.uniform(0.5, 1.5, size=(MAIN_ELEMENTS // cols, cols))  # positive: mean check
        eval_x = signed_values(gen, _dims(gen, 4, 2, 6), np.float32)
        f32 = signed_values(gen, _dims(gen, 3, 5, 15), np.float32)
        edge = signed_values(gen, _dims(gen, 1, 500, 1500))
        seed_x = signed_values(gen, _dims(gen, 2, 80, 120))  # ≥ 6,400 elements
        rows = int(gen.integers(500, 2001))
        # Made in the sandbox from its spec, and again here only to judge (see grader/POWER.md).
        large_spec = generated(s_large, (rows, LARGE_SIZE // rows), LARGE_BLOCK)
        p_low = -round(float(gen.uniform(0.05, 1.0)), 3)
        p_high = round(float(gen.uniform(1.05, 2.0)), 3)

        b = PlanBuilder(FUNCTION)
        inputs = InvertedInputs(p, main, eval_x, f32, edge, seed_x, p_low, p_high)
        inverted_calls_add(b, FUNCTION, inputs, (s_main, s_seed, s_other, s_eval, s_f32, s_edge))
        large_shape = (rows, LARGE_SIZE // rows)
        b.call(
            "large",
            [large_spec, value(p), value(True), generator("G", s_large)],
            f"{FUNCTION}(x, p={p:g}, training=True, rng) with x a float32 array of shape "
            f"{shape_text(large_shape)}",
        )
        context = {"eval_x": eval_x, "f32": f32, "edge": edge, "seed_x": seed_x}
        context["large_spec"] = large_spec["generated"]
        return b.build(p=p, main=main, p_low=p_low, p_high=p_high, **context)

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Every check's verdict; never raises, whatever `results` hold."""
        return _Checks(plan, results).run()


def _dims(gen: np.random.Generator, ndim: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(int(n) for n in gen.integers(low, high + 1, size=ndim))


class _Checks(InvertedChecks):
    """The check suite of one submission: one method per check, called with its id."""

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        super().__init__(plan, results)
        self.large_spec: dict[str, Any] = plan.context["large_spec"]

    @cached_property
    def large(self) -> Array:
        """The large input, made again here from its spec (the child's copy is never read)."""
        return generated_input(self.large_spec)

    def run(self) -> list[CheckResult]:
        return run_checks(
            [
                ("shape", self.shape),
                ("dtype", self.dtype),
                ("eval-identity", self.eval_identity),
                ("drop-fraction", self.drop_fraction),
                ("kept-scaled", self.kept_scaled),
                ("mean-preserved", self.mean_preserved),
                ("fresh-mask", self.fresh_mask),
                ("seed-reproducible", self.seed_reproducible),
                ("seed-dependent", self.seed_dependent),
                ("independent-elements", self.independent_elements),
                ("input-not-mutated", self.input_not_mutated),
                ("p-zero", self.p_zero),
                ("p-one", self.p_one),
                ("invalid-p", self.invalid_p),
                ("large-input", self.large_input),
            ],
            CHECK_CODES,
        )

    def shape(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): 1-D to 4-D inputs give outputs of the same shape."""
        names = ("train", "eval", "float32", "p_zero")
        arrays = (self.main, self.eval_x, self.f32, self.edge)
        expected = [(n, a.shape) for n, a in zip(names, arrays, strict=True)]
        large_shape = tuple(int(n) for n in self.large_spec["shape"])
        return check_shapes(self.out, check_id, [*expected, ("large", large_shape)])

    def dtype(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): float64 stays float64, float32 stays float32 (train and eval)."""
        names = ("train", "eval", "float32")
        arrays = (self.main, self.eval_x, self.f32)
        expected = [(n, a.dtype) for n, a in zip(names, arrays, strict=True)]
        return check_dtypes(self.out, check_id, [*expected, ("large", np.dtype(np.float32))])

    def drop_fraction(self, check_id: str) -> CheckResult:
        """δ = 1e-9, Hoeffding on the n ≈ 12,500 independent drop decisions (t ≈ 0.030)."""
        got = self.out.array(check_id, "train", self.main.shape)
        if isinstance(got, CheckResult):
            return got
        return check_drop_fraction(check_id, as_float(got) == 0, self.p)

    def mean_preserved(self, check_id: str) -> CheckResult:
        return _mean_preserved(self.out, check_id, self.main, self.p)

    def fresh_mask(self, check_id: str) -> CheckResult:
        """δ ≤ 0.68^12400 ≈ 0: two independent masks never coincide (see check_fresh_mask)."""
        first = self.out.array(check_id, "train", self.main.shape)
        if isinstance(first, CheckResult):
            return first
        second = self.out.array(check_id, "train_again", self.main.shape)
        if isinstance(second, CheckResult):
            return second
        return check_fresh_mask(
            check_id, as_float(first) == 0, as_float(second) == 0, keys=value_keys(self.main)
        )

    def seed_dependent(self, check_id: str) -> CheckResult:
        """δ ≈ 0 (see check_seed_dependent): another seed gives another output; ≥ 6,400
        element decisions (0.68^6400)."""
        return check_seed_dependent(
            self.out,
            check_id,
            "seed_first",
            "other_seed",
            self.seed_x.shape,
            keys=value_keys(self.seed_x),
        )

    def independent_elements(self, check_id: str) -> CheckResult:
        return _independent_elements(self.out, check_id, self.main, self.p)

    def large_input(self, check_id: str) -> CheckResult:
        return _large_input(self.out, check_id, self.large, self.p)


def _mean_preserved(out: Outcomes, check_id: str, x: Array, p: float) -> CheckResult:
    """The mean of the output is the mean of x, within a Hoeffding tolerance.

    δ = 1e-9: output_i ∈ [0, x_i/(1-p)] independently with E output_i = x_i (x > 0), so
    P(|Σ output - Σ x| ≥ t) ≤ 2 exp(-2 t² / Σ (x_i/(1-p))²). The relative tolerance is about
    1.3% at p = 0.2 and 5.4% at p = 0.8, while the mistakes it diagnoses change the mean by
    a factor 1-p, p, p/(1-p) or (1-p)/p, at least 20% away from 1 for p in [0.2, 0.8]."""
    got = out.array(check_id, "train", x.shape)
    if isinstance(got, CheckResult):
        return got
    mean_x = float(np.mean(x))
    tolerance = hoeffding_sum_tolerance(x / (1.0 - p)) / x.size / mean_x
    ratio = float(np.mean(got, dtype=np.float64)) / mean_x
    observed = (
        f"With p = {p:g} the mean output was {ratio:.3f} * the mean input "
        f"(expected 1 ± {tolerance:.3f})"
    )
    if abs(ratio - 1.0) <= tolerance:
        return passed(check_id, observed + ": the expected activation is preserved.")
    candidates = [
        (
            1.0 - p,
            "(1-p)",
            "the expected activation shrinks by (1-p) because kept units are not rescaled.",
            ("DO-NOSCALE",),
        ),
        (
            (1.0 - p) / p,
            "(1-p)/p",
            "kept units were scaled by 1/p instead of 1/(1-p).",
            ("DO-PKEEP",),
        ),
        (p / (1.0 - p), "p/(1-p)", "1-p of the units were dropped instead of p.", ("DO-PKEEP",)),
        (  # both beliefs are needed: either alone gives p/(1-p) or (1-p)
            p,
            "p",
            "1-p of the units were dropped and the rest not rescaled.",
            ("DO-PKEEP", "DO-NOSCALE"),
        ),
        (
            (1.0 - p) ** 2,
            "(1-p)²",
            "kept units were multiplied by 1-p instead of divided.",
            ("DO-SCHEME",),  # a scaling was applied, in the wrong direction: not DO-NOSCALE
        ),
        (  # both beliefs are needed, as for the factor p in kept-scaled
            (1.0 - p) * p,
            "(1-p)·p",
            "kept units were multiplied by p instead of divided by 1-p.",
            ("DO-PKEEP", "DO-SCHEME"),
        ),
    ]
    # A belief is named only when its ratio is the one candidate within the tolerance (about
    # 7 standard deviations): near p = 0.318, p/(1-p) and (1-p)² coincide, and the nearest
    # of the two would name the wrong belief half the time. kept-scaled names it exactly.
    near = [cand for cand in candidates if abs(cand[0] - ratio) <= tolerance]
    if len(near) == 1:
        factor, name, explanation, codes = near[0]
        return failed(
            check_id, f"{observed}. A ratio of {name} = {factor:.3f}: {explanation}", codes
        )
    if near:
        ratios = " and ".join(f"{name} = {factor:.3f}" for factor, name, *_ in near)
        return failed(
            check_id,
            f"{observed}. At this p the ratios {ratios} are too close for the mean to tell "
            "which scaling mistake it was; the kept-scaled check says which.",
        )
    return failed(check_id, f"{observed}.")


def _independent_elements(out: Outcomes, check_id: str, x: Array, p: float) -> CheckResult:
    """Units are dropped independently, not whole rows (examples) or whole columns (units).

    δ ≤ 1e-9, split in two: for a correct solution a row of `cols` elements is all-dropped or
    all-kept with probability r_row = p^cols + (1-p)^cols ≤ 0.8^40 ≈ 1.3e-4, independently
    per row; Hoeffding over the rows with δ/2 bounds the fraction of such rows by
    r_row + t_row (t_row ≈ 0.094 for 1250 rows). Likewise for columns (r_col ≈ 0,
    t_col ≤ 0.53 for 40 columns). Dropping whole rows (or columns) makes that fraction 1."""
    got = out.array(check_id, "train", x.shape)
    if isinstance(got, CheckResult):
        return got
    dropped = as_float(got) == 0
    rows, cols = dropped.shape
    total = int(np.count_nonzero(dropped))
    if total in (0, dropped.size):
        return failed(
            check_id,
            "Either no unit or every unit was dropped, so the independence of the drop decisions "
            "could not be observed.",
        )
    uniform_rows = float(np.mean(dropped.all(axis=1) | ~dropped.any(axis=1)))
    uniform_cols = float(np.mean(dropped.all(axis=0) | ~dropped.any(axis=0)))
    limit_rows = uniform_probability(p, cols) + hoeffding_tolerance(rows, DELTA / 2)
    limit_cols = uniform_probability(p, rows) + hoeffding_tolerance(cols, DELTA / 2)
    parts = []
    if uniform_rows > limit_rows:
        parts.append(
            failed(
                check_id,
                f"In a {rows} x {cols} input, {uniform_rows:.1%} of the rows were dropped or kept "
                f"as a whole (independent decisions give at most {limit_rows:.1%}). Dropout "
                "decides for every element independently; dropping whole rows removes entire "
                "examples.",
            )
        )
    if uniform_cols > limit_cols:
        parts.append(
            failed(
                check_id,
                f"In a {rows} x {cols} input, {uniform_cols:.1%} of the columns were dropped or "
                f"kept for every row (independent decisions give at most {limit_cols:.1%}): the "
                "same units were dropped for every example. Each example needs its own mask.",
                ["DO-FIXEDMASK"],
            )
        )
    return combine(
        check_id,
        parts,
        f"Drop decisions look independent per element: {uniform_rows:.2%} of the {rows} rows and "
        f"{uniform_cols:.1%} of the {cols} columns were dropped or kept as a whole.",
    )


def _large_input(out: Outcomes, check_id: str, x: Array, p: float) -> CheckResult:
    """One call on about 262,144 float32 values: shape, dtype, drop fraction and scaling.

    δ = 1e-9 (Hoeffding on ≈ 2.6·10⁵ drop decisions, t ≈ 0.0064; the scaling part is exact).
    A Python loop over the elements is about a hundred times slower than vectorised NumPy
    (≈ 0.4 s against ≈ 3 ms) but well within the CPU limit, so it passes; this check
    confirms that the big call returned a correct output."""
    got = out.array(check_id, "large", x.shape)
    if isinstance(got, CheckResult):
        return got
    parts = [
        check_drop_fraction(check_id, as_float(got) == 0, p),
        check_kept_scaled(
            check_id,
            got,
            x,
            Factor(1.0 / (1.0 - p), "1/(1-p)"),
            inverted_scale_factors(p),
            f"On {x.size:,} float32 values",
        ),
    ]
    if got.dtype != x.dtype:
        parts.append(
            failed(
                check_id,
                f"On the large input the output's dtype was {got.dtype}; expected {x.dtype}.",
                defects=["wrong-dtype"],
            )
        )
    return combine(
        check_id,
        parts,
        f"On {x.size:,} float32 values (shape {x.shape}) the output was float32 with about "
        f"{p:.0%} dropped and the rest scaled by 1/(1-p). A vectorised solution does this in "
        "milliseconds; a Python loop over the elements takes about a hundred times longer.",
    )


EXERCISE = DropoutForward()
