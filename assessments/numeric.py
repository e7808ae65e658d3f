"""Numeric items: draw per-attempt parameters, render stems, evaluate answer expressions."""

from __future__ import annotations

import math
import random
import string
from collections.abc import Mapping
from typing import Any

from simpleeval import SimpleEval

# Arithmetic only: simpleeval's defaults, minus anything that is not a number function.
_FUNCTIONS = {"round": round, "min": min, "max": max, "sqrt": math.sqrt, "abs": abs}


class ExpressionError(ValueError):
    """An answer expression that cannot be evaluated to a finite number."""


def expression_evaluate(expression: str, parameters: Mapping[str, float]) -> float:
    """Return the value of an arithmetic expression in the question's parameters."""
    evaluator = SimpleEval(functions=_FUNCTIONS, names=dict(parameters))
    try:
        value = evaluator.eval(expression)
    except Exception as error:  # simpleeval raises many types; all mean "bad expression"
        raise ExpressionError(f"cannot evaluate {expression!r}: {error}") from error
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExpressionError(f"{expression!r} does not give a finite number")
    return float(value)


def parameters_draw(spec: Mapping[str, list[float]], rng: random.Random) -> dict[str, float]:
    """Return one value per parameter, drawn from its allowed values."""
    return {name: rng.choice(values) for name, values in sorted(spec.items())}


def stem_placeholders(stem: str) -> set[str]:
    """Return the names of the {placeholders} in a stem."""
    return {name for _, name, _, _ in string.Formatter().parse(stem) if name}


def stem_render(stem: str, parameters: Mapping[str, Any]) -> str:
    """Return the stem with this attempt's parameter values filled in."""
    if not parameters:
        return stem
    return stem.format_map({name: _plain_number(value) for name, value in parameters.items()})


def within_tolerance(value: float, target: float, *, tolerance: float, relative: bool) -> bool:
    """Return whether `value` is within the tolerance of `target`."""
    allowed = tolerance * abs(target) if relative else tolerance
    # A tiny absolute slack so that 0.1 + 0.2 style rounding never fails an exact answer.
    return abs(value - target) <= allowed + 1e-9 * max(1.0, abs(target))


def _plain_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
