import random

import pytest

from assessments.numeric import (
    ExpressionError,
    expression_evaluate,
    parameters_draw,
    stem_placeholders,
    stem_render,
    within_tolerance,
)


def test_it_evaluates_arithmetic_in_the_parameters():
    assert expression_evaluate("(1 - p) * 1000", {"p": 0.2}) == pytest.approx(800)
    assert expression_evaluate("1 / (1 - p)", {"p": 0.5}) == pytest.approx(2)
    assert expression_evaluate("round(sqrt(n), 1)", {"n": 2}) == pytest.approx(1.4)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "p.__class__",
        "open('/etc/passwd')",
        "1 / 0",
        "q + 1",
        "'a'",
        "p > 0",
    ],
)
def test_it_refuses_anything_but_finite_arithmetic(expression):
    with pytest.raises(ExpressionError):
        expression_evaluate(expression, {"p": 0.2})


def test_it_draws_parameters_reproducibly_from_the_seed():
    spec = {"p": [0.1, 0.2, 0.3], "n": [100, 1000]}
    first = parameters_draw(spec, random.Random(7))
    assert first == parameters_draw(spec, random.Random(7))
    assert first["p"] in spec["p"]
    assert first["n"] in spec["n"]


def test_it_renders_stems_with_plain_numbers():
    assert stem_render("p = {p}, n = {n}", {"p": 0.2, "n": 1000.0}) == "p = 0.2, n = 1000"
    assert stem_placeholders("p = {p}, n = {n}") == {"p", "n"}


@pytest.mark.parametrize(
    ("value", "target", "tolerance", "relative", "inside"),
    [
        (800.5, 800, 0.5, False, True),
        (800.51, 800, 0.5, False, False),
        (101, 100, 0.01, True, True),
        (101.1, 100, 0.01, True, False),
        (0.30000000000000004, 0.3, 0, False, True),
    ],
)
def test_tolerance_is_absolute_or_relative(value, target, tolerance, relative, inside):
    assert within_tolerance(value, target, tolerance=tolerance, relative=relative) is inside
