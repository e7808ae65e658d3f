"""The power table: for every check, how often it fails a correct solution and how often it
misses each defect it names, recomputed from the sample sizes and thresholds the checks use.

Two numbers per (check, defect), each a rigorous upper bound (Hoeffding, or an exact
probability), worst case over every drop probability the plans draw (`P_VALUES`) and every
input the plans can draw (sizes at their smallest, values anywhere in their ranges):

- false-fail: the probability that the check fails a CORRECT solution; at most DELTA = 1e-9.
- miss: the probability that the check, run on code with the defect, passes or names a
  code the defect does not carry; at most MISS = 1e-6. Failing without a code is not a miss
  of detection, and is reported as such where it can happen (see `Row.note`).

`python -m grader.exercises.power` prints the table that grader/POWER.md holds;
tests/grader/test_power.py recomputes it, checks both limits and that the file is current.
No simulation: every number comes from a bound below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from grader.exercises import (
    dropout_backward,
    dropout_classic,
    dropout_forward,
    mc_dropout,
    spatial_dropout,
)
from grader.exercises.checks import (
    DELTA,
    P_HIGH,
    P_LOW,
    hoeffding_tolerance,
    uniform_probability,
)

MISS = 1e-6  # the largest probability that a check misses a defect it names
LOG_TERM = math.log(2.0 / DELTA)  # L: a Hoeffding tolerance t gives 2 exp(-2 n t²) = δ
# Values of the mean check's input lie in [0.5, 1.5]: (Σx)² / Σx² ≥ n · 4ab/(a+b)² = 0.75 n
# (Polya-Szego), the effective number of terms in its Hoeffding bounds.
MEAN_INPUT_SPREAD = 0.75
# Two calls of the exercise's own plans: one on fewer values than this could not show a
# fixed or targeted mask (see shared_checks.value_ordered); orders a chosen mask may follow.
VALUE_KEYS = 3


def _p_values(low: float, high: float) -> list[float]:
    return [round(k / 1000, 3) for k in range(round(low * 1000), round(high * 1000) + 1)]


# Every drop probability p_draw can return: three decimals in [0.2, 0.35] or [0.65, 0.8].
P_VALUES = tuple(_p_values(*P_LOW) + _p_values(*P_HIGH))


def hoeffding_miss(n_eff: float, gap: float, width: float = 1.0) -> float:
    """P(a mean of independent terms, each `width` wide, strays `gap` from its expectation)."""
    if gap <= 0:
        return 1.0
    return min(1.0, 2.0 * math.exp(-2.0 * n_eff * gap * gap / (width * width)))


def uniform_chance(n: int) -> float:
    """Worst P(n independent decisions all agree) over the drawn p: nothing to observe."""
    return max(uniform_probability(p, n) for p in P_VALUES)


def agree_chance(n: int) -> float:
    """Worst P(two independent masks of n decisions agree everywhere)."""
    return max((p * p + (1 - p) * (1 - p)) ** n for p in P_VALUES)


def ordered_chance(n: int) -> float:
    """P(a random mask of n decisions is ordered by one of the value keys), summed over its
    size m: Σ_m C(n,m) q^m (1-q)^(n-m) · 2·keys / C(n,m) ≤ 2·keys·(n+1)·max(q, 1-q)^n."""
    return min(1.0, 2 * VALUE_KEYS * (n + 1) * max(max(p, 1 - p) ** n for p in P_VALUES))


@dataclass(frozen=True)
class Row:
    """One check's line of the table."""

    exercise: str
    check: str
    n: str  # the sample the bound counts, as the table shows it
    false_fail: float
    misses: dict[str, float] = field(default_factory=dict)  # defect (with its code) → bound
    how: str = ""
    note: str = ""

    @property
    def worst_miss(self) -> float:
        return max(self.misses.values(), default=0.0)


# --------------------------------------------------------------------------- bounds


def drop_fraction_false_fail(n: int) -> float:
    """Hoeffding at the check's tolerance t = sqrt(L / 2n): exactly δ."""
    t = hoeffding_tolerance(n)
    return 2.0 * math.exp(-2.0 * n * t * t)


def drop_fraction_miss_pkeep(n: int) -> float:
    """Code that drops 1-p instead of p: the fraction f ~ Bin(n, 1-p)/n. The check passes
    only if |f - p| ≤ t, i.e. f strays |1-2p| - t from 1-p; it names DO-PKEEP unless
    |f - (1-p)| > t (probability ≤ δ)."""
    t = hoeffding_tolerance(n)
    return max(hoeffding_miss(n, abs(1 - 2 * p) - t) + DELTA for p in P_VALUES)


@dataclass(frozen=True)
class ScalingDefect:
    """A training pass that drops `dropped(p)` of the units and multiplies the kept by s(p):
    the mean ratio output/input is c(p) = (1 - dropped) · s."""

    name: str
    codes: tuple[str, ...]
    dropped: Callable[[float], float]
    scale: Callable[[float], float]

    def ratio(self, p: float) -> float:
        return (1 - self.dropped(p)) * self.scale(p)


# The mean check's candidates (dropout_forward._mean_preserved), as the code behind them.
MEAN_DEFECTS = (
    ScalingDefect("kept units not rescaled", ("DO-NOSCALE",), lambda p: p, lambda p: 1.0),
    ScalingDefect("kept units divided by p", ("DO-PKEEP",), lambda p: p, lambda p: 1 / p),
    ScalingDefect(
        "1-p dropped, kept divided by 1-p", ("DO-PKEEP",), lambda p: 1 - p, lambda p: 1 / (1 - p)
    ),
    ScalingDefect(
        "1-p dropped, nothing rescaled", ("DO-PKEEP", "DO-NOSCALE"), lambda p: 1 - p, lambda p: 1.0
    ),
    ScalingDefect("kept units multiplied by 1-p", ("DO-SCHEME",), lambda p: p, lambda p: 1 - p),
    ScalingDefect(
        "kept units multiplied by p", ("DO-PKEEP", "DO-SCHEME"), lambda p: p, lambda p: p
    ),
)


def mean_tolerances(n: int, p: float) -> tuple[float, float]:
    """The mean check's tolerance on the ratio, τ = sqrt(L Σx² / 2) / ((1-p) Σx), at its
    smallest and largest over inputs in [0.5, 1.5] (n_eff = (Σx)²/Σx² in [0.75 n, n])."""
    return (
        math.sqrt(LOG_TERM / (2 * n)) / (1 - p),
        math.sqrt(LOG_TERM / (2 * MEAN_INPUT_SPREAD * n)) / (1 - p),
    )


def mean_miss(n: int, defect: ScalingDefect) -> float:
    """P(the mean check passes the defect, or names another candidate's belief).

    Outputs lie in [0, s·x_i], so P(|ratio - c| ≥ u) ≤ 2 exp(-2 u² n_eff / s²). It passes
    only if |ratio - 1| ≤ τ: |ratio - c| ≥ |1 - c| - τ. It names another candidate c' only
    if c' is the one candidate within τ: |ratio - c| ≥ max(τ, |c - c'| - τ); at u = τ itself
    the bound is 2 exp(-L / (s (1-p))²) whatever the input."""
    worst = 0.0
    for p in P_VALUES:
        c, s = defect.ratio(p), defect.scale(p)
        _, tau_high = mean_tolerances(n, p)
        n_eff = MEAN_INPUT_SPREAD * n
        miss = hoeffding_miss(n_eff, abs(1 - c) - tau_high, s)
        at_tau = min(1.0, 2.0 * math.exp(-LOG_TERM / (s * (1 - p)) ** 2))
        for other in MEAN_DEFECTS:
            if other is defect:
                continue
            apart = hoeffding_miss(n_eff, abs(c - other.ratio(p)) - tau_high, s)
            miss += min(at_tau, apart)
        worst = max(worst, miss)
    return min(1.0, worst)


def mean_unnamed_band(n: int, defect: ScalingDefect) -> list[float]:
    """The drawn p at which another candidate lies within 2τ of the defect's ratio: there the
    check may fail without naming the belief (kept-scaled names it exactly)."""
    band = []
    for p in P_VALUES:
        _, tau_high = mean_tolerances(n, p)
        c, s = defect.ratio(p), defect.scale(p)
        # how far the ratio strays from c but with probability MISS
        stray = s * math.sqrt(math.log(2 / MISS) / (2 * MEAN_INPUT_SPREAD * n))
        if any(
            abs(c - other.ratio(p)) <= tau_high + stray
            for other in MEAN_DEFECTS
            if other is not defect
        ):
            band.append(p)
    return band


def independence_false_fail(rows: int, cols: int) -> float:
    """Hoeffding with δ/2 over rows and δ/2 over columns, plus the chance that a correct mask
    drops none or all (then nothing is observed)."""
    return DELTA + 2 * uniform_chance(rows * cols)


def independence_limits_below_one(rows: Iterable[int], cols: Iterable[int]) -> bool:
    """Whether a fraction of 1 (every row, or every column, uniform) always exceeds the limit."""
    return all(
        uniform_probability(p, c) + hoeffding_tolerance(r, DELTA / 2) < 1
        and uniform_probability(p, r) + hoeffding_tolerance(c, DELTA / 2) < 1
        for p in P_VALUES
        for r in rows
        for c in cols
    )


# --------------------------------------------------------------------------- the table


def _min_product(total: int, low: int, high: int) -> int:
    """The fewest elements of a (total // c, c) input over c in [low, high]."""
    return min((total // c) * c for c in range(low, high + 1))


def _exact(exercise: str, check: str, how: str, misses: dict[str, float] | None = None) -> Row:
    return Row(exercise, check, "every element", 0.0, misses or {}, how)


def forward_rows() -> list[Row]:
    slug = dropout_forward.EXERCISE.slug
    low, high = dropout_forward.MAIN_COLUMNS
    n = _min_product(dropout_forward.MAIN_ELEMENTS, low, high)
    rows_min = dropout_forward.MAIN_ELEMENTS // high
    large = dropout_forward.LARGE_SIZE - 2000  # rows in [500, 2000] tile 2^18 values
    seed_n = 80 * 80
    mean = {f"{d.name} ({'+'.join(d.codes)})": mean_miss(n, d) for d in MEAN_DEFECTS}
    band = {d.name: mean_unnamed_band(n, d) for d in MEAN_DEFECTS}
    unnamed = "; ".join(
        f"{name}, at {len(ps)} of the p values in {ps[0]:g} to {ps[-1]:g}"
        for name, ps in band.items()
        if ps
    )
    note = (
        "may fail without a code where another candidate ratio lies within reach (kept-scaled "
        f"names it): {unnamed}"
        if unnamed
        else ""
    )
    return [
        _exact(slug, "shape", "exact"),
        _exact(slug, "dtype", "exact"),
        _exact(slug, "eval-identity", "exact"),
        Row(
            slug,
            "drop-fraction",
            f"{n:,} decisions",
            drop_fraction_false_fail(n),
            {"1-p dropped (DO-PKEEP)": drop_fraction_miss_pkeep(n)},
            "Hoeffding",
        ),
        _exact(
            slug,
            "kept-scaled",
            "exact; a defect shows once one unit is kept",
            {"any wrong factor (DO-NOSCALE, DO-PKEEP, DO-SCHEME)": uniform_chance(n)},
        ),
        Row(slug, "mean-preserved", f"{n:,} values", DELTA, mean, "Hoeffding (sum)", note),
        Row(
            slug,
            "fresh-mask",
            f"{n:,} decisions",
            agree_chance(n) + uniform_chance(n),
            {
                "one mask kept across calls (DO-FIXEDMASK)": uniform_chance(n) + ordered_chance(n),
                "mask chosen by value (DO-TARGETED)": uniform_chance(n),
            },
            "exact probabilities",
        ),
        _exact(slug, "seed-reproducible", "exact"),
        Row(
            slug,
            "seed-dependent",
            f"{seed_n:,} decisions",
            agree_chance(seed_n),
            {
                "fixed seed inside (DO-FIXEDMASK)": uniform_chance(seed_n) + ordered_chance(seed_n),
                "mask chosen by value (DO-TARGETED)": uniform_chance(seed_n),
            },
            "exact probabilities",
        ),
        Row(
            slug,
            "independent-elements",
            f"≥ {rows_min} rows x ≥ {low} columns",
            independence_false_fail(rows_min, low),
            {
                "one mask for every example (DO-FIXEDMASK)": uniform_chance(low),
                "whole rows dropped (no code)": uniform_chance(rows_min),
            },
            "Hoeffding (δ/2 each way)",
        ),
        _exact(slug, "input-not-mutated", "exact"),
        _exact(slug, "p-zero", "exact"),
        _exact(slug, "p-one", "exact"),
        _exact(slug, "invalid-p", "exact"),
        Row(
            slug,
            "large-input",
            f"{large:,} decisions",
            drop_fraction_false_fail(large),
            {"1-p dropped (DO-PKEEP)": drop_fraction_miss_pkeep(large)},
            "Hoeffding; scaling exact; the vectorisation call",
        ),
    ]


def classic_rows() -> list[Row]:
    slug = dropout_classic.EXERCISE.slug
    n = _min_product(dropout_classic.MAIN_ELEMENTS, 40, 80)
    seed_n = 80 * 80
    return [
        _exact(slug, "shape", "exact"),
        _exact(slug, "dtype", "exact"),
        Row(
            slug,
            "train-drop-fraction",
            f"{n:,} decisions",
            drop_fraction_false_fail(n),
            {"1-p dropped (DO-PKEEP)": drop_fraction_miss_pkeep(n)},
            "Hoeffding",
        ),
        _exact(
            slug,
            "train-kept-unscaled",
            "exact; a defect shows once one unit is kept",
            {"a training-time factor (DO-SCHEME, DO-PKEEP)": uniform_chance(n)},
        ),
        Row(
            slug,
            "train-fresh-mask",
            f"{n:,} decisions",
            agree_chance(n) + uniform_chance(n),
            {
                "one mask kept across calls (DO-FIXEDMASK)": uniform_chance(n) + ordered_chance(n),
                "mask chosen by value (DO-TARGETED)": uniform_chance(n),
            },
            "exact probabilities",
        ),
        _exact(slug, "train-seed-reproducible", "exact"),
        Row(
            slug,
            "train-seed-dependent",
            f"{seed_n:,} decisions",
            agree_chance(seed_n),
            {
                "fixed seed inside (DO-FIXEDMASK)": uniform_chance(seed_n) + ordered_chance(seed_n),
                "mask chosen by value (DO-TARGETED)": uniform_chance(seed_n),
            },
            "exact probabilities",
        ),
        _exact(slug, "infer-scaled", "exact"),
        _exact(slug, "infer-deterministic", "exact"),
        _exact(slug, "input-not-mutated", "exact"),
    ]


def spatial_rows() -> list[Row]:
    slug = spatial_dropout.EXERCISE.slug
    examples, channels = spatial_dropout.MAIN_EXAMPLES[0], spatial_dropout.MAIN_CHANNELS[0]
    n = examples * channels
    seed_n = 30 * 30
    return [
        _exact(slug, "shape", "exact"),
        _exact(slug, "dtype", "exact"),
        _exact(slug, "eval-identity", "exact"),
        _exact(slug, "whole-channels", "exact"),
        Row(
            slug,
            "drop-fraction",
            f"{n:,} channel decisions",
            drop_fraction_false_fail(n),
            {"1-p dropped (DO-PKEEP)": drop_fraction_miss_pkeep(n)},
            "Hoeffding",
        ),
        _exact(
            slug,
            "kept-scaled",
            "exact; a defect shows once one map is kept",
            {"any wrong factor (DO-NOSCALE, DO-PKEEP, DO-SCHEME)": uniform_chance(n)},
        ),
        Row(
            slug,
            "independent-examples",
            f"≥ {examples} examples x ≥ {channels} channels",
            independence_false_fail(examples, channels),
            {
                "one channel mask for every example (DO-FIXEDMASK)": uniform_chance(channels),
                "whole examples dropped (no code)": uniform_chance(examples),
            },
            "Hoeffding (δ/2 each way)",
        ),
        Row(
            slug,
            "fresh-mask",
            f"{n:,} channel decisions",
            agree_chance(n) + uniform_chance(n),
            {
                "one mask kept across calls (DO-FIXEDMASK)": uniform_chance(n) + ordered_chance(n),
                "maps chosen by value (DO-TARGETED)": uniform_chance(n),
            },
            "exact probabilities",
        ),
        _exact(slug, "seed-reproducible", "exact"),
        Row(
            slug,
            "seed-dependent",
            f"{seed_n:,} channel decisions",
            agree_chance(seed_n),
            {
                "fixed seed inside (DO-FIXEDMASK)": uniform_chance(seed_n) + ordered_chance(seed_n),
                "maps chosen by value (DO-TARGETED)": uniform_chance(seed_n),
            },
            "exact probabilities",
        ),
        _exact(slug, "input-not-mutated", "exact"),
        _exact(slug, "p-zero", "exact"),
        _exact(slug, "p-one", "exact"),
        _exact(slug, "invalid-p", "exact"),
    ]


def backward_rows() -> list[Row]:
    slug = dropout_backward.EXERCISE.slug
    # The plan's keep mask holds kept and dropped units (it picks four of each to probe), so
    # every defect these exact checks name shows on every draw.
    return [
        _exact(slug, check, "exact; the mask is the plan's")
        for check in dropout_backward.EXERCISE.check_codes
    ]


def mc_rows() -> list[Row]:
    slug = mc_dropout.EXERCISE.slug
    rows = []
    for check in mc_dropout.EXERCISE.check_codes:
        if check in ("mean", "std"):
            rows.append(
                Row(
                    slug,
                    check,
                    "500 to 600 passes",
                    DELTA,
                    {},
                    "Hoeffding/Bernstein, union over outputs (mc_dropout_network)",
                    "names no code",
                )
            )
        elif check == "seed-dependent":
            rows.append(
                Row(
                    slug,
                    check,
                    f"{mc_dropout.SMALL_SAMPLES} passes",
                    DELTA,
                    {"fixed seed or training=False (DO-FIXEDMASK, DO-MCDROPOUT)": 0.0},
                    "as stated in the check; the defect gives identical outputs",
                )
            )
        else:
            misses = (
                {"training=False, or one mask for every pass (DO-MCDROPOUT, DO-FIXEDMASK)": 0.0}
                if check == "std-positive"
                else {}
            )
            rows.append(Row(slug, check, "every output", 0.0, misses, "exact"))
    return rows


def power_rows() -> list[Row]:
    """Every check of every exercise, in the exercises' order."""
    return [*forward_rows(), *backward_rows(), *classic_rows(), *mc_rows(), *spatial_rows()]


def smallest_n(bound: Callable[[int], float], limit: float, start: int = 2) -> int:
    """The smallest n at which a bound that falls with n is within `limit` (doubling, then
    bisection)."""
    high = start
    while bound(high) > limit:
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if bound(middle) <= limit:
            high = middle
        else:
            low = middle
    return high


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if value < 1e-300:
        return "< 1e-300"
    return f"{value:.1e}"


def power_markdown() -> str:
    """The table as grader/POWER.md holds it."""
    lines = [
        "| exercise | check | n (smallest drawn) | false-fail ≤ | defect it names: miss ≤ "
        "| bound |",
        "|---|---|---|---|---|---|",
    ]
    for row in power_rows():
        misses = "; ".join(f"{name}: {_number(bound)}" for name, bound in row.misses.items())
        if row.note:
            misses = f"{misses}; {row.note}" if misses else row.note
        lines.append(
            f"| {row.exercise} | {row.check} | {row.n} | {_number(row.false_fail)} | "
            f"{misses or '—'} | {row.how} |"
        )
    return "\n".join(lines) + "\n"


def sizing_markdown() -> str:
    """The smallest sizes the bounds allow, beside the sizes the plans use."""
    forward_mean = smallest_n(lambda n: max(mean_miss(n, d) for d in MEAN_DEFECTS), MISS, start=64)
    fraction = smallest_n(drop_fraction_miss_pkeep, MISS, start=64)
    columns = next(c for c in range(2, 1000) if uniform_chance(c) <= MISS)
    return (
        "\n".join(
            [
                "| what | smallest n with every miss ≤ 1e-6 | used |",
                "|---|---|---|",
                f"| drop fraction, 1-p dropped (DO-PKEEP) | {fraction:,} decisions | "
                f"forward {dropout_forward.MAIN_ELEMENTS:,}, classic "
                f"{dropout_classic.MAIN_ELEMENTS:,}, spatial "
                f"{spatial_dropout.MAIN_EXAMPLES[0] * spatial_dropout.MAIN_CHANNELS[0]:,} |",
                f"| mean preserved, every scaling defect | {forward_mean:,} values | "
                f"forward {dropout_forward.MAIN_ELEMENTS:,} |",
                f"| one mask shared by every example (DO-FIXEDMASK) | {columns} columns "
                f"(channels) | forward ≥ {dropout_forward.MAIN_COLUMNS[0]}, spatial ≥ "
                f"{spatial_dropout.MAIN_CHANNELS[0]} |",
                f"| vectorisation (one large call) | — | forward {dropout_forward.LARGE_SIZE:,} |",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    print(sizing_markdown())
    print(power_markdown())
