"""The power table: every check's false-failure and miss bounds, recomputed from the sample
sizes and thresholds the checks use (grader/exercises/power.py), within the limits, and the
table in grader/POWER.md is the one they give."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from grader.exercises import EXERCISES
from grader.exercises.checks import DELTA, hoeffding_tolerance, p_draw
from grader.exercises.power import power_markdown, power_rows, sizing_markdown, smallest_n
from grader.exercises.power_bounds import (
    MEAN_DEFECTS,
    MISS,
    P_VALUES,
    Row,
    drop_fraction_miss_pkeep,
    independence_limits_below_one,
    mean_miss,
)

ROOT = Path(__file__).resolve().parents[2]
ROWS = power_rows()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.exercise}:{row.check}")
def test_each_check_fails_a_correct_solution_at_most_one_in_a_billion(row: Row) -> None:
    assert row.false_fail <= DELTA * (1 + 1e-9)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.exercise}:{row.check}")
def test_each_check_misses_a_defect_it_names_at_most_one_in_a_million(row: Row) -> None:
    assert row.worst_miss <= MISS, row.misses


def test_the_table_covers_every_check_of_every_exercise_once() -> None:
    listed = [(row.exercise, row.check) for row in ROWS]
    declared = [(slug, check) for slug, ex in EXERCISES.items() for check in ex.check_codes]
    assert sorted(listed) == sorted(declared)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.exercise}:{row.check}")
def test_the_defects_listed_carry_only_codes_the_check_declares(row: Row) -> None:
    declared = set(EXERCISES[row.exercise].check_codes[row.check])
    for defect in row.misses:
        codes = {word.strip(",()") for word in defect.replace("+", " ").split()}
        assert {code for code in codes if code.startswith("DO-")} <= declared, defect


def test_the_p_values_are_every_value_p_draw_returns() -> None:
    import numpy as np

    gen = np.random.default_rng(7)
    drawn = {p_draw(gen) for _ in range(20_000)}
    assert drawn <= set(P_VALUES)
    assert len(P_VALUES) == 302


def test_the_drop_fraction_bound_is_hoeffding_at_the_checks_tolerance() -> None:
    # given the tolerance the check uses, at the smallest sample the power table allows
    n = smallest_n(drop_fraction_miss_pkeep, MISS, start=64)
    t = hoeffding_tolerance(n)
    # then a correct fraction strays beyond it with probability δ, and 1-p for p at 0.35
    # (the nearest to 1/2) lies beyond it but with probability ≤ 1e-6
    assert math.isclose(2 * math.exp(-2 * n * t * t), DELTA)
    assert 2 * math.exp(-2 * n * (0.3 - t) ** 2) <= MISS
    assert 2 * math.exp(-2 * (n - 1) * (0.3 - hoeffding_tolerance(n - 1)) ** 2) + DELTA > MISS


def test_the_mean_check_needs_its_size_and_no_more_than_a_quarter_beyond() -> None:
    from grader.exercises import dropout_forward

    needed = smallest_n(lambda n: max(mean_miss(n, d) for d in MEAN_DEFECTS), MISS, start=64)
    smallest_drawn = min(
        (dropout_forward.MAIN_ELEMENTS // c) * c
        for c in range(dropout_forward.MAIN_COLUMNS[0], dropout_forward.MAIN_COLUMNS[1] + 1)
    )
    assert needed <= smallest_drawn <= 1.25 * needed


def test_a_whole_row_or_column_always_exceeds_the_independence_limits() -> None:
    from grader.exercises import dropout_forward, spatial_dropout

    low, high = dropout_forward.MAIN_COLUMNS
    rows = range(dropout_forward.MAIN_ELEMENTS // high, dropout_forward.MAIN_ELEMENTS // low + 1)
    assert independence_limits_below_one(rows, range(low, high + 1))
    assert independence_limits_below_one(
        range(spatial_dropout.MAIN_EXAMPLES[0], spatial_dropout.MAIN_EXAMPLES[1] + 1),
        range(spatial_dropout.MAIN_CHANNELS[0], spatial_dropout.MAIN_CHANNELS[1] + 1),
    )


def test_power_md_holds_the_table_the_bounds_give() -> None:
    text = (ROOT / "grader" / "POWER.md").read_text()
    assert sizing_markdown() in text, "regenerate: python -m grader.exercises.power"
    assert power_markdown() in text, "regenerate: python -m grader.exercises.power"
