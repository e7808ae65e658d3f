"""The bounds behind the power table (grader/exercises/power.py): the limits, the drop
probabilities the plans draw, and each check's false-fail and miss probability as a function
of its sample size, every one a rigorous upper bound (Hoeffding, or an exact probability)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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
