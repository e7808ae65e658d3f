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

from collections.abc import Callable

from grader.exercises import (
    dropout_backward,
    dropout_classic,
    dropout_forward,
    mc_dropout,
    spatial_dropout,
)
from grader.exercises.checks import (
    DELTA,
)
from grader.exercises.power_bounds import (
    MEAN_DEFECTS,
    MISS,
    Row,
    agree_chance,
    drop_fraction_false_fail,
    drop_fraction_miss_pkeep,
    independence_false_fail,
    mean_miss,
    mean_unnamed_band,
    ordered_chance,
    uniform_chance,
)


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
