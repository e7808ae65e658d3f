"""Exact sums over the observations of a question or a slot, from the statistics' counts
(analytics/contributions.py: the moments q and the rest-of-test distribution R), and the
sorted pairing behind the discriminative efficiency's covmax.

An observation is one scored response: its mark x_ai as a share of the attempt's maximum,
x = 100 mark / M_a, the attempt's percentage P = 100 X_a / M_a, the rest of the test
R = P - x, and the mark as a fraction of the question's, f = mark / max mark. Counts hold
marks and totals in integer units, so every sum here is an exact fraction, whatever the
order rows arrive in; centred sums Σ (a - ā)(b - b̄) = Σ ab - Σa Σb / n are exact too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

ZERO = Fraction(0)


@dataclass(frozen=True)
class Moments:
    """Σ over n observations of f, f², x, x², P, P², x·P, and of the intended weight
    100 max mark / M_a; the largest max mark seen (units)."""

    n: int = 0
    f: Fraction = ZERO
    ff: Fraction = ZERO
    x: Fraction = ZERO
    xx: Fraction = ZERO
    p: Fraction = ZERO
    pp: Fraction = ZERO
    xp: Fraction = ZERO
    weight: Fraction = ZERO
    max_mark: int = 0

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            n=self.n + other.n,
            f=self.f + other.f,
            ff=self.ff + other.ff,
            x=self.x + other.x,
            xx=self.xx + other.xx,
            p=self.p + other.p,
            pp=self.pp + other.pp,
            xp=self.xp + other.xp,
            weight=self.weight + other.weight,
            max_mark=max(self.max_mark, other.max_mark),
        )

    @property
    def r(self) -> Fraction:
        """Σ R."""
        return self.p - self.x

    @property
    def rr(self) -> Fraction:
        """Σ R² = Σ (P - x)²."""
        return self.pp - 2 * self.xp + self.xx

    @property
    def xr(self) -> Fraction:
        """Σ x·R."""
        return self.xp - self.xx

    def centred(self, ab: Fraction, a: Fraction, b: Fraction) -> float:
        """Σ (a - ā)(b - b̄) from Σ ab, Σ a and Σ b."""
        return float(ab - a * b / self.n)

    def mean(self, total: Fraction) -> float:
        return float(total / self.n)

    def padded(self, attempts: Moments) -> Moments:
        """A slot over every counted attempt (`attempts`: their n, Σ P and Σ P²), with
        x = 0 in those where it carried no marks: x's sums stay, P's are every attempt's.
        An attempt fills a slot at most once, so the slot's observations are among them."""
        return replace(self, n=attempts.n, p=attempts.p, pp=attempts.pp)


def moments_of(
    n: int,
    marks: int,
    mark_squares: int,
    totals: int,
    total_squares: int,
    mark_totals: int,
    *,
    max_mark: int,
    maximum: int,
) -> Moments:
    """The moments of n observations of one (max mark, attempt maximum), from the sums of
    their marks, totals, squares and products in units."""
    m2 = maximum * maximum
    return Moments(
        n=n,
        f=Fraction(marks, max_mark),
        ff=Fraction(mark_squares, max_mark * max_mark),
        x=Fraction(100 * marks, maximum),
        xx=Fraction(10_000 * mark_squares, m2),
        p=Fraction(100 * totals, maximum),
        pp=Fraction(10_000 * total_squares, m2),
        xp=Fraction(10_000 * mark_totals, m2),
        weight=Fraction(100 * n * max_mark, maximum),
        max_mark=max_mark,
    )


def attempt_moments(totals: dict[tuple[int, int], int]) -> Moments:
    """n, Σ P and Σ P² of the counted attempts, from {(total, maximum): how many}."""
    by_maximum: dict[int, list[int]] = {}
    for (total, maximum), count in totals.items():
        sums = by_maximum.setdefault(maximum, [0, 0, 0])
        sums[0] += count
        sums[1] += total * count
        sums[2] += total * total * count
    moments = Moments()
    for maximum, (count, total_sum, square_sum) in sorted(by_maximum.items()):
        moments += Moments(
            n=count,
            p=Fraction(100 * total_sum, maximum),
            pp=Fraction(10_000 * square_sum, maximum * maximum),
        )
    return moments


def sorted_pair_product(
    marks: Sequence[tuple[int, int, int]] | np.ndarray,
    rests: Sequence[tuple[int, int, int]] | np.ndarray,
    moments: Moments,
) -> float:
    """Σ (x_(k) - x̄)(R_(k) - R̄) with x and R each sorted on its own (Moodle's covmax),
    from the distributions of the marks and of the rests of the test, rows of (mark or
    rest, maximum, count) in units; a value may come in several rows."""
    if not len(marks) or not len(rests):
        return 0.0
    xs, x_counts = _runs(marks, moments.mean(moments.x))
    rs, r_counts = _runs(rests, moments.mean(moments.r))
    # Pair the two sorted sequences run by run: a piece ends where either run ends.
    x_ends, r_ends = np.cumsum(x_counts), np.cumsum(r_counts)
    ends = np.union1d(x_ends, r_ends)
    lengths = np.diff(ends, prepend=0.0)
    x_at = np.searchsorted(x_ends, ends, side="left")
    r_at = np.searchsorted(r_ends, ends, side="left")
    return float(np.dot(lengths, xs[x_at] * rs[r_at]))


def _runs(
    rows: Sequence[tuple[int, int, int]] | np.ndarray, centre: float
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct centred shares 100 value / maximum - centre in order, with their
    total counts (one run per value: equal fractions give equal floats)."""
    value, maximum, count = np.asarray(rows, dtype=np.float64).T
    distinct, where = np.unique(100.0 * value / maximum - centre, return_inverse=True)
    return distinct, np.bincount(where.ravel(), weights=count, minlength=len(distinct))
