"""Checks shared by the inverted-dropout exercises (dropout-forward, spatial-dropout)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.exercises.base import CheckResult, Plan
from grader.exercises.checks import (
    VALUE_RTOL,
    Array,
    Outcomes,
    PlanBuilder,
    array_text,
    as_float,
    failed,
    generator,
    passed,
    value,
)
from grader.exercises.shared_checks import (
    Factor,
    check_kept_scaled,
    check_not_mutated,
    check_raises_value_error,
    check_reproducible,
    factor_match,
)
from grader.sandbox.results import CallResult

# The misconception codes each check shared by the inverted exercises can name (see
# base.Exercise.check_codes); each exercise's CHECK_CODES takes these entries.
INVERTED_CHECK_CODES: dict[str, tuple[str, ...]] = {
    "eval-identity": ("DO-TEST", "DO-SCHEME", "DO-PKEEP"),
    "kept-scaled": ("DO-NOSCALE", "DO-PKEEP", "DO-SCHEME"),
    "seed-reproducible": (),
    "seed-dependent": ("DO-FIXEDMASK", "DO-TARGETED"),
    "input-not-mutated": (),
    "p-zero": ("DO-PKEEP",),
    "p-one": ("DO-PKEEP",),
    "invalid-p": (),
}


def inverted_scale_factors(p: float) -> list[Factor]:
    """Wrong factors between kept outputs and inputs in inverted dropout's training pass.

    Each carries the belief that would make someone write it (misconceptions.md): DO-NOSCALE
    only when no scaling was applied at all; a factor applied in the wrong direction or
    at the wrong time is DO-SCHEME; p where the keep probability belongs is DO-PKEEP."""
    return [
        Factor(
            1.0,
            "1",
            "Kept units were not rescaled: without the 1/(1-p) factor the expected "
            "output shrinks to (1-p)·x in training but not at inference.",
            ("DO-NOSCALE",),
        ),
        Factor(
            1.0 / p,
            "1/p",
            "Dividing by p uses the drop probability as the keep "
            "probability: the keep probability is 1-p.",
            ("DO-PKEEP",),
        ),
        Factor(
            1.0 - p,
            "(1-p)",
            "Multiplying by the keep probability is classic dropout's inference rule; in "
            "inverted dropout's training pass it shrinks activations further instead of "
            "compensating for the dropped units: divide by 1-p.",
            ("DO-SCHEME",),
        ),
        # Multiplying by p takes two beliefs, both needed: multiplying by the keep
        # probability in training (the scheme mix-up above, which alone gives x·(1-p)) and
        # reading p as that keep probability (which alone gives x/p).
        Factor(
            p,
            "p",
            "Multiplying by p confuses the drop and keep probabilities and scales in "
            "the wrong direction: inverted dropout divides the kept units by 1-p.",
            ("DO-PKEEP", "DO-SCHEME"),
        ),
    ]


def check_inverted_kept(out: Outcomes, check_id: str, name: str, x: Array, p: float) -> CheckResult:
    """Exact (δ = 0): every non-zero output equals x/(1-p)."""
    got = out.array(check_id, name, x.shape)
    if isinstance(got, CheckResult):
        return got
    return check_kept_scaled(
        check_id,
        got,
        x,
        Factor(1.0 / (1.0 - p), "1/(1-p)"),
        inverted_scale_factors(p),
        f"With p = {p:g} in training",
    )


def inverted_eval_factors(p: float) -> list[Factor]:
    """Wrong factors between the inference output and x in an inverted dropout layer."""
    return [
        # Dividing at inference is a scheme mix-up (catalogue: "divides by (1-p) at
        # inference"), not DO-TEST: no unit is dropped, the output is deterministic.
        Factor(
            1.0 / (1.0 - p),
            "1/(1-p)",
            "Dividing by 1-p is the training-time scaling of inverted dropout; applied at "
            "inference it makes activations 1/(1-p) times larger than the expected training "
            "ones. Inverted dropout does nothing when training is False.",
            ("DO-SCHEME",),
        ),
        Factor(
            1.0 - p,
            "(1-p)",
            "That is classic dropout's inference rule; inverted dropout already divides by "
            "1-p in training, so scaling again at inference makes activations (1-p) times the "
            "expected training ones.",
            ("DO-SCHEME",),
        ),
        # The next two take two beliefs each, both needed: scaling at inference in an
        # inverted layer (alone: x·(1-p) or x/(1-p)) and p read as the keep probability.
        Factor(
            p,
            "p",
            "That is classic dropout's inference rule with p taken for the keep probability: "
            "p is the DROP probability, and inverted dropout does nothing at inference anyway.",
            ("DO-SCHEME", "DO-PKEEP"),
        ),
        Factor(
            1.0 / p,
            "1/p",
            "That is a training-time scaling applied at inference, with p taken for the keep "
            "probability: p is the DROP probability, and inverted dropout does nothing at "
            "inference.",
            ("DO-SCHEME", "DO-PKEEP"),
        ),
    ]


def check_eval_identity(out: Outcomes, check_id: str, name: str, x: Array, p: float) -> CheckResult:
    """Exact (δ = 0): at training=False the output equals x."""
    got = out.array(check_id, name, x.shape)
    if isinstance(got, CheckResult):
        return got
    o, x64 = as_float(got), as_float(x)
    good = np.abs(o - x64) <= VALUE_RTOL * np.abs(x64)
    if bool(np.all(good)):
        return passed(check_id, f"With training=False the output equals x ({x.size:,} values).")
    zeros = int(np.count_nonzero(o == 0))
    nonzero = o != 0
    ratios = o[nonzero] / x64[nonzero]
    if 0 < zeros < x.size:  # x has no zeros: some units, not all, were dropped
        return failed(
            check_id,
            f"With training=False, {zeros:,} of {x.size:,} values were set to 0. At inference "
            "every unit is active and the output is deterministic: dropout must do nothing "
            "when training is False.",
            ["DO-TEST"],
        )
    if zeros:
        return failed(
            check_id,
            f"With training=False all {x.size:,} values were 0; the output should equal x.",
        )
    match = factor_match(ratios, inverted_eval_factors(p))
    if match is not None:
        return failed(
            check_id,
            f"With training=False the output was x * {match.name} = x * {match.value:.4g}; "
            f"expected x unchanged. {match.explanation}",
            match.misconceptions,
        )
    bad = int(np.count_nonzero(~good))
    return failed(
        check_id,
        f"With training=False the output should equal x, but {bad:,} of {x.size:,} values "
        "differ. Dropout must do nothing at inference.",
    )


def check_p_zero(out: Outcomes, check_id: str, name: str, x: Array) -> CheckResult:
    """Exact (δ = 0): p = 0 keeps every unit unscaled."""
    got = out.array(check_id, name, x.shape)
    if isinstance(got, CheckResult):
        return got
    o, x64 = as_float(got), as_float(x)
    if bool(np.all(np.abs(o - x64) <= VALUE_RTOL * np.abs(x64))):
        return passed(check_id, "With p = 0 in training the output equals x.")
    if not bool(np.all(np.isfinite(o))):
        return failed(
            check_id,
            "With p = 0 the output contained NaN or infinity: dividing by p (the drop "
            "probability) instead of by 1-p, the keep probability?",
            ["DO-PKEEP"],
        )
    if bool(np.all(o == 0)):
        return failed(
            check_id,
            "With p = 0 every unit was dropped; p is the probability of dropping, so p = 0 "
            "must keep everything.",
            ["DO-PKEEP"],
        )
    bad = int(np.count_nonzero(np.abs(o - x64) > VALUE_RTOL * np.abs(x64)))
    return failed(
        check_id, f"With p = 0 the output should equal x, but {bad:,} of {x.size:,} differ."
    )


def check_p_one(out: Outcomes, check_id: str, name: str, x: Array) -> CheckResult:
    """Exact (δ = 0): p = 1 drops every unit and returns finite zeros."""
    got = out.returned(check_id, name)
    if isinstance(got, CheckResult):
        if "crashes" in got.defects:
            return failed(
                check_id,
                got.message + " With p = 1 every unit is dropped: return zeros without "
                "dividing by 1-p = 0.",
                defects=["nan-at-p1", "crashes"],
            )
        return got
    arr = out.array(check_id, name, x.shape)
    if isinstance(arr, CheckResult):
        return arr
    o = as_float(arr)
    if not bool(np.all(np.isfinite(o))):
        bad = int(np.count_nonzero(~np.isfinite(o)))
        return failed(
            check_id,
            f"With p = 1 the output contained {bad:,} NaN or infinite values out of {x.size:,}: "
            "0/(1-p) is 0/0 there. Every unit is dropped, so return zeros.",
            defects=["nan-at-p1"],
        )
    if bool(np.all(o == 0)):
        return passed(check_id, f"With p = 1 all {x.size:,} outputs were 0.")
    if bool(np.all(np.abs(o - as_float(x)) <= VALUE_RTOL * np.abs(as_float(x)))):
        return failed(
            check_id,
            "With p = 1 the output equals x: every unit was kept, as if p were the keep "
            "probability. p = 1 drops every unit.",
            ["DO-PKEEP"],
        )
    return failed(
        check_id,
        f"With p = 1 every output should be 0, but {int(np.count_nonzero(o)):,} of {x.size:,} "
        "were not.",
    )


def call_label(function: str, x: Array, p: float, training: bool) -> str:
    """Return how a call is described to the learner (never the hidden values)."""
    return f"{function}(x, p={p:g}, training={training}, rng) with x {array_text(x)}"


@dataclass(frozen=True)
class InvertedInputs:
    """The hidden inputs both inverted-dropout plans share."""

    p: float
    main: Array
    eval_x: Array
    f32: Array
    edge: Array
    seed_x: Array
    p_low: float
    p_high: float


def inverted_calls_add(
    b: PlanBuilder, function: str, inputs: InvertedInputs, seeds: Sequence[int]
) -> None:
    """Add the calls of a `f(x, p, training, rng)` plan that both exercises check.

    Training twice on one generator (fresh mask), three calls on generators seeded
    s, s and s' (reproducible, seed-dependent), eval mode, float32, p = 0, p = 1 and
    two invalid values of p. `seeds` are the generators' seeds in that order:
    main, seeded, other, eval, float32, edge.
    """
    s_main, s_seed, s_other, s_eval, s_f32, s_edge = seeds
    p = inputs.p
    x_main, x_eval, x_f32, x_edge, x_seed = map(
        b.array, (inputs.main, inputs.eval_x, inputs.f32, inputs.edge, inputs.seed_x)
    )
    train = [x_main, value(p), value(True)]
    label = call_label(function, inputs.main, p, True)
    b.call("train", [*train, generator("A", s_main)], label, return_inputs=True)
    b.call("train_again", [*train, generator("A", s_main)], label + " (2nd call, same rng)")
    seeded = [x_seed, value(p), value(True)]
    label = call_label(function, inputs.seed_x, p, True)
    b.call("seed_first", [*seeded, generator("B", s_seed)], label + " (rng seeded with s)")
    b.call("same_seed", [*seeded, generator("C", s_seed)], label + " (new rng, same seed s)")
    b.call("other_seed", [*seeded, generator("H", s_other)], label + " (rng, another seed)")
    b.call(
        "eval",
        [x_eval, value(p), value(False), generator("D", s_eval)],
        call_label(function, inputs.eval_x, p, False),
        return_inputs=True,
    )
    b.call(
        "float32",
        [x_f32, value(p), value(True), generator("E", s_f32)],
        call_label(function, inputs.f32, p, True),
    )
    edges = (("p_zero", 0.0), ("p_one", 1.0), ("p_low", inputs.p_low), ("p_high", inputs.p_high))
    for name, p_edge in edges:
        args = [x_edge, value(p_edge), value(True), generator("F", s_edge)]
        b.call(name, args, call_label(function, inputs.edge, p_edge, True))


class InvertedChecks:
    """The checks forward and spatial dropout share, on the calls of `inverted_calls_add`.

    Each exercise subclasses it with its own shape, fraction, independence and seed
    dependence checks (these depend on what one drop decision covers: a unit or a map).
    """

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        context: dict[str, Any] = plan.context
        self.out = Outcomes(plan, results)
        self.p: float = context["p"]
        self.main: Array = context["main"]
        self.eval_x: Array = context["eval_x"]
        self.f32: Array = context["f32"]
        self.edge: Array = context["edge"]
        self.seed_x: Array = context["seed_x"]
        self.invalid: list[tuple[str, float]] = [
            ("p_low", context["p_low"]),
            ("p_high", context["p_high"]),
        ]

    def eval_identity(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        return check_eval_identity(self.out, check_id, "eval", self.eval_x, self.p)

    def kept_scaled(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): every non-zero output equals x/(1-p)."""
        return check_inverted_kept(self.out, check_id, "train", self.main, self.p)

    def seed_reproducible(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): a new generator with the same seed reproduces the output."""
        return check_reproducible(self.out, check_id, "seed_first", "same_seed", self.seed_x.shape)

    def input_not_mutated(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): x is unchanged after a training and an inference call."""
        expected = [("train", 0, self.main, "x"), ("eval", 0, self.eval_x, "x")]
        return check_not_mutated(self.out, check_id, expected)

    def p_zero(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        return check_p_zero(self.out, check_id, "p_zero", self.edge)

    def p_one(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        return check_p_one(self.out, check_id, "p_one", self.edge)

    def invalid_p(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): p below 0 and above 1 raise ValueError."""
        return check_raises_value_error(self.out, check_id, self.invalid)
