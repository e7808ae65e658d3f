"""Exercise `dropout-backward`: the gradient through inverted dropout."""

from __future__ import annotations

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
    p_draw,
    passed,
    run_checks,
    signed_values,
    value,
)
from grader.exercises.shared_checks import check_dtypes, check_not_mutated, check_shapes
from grader.sandbox.results import CallResult

FUNCTION = "dropout_backward"

STATEMENT = """\
Implement the backward pass of inverted dropout.

Convention: p is the probability of DROPPING a unit; a unit is kept with probability 1 - p.

In the forward pass, inverted dropout computed out = x * keep_mask / (1 - p), where
keep_mask is a bool array that is True for the units that were KEPT. Given the upstream
gradient dout (dL/d out, a float array of any shape), that same keep_mask and p,
dropout_backward(dout, keep_mask, p) returns dL/dx: a new array with dout's shape and dtype
(float32 stays float32).

- A dropped unit passed nothing on in the forward pass: its output was 0 whatever its
  input, so its input gets zero gradient.
- A kept unit's output was its input scaled by 1/(1-p), so its gradient is dout scaled by
  1/(1-p) too.
- With p = 0 (every unit kept) the gradient is dout; with p = 1 (every unit dropped) it is
  all zeros, without NaN.
- Do not modify dout or keep_mask.
"""

SIGNATURE = "def dropout_backward(dout: np.ndarray, keep_mask: np.ndarray, p: float) -> np.ndarray"

STARTER_CODE = '''\
import numpy as np


def dropout_backward(dout, keep_mask, p):
    """Gradient of inverted dropout with respect to its input.

    dout: upstream gradient (float ndarray); keep_mask: bool ndarray of the same shape,
    True where the forward pass KEPT the unit; p: probability of DROPPING a unit.
    Returns a new array with dout's shape and dtype.
    """
    raise NotImplementedError
'''

REFERENCE_SOURCE = '''\
import numpy as np


def dropout_backward(dout, keep_mask, p):
    """dL/dx of out = x * keep_mask / (1 - p): the same mask and scale as the forward pass."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    dout = np.asarray(dout)
    if p == 1.0:
        return np.zeros_like(dout)
    return np.where(keep_mask, dout / (1.0 - p), 0).astype(dout.dtype, copy=False)
'''

HINTS = (
    "Write the forward pass as out = x * keep_mask / (1 - p) and differentiate it element "
    "by element: d out_i / d x_i = keep_mask_i / (1 - p).",
    "A dropped unit's output was 0 whatever its input, so the gradient with respect to that "
    "input is exactly 0.",
    "Use the keep_mask you are given; never draw a new mask in the backward pass.",
    "p = 1 drops everything: return zeros instead of dividing by 1 - p = 0.",
    "np.where(keep_mask, dout / (1 - p), 0) builds a new array and keeps float32 as float32.",
)

# Per check, in the order they run, the misconception codes it can name (Exercise.check_codes).
DIAGNOSED = ("DO-GRADIENT", "DO-NOSCALE", "DO-SCHEME", "DO-PKEEP")  # what `diagnose` can name
# The gradient's size: every check here is exact, so this only has to hold kept and dropped
# units in every row (grader/POWER.md).
MAIN_ELEMENTS = 2_000

CHECK_CODES: dict[str, tuple[str, ...]] = {
    "shape": (),
    "dtype": (),
    # only gradients that leak into dropped units fail here: never a kept-unit scale alone
    "dropped-get-zero": ("DO-GRADIENT", "DO-NOSCALE", "DO-PKEEP"),
    "kept-scaled": DIAGNOSED,
    "finite-difference": DIAGNOSED,
    "float32-values": DIAGNOSED,
    "input-not-mutated": (),
    "p-zero": ("DO-PKEEP",),
    "p-one": ("DO-GRADIENT",),
}

FD_STEP = 0.01  # the function is linear, so the central difference has no truncation error
FD_TOLERANCE = 1e-6  # relative (plus the same absolute): rounding of a sum of ~10⁴ terms


def _label(dout: Array, p: float) -> str:
    return f"{FUNCTION}(dout, keep_mask, p={p:g}) with dout {array_text(dout)}"


class DropoutBackward:
    slug = "dropout-backward"
    title = "Inverted dropout: the backward pass"
    statement = STATEMENT
    signature = SIGNATURE
    functions = (FUNCTION,)
    starter_code = STARTER_CODE
    reference_source = REFERENCE_SOURCE
    hints = HINTS
    check_codes = CHECK_CODES

    def plan(self, seed: int) -> Plan:
        """Hidden inputs drawn from `seed`: shapes, p, upstream gradients and keep masks."""
        gen = np.random.default_rng(seed)
        p = p_draw(gen)
        cols = int(gen.integers(20, 41))
        dout = signed_values(gen, (MAIN_ELEMENTS // cols, cols))
        mask = gen.random(dout.shape) >= p
        f32 = signed_values(gen, tuple(int(n) for n in gen.integers(4, 13, size=3)), np.float32)
        f32_mask = gen.random(f32.shape) >= p
        edge = signed_values(gen, (int(gen.integers(200, 801)),))
        x = signed_values(gen, dout.shape)  # the forward input, for the finite differences
        kept, dropped = np.argwhere(mask), np.argwhere(~mask)
        positions = np.concatenate(
            [
                kept[gen.choice(len(kept), size=4, replace=False)],
                dropped[gen.choice(len(dropped), size=4, replace=False)],
            ]
        )

        b = PlanBuilder(FUNCTION)
        a_dout, a_mask, a_f32, a_f32_mask, a_edge, a_all, a_none = map(
            b.array,
            (
                dout,
                mask,
                f32,
                f32_mask,
                edge,
                np.ones(edge.shape, bool),
                np.zeros(edge.shape, bool),
            ),
        )
        b.call("grad", [a_dout, a_mask, value(p)], _label(dout, p), return_inputs=True)
        b.call("float32", [a_f32, a_f32_mask, value(p)], _label(f32, p))
        b.call("p_zero", [a_edge, a_all, value(0.0)], _label(edge, 0.0) + ", every unit kept")
        b.call("p_one", [a_edge, a_none, value(1.0)], _label(edge, 1.0) + ", every unit dropped")
        return b.build(
            p=p, dout=dout, mask=mask, f32=f32, f32_mask=f32_mask, edge=edge, x=x,
            positions=positions,
        )  # fmt: skip

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Every check's verdict; never raises, whatever `results` hold."""
        return _Checks(plan, results).run()


class _Checks:
    """The check suite of one submission: one method per check, called with its id.

    Every check here is exact (δ = 0): the inputs, including the keep mask, are fixed by
    the trusted side, so the correct gradient is known; comparisons allow a relative
    1e-5 for float rounding."""

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        context: dict[str, Any] = plan.context
        self.out = Outcomes(plan, results)
        self.p: float = context["p"]
        self.dout: Array = context["dout"]
        self.mask: Array = context["mask"]
        self.f32: Array = context["f32"]
        self.f32_mask: Array = context["f32_mask"]
        self.edge: Array = context["edge"]
        self.x: Array = context["x"]
        self.positions: Array = context["positions"]

    def run(self) -> list[CheckResult]:
        return run_checks(
            [
                ("shape", self.shape),
                ("dtype", self.dtype),
                ("dropped-get-zero", self.dropped_get_zero),
                ("kept-scaled", self.kept_scaled),
                ("finite-difference", self.finite_difference),
                ("float32-values", self.float32_values),
                ("input-not-mutated", self.input_not_mutated),
                ("p-zero", self.p_zero),
                ("p-one", self.p_one),
            ],
            CHECK_CODES,
        )

    def shape(self, check_id: str) -> CheckResult:
        expected = [
            ("grad", self.dout.shape),
            ("float32", self.f32.shape),
            ("p_zero", self.edge.shape),
            ("p_one", self.edge.shape),
        ]
        return check_shapes(self.out, check_id, expected)

    def dtype(self, check_id: str) -> CheckResult:
        expected = [("grad", self.dout.dtype), ("float32", self.f32.dtype)]
        return check_dtypes(self.out, check_id, expected)

    def _grad(self, check_id: str) -> Array | CheckResult:
        got = self.out.array(check_id, "grad", self.dout.shape)
        return got if isinstance(got, CheckResult) else as_float(got)

    def dropped_get_zero(self, check_id: str) -> CheckResult:
        """The mask is reused: units dropped in the forward pass get exactly zero gradient."""
        grad = self._grad(check_id)
        if isinstance(grad, CheckResult):
            return grad
        dropped = ~self.mask
        leaked = int(np.count_nonzero(grad[dropped] != 0))
        total = int(np.count_nonzero(dropped))
        if leaked == 0:
            return passed(
                check_id,
                f"All {total:,} units dropped in the forward pass got zero gradient: the "
                "forward pass's mask was reused.",
            )
        # Any other leak is what DO-GRADIENT says: gradient passed back through units the
        # forward pass dropped (a fresh mask drawn here, for one, ignores the forward's mask).
        found = diagnose(grad, self.dout, self.mask, self.p) or Diagnosis("", ("DO-GRADIENT",))
        return failed(
            check_id,
            f"{leaked:,} of the {total:,} units dropped in the forward pass got a non-zero "
            "gradient. A dropped unit's output was 0 whatever its input, so no gradient flows "
            "back through it: multiply by the same keep_mask as the forward pass. "
            + found.explanation,
            found.misconceptions,
            found.defects,
        )

    def kept_scaled(self, check_id: str) -> CheckResult:
        """Kept units get dout / (1-p)."""
        grad = self._grad(check_id)
        if isinstance(grad, CheckResult):
            return grad
        p, kept = self.p, self.mask
        expected = self.dout[kept] / (1.0 - p)
        good = np.abs(grad[kept] - expected) <= VALUE_RTOL * np.abs(expected)
        if bool(np.all(good)):
            return passed(
                check_id,
                f"All {expected.size:,} kept units got dout * 1/(1-p) = dout * {1 / (1 - p):.4g}.",
            )
        found = diagnose(grad, self.dout, self.mask, p) or Diagnosis("")
        bad = int(np.count_nonzero(~good))
        return failed(
            check_id,
            f"With p = {p:g}, the gradient of a kept unit should be dout / (1-p) = dout * "
            f"{1 / (1 - p):.4g} (the forward pass scaled it by that factor), but {bad:,} of "
            f"{expected.size:,} kept units got something else. {found.explanation}",
            found.misconceptions,
            found.defects,
        )

    def finite_difference(self, check_id: str) -> CheckResult:
        """Central differences of L(x) = Σ dout * f(x), f(x) = x * mask / (1-p), at 8 positions
        (4 kept, 4 dropped) against the returned gradient. f is linear, so the difference is
        exact up to rounding (about 1e-9 here); the tolerance is 1e-6 (relative + absolute)."""
        grad = self._grad(check_id)
        if isinstance(grad, CheckResult):
            return grad
        p, dout, mask, x = self.p, self.dout, self.mask, self.x

        def loss(values: Array) -> float:
            return float(np.sum(dout * (values * mask / (1.0 - p))))

        lines, wrong = [], 0
        for position in self.positions:
            index = tuple(int(i) for i in position)
            step = np.zeros_like(x)
            step[index] = FD_STEP
            numeric = (loss(x + step) - loss(x - step)) / (2 * FD_STEP)
            yours = float(grad[index])
            ok = abs(yours - numeric) <= FD_TOLERANCE * (1.0 + abs(numeric))
            wrong += not ok
            kind = "kept" if mask[index] else "dropped"
            lines.append(
                f"{index} ({kind}): numerical {numeric:.6g}, yours {yours:.6g}"
                + ("" if ok else " <- differs")
            )
        detail = "; ".join(lines)
        intro = (
            f"Central differences (h = {FD_STEP:g}) of L(x) = sum(dout * dropout(x)) with the "
            f"forward pass's mask, at {len(lines)} positions"
        )
        if not wrong:
            return passed(check_id, f"{intro} agree with your gradient: {detail}.")
        found = diagnose(grad, dout, mask, p) or Diagnosis("")
        return failed(
            check_id,
            f"{intro}: {wrong} of {len(lines)} disagree with your gradient: {detail}. "
            + found.explanation,
            found.misconceptions,
            found.defects,
        )

    def float32_values(self, check_id: str) -> CheckResult:
        """The float32 call gives the same gradient (values; its dtype is the dtype check)."""
        got = self.out.array(check_id, "float32", self.f32.shape)
        if isinstance(got, CheckResult):
            return got
        grad = as_float(got)
        expected = np.where(self.f32_mask, as_float(self.f32) / (1.0 - self.p), 0.0)
        bad = int(np.count_nonzero(np.abs(grad - expected) > VALUE_RTOL * np.abs(expected)))
        if bad == 0:
            return passed(check_id, f"The float32 gradient was right ({expected.size:,} values).")
        found = diagnose(grad, self.f32, self.f32_mask, self.p) or Diagnosis("")
        return failed(
            check_id,
            f"For {self.out.label('float32')}, {bad:,} of {expected.size:,} gradient values "
            f"differ from dout * keep_mask / (1-p). {found.explanation}",
            found.misconceptions,
            found.defects,
        )

    def input_not_mutated(self, check_id: str) -> CheckResult:
        expected = [("grad", 0, self.dout, "dout"), ("grad", 1, self.mask, "keep_mask")]
        return check_not_mutated(self.out, check_id, expected)

    def p_zero(self, check_id: str) -> CheckResult:
        """p = 0 and every unit kept: the gradient is dout."""
        got = self.out.array(check_id, "p_zero", self.edge.shape)
        if isinstance(got, CheckResult):
            return got
        grad, dout = as_float(got), self.edge
        if bool(np.all(np.abs(grad - dout) <= VALUE_RTOL * np.abs(dout))):
            return passed(check_id, "With p = 0 and every unit kept, the gradient was dout.")
        if not bool(np.all(np.isfinite(grad))):
            return failed(
                check_id,
                "With p = 0 the gradient contained NaN or infinity: dividing by p, the drop "
                "probability, instead of by the keep probability 1-p?",
                ["DO-PKEEP"],
            )
        inverted = self._mask_inverted()
        return failed(
            check_id,
            "With p = 0 every unit is kept and unscaled, so the gradient must equal dout, but "
            f"{int(np.count_nonzero(grad != dout)):,} of {dout.size:,} values differ."
            + (" keep_mask is True for the KEPT units." if inverted else ""),
            defects=["mask-inverted"] if inverted else [],
        )

    def p_one(self, check_id: str) -> CheckResult:
        """p = 1 and every unit dropped: the gradient is all zeros (no NaN)."""
        result = self.out.returned(check_id, "p_one")
        if isinstance(result, CheckResult):
            if "crashes" in result.defects:
                return failed(
                    check_id,
                    result.message + " With p = 1 every unit is dropped: the gradient is zero; "
                    "do not divide by 1-p = 0.",
                    defects=["nan-at-p1", "crashes"],
                )
            return result
        got = self.out.array(check_id, "p_one", self.edge.shape)
        if isinstance(got, CheckResult):
            return got
        grad = as_float(got)
        if not bool(np.all(np.isfinite(grad))):
            return failed(
                check_id,
                f"With p = 1 the gradient contained {int(np.count_nonzero(~np.isfinite(grad))):,}"
                " NaN or infinite values: 0/(1-p) is 0/0 there. Every unit was dropped, so the "
                "gradient is all zeros.",
                defects=["nan-at-p1"],
            )
        if bool(np.all(grad == 0)):
            return passed(check_id, "With p = 1 and every unit dropped, the gradient was zero.")
        head = (
            "With p = 1 every unit was dropped, so the gradient must be zero, but "
            f"{int(np.count_nonzero(grad)):,} of {grad.size:,} values were not."
        )
        if self._mask_inverted():  # the all-False mask read as "drop nothing"
            return failed(
                check_id, head + " keep_mask is True for the KEPT units.", defects=["mask-inverted"]
            )
        return failed(check_id, head, ["DO-GRADIENT"])  # gradient through dropped units

    def _mask_inverted(self) -> bool:
        """Whether the main call's gradient reads keep_mask the other way round."""
        got = self.out.get("grad")
        grad = None if got is None or got.raised is not None else got.returned
        if not isinstance(grad, np.ndarray) or grad.shape != self.dout.shape:
            return False
        found = diagnose(as_float(grad), self.dout, self.mask, self.p)
        return found is not None and "mask-inverted" in found.defects


@dataclass(frozen=True)
class Diagnosis:
    """What a wrong gradient equals, and the codes and defects that reveals."""

    explanation: str
    misconceptions: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()


def diagnose(grad: Array, dout: Array, mask: Array, p: float) -> Diagnosis | None:
    """What a wrong gradient equals, among the typical mistakes, with the codes it reveals.

    A factor with p where 1/(1-p) belongs is DO-PKEEP when it divides (the keep probability
    read as p) and DO-SCHEME as well when it multiplies (the direction is wrong too: both
    beliefs are needed, as either alone gives dout/p or dout·(1-p)). `~mask` is the
    mask-inverted defect (see base.DEFECTS), never DO-PKEEP: p itself is used correctly."""
    d = as_float(dout)
    q = 1.0 - p
    inverted = ("mask-inverted",)
    candidates: list[tuple[Array, Diagnosis]] = [
        (d, Diagnosis("Your gradient equals dout unchanged: the backward pass ignored the mask "
         "and the scale.", ("DO-GRADIENT",))),
        (d / q, Diagnosis("Your gradient equals dout / (1-p) everywhere: scaled, but the mask "
         "was ignored.", ("DO-GRADIENT",))),
        (d / p, Diagnosis("Your gradient equals dout / p everywhere: the mask was ignored and "
         "the scale used the drop probability.", ("DO-GRADIENT", "DO-PKEEP"))),
        (d * mask, Diagnosis("Your gradient equals dout * keep_mask: the mask was applied but "
         "not the 1/(1-p) scale of the forward pass.", ("DO-NOSCALE",))),
        (d * mask * q, Diagnosis("Your gradient equals dout * keep_mask * (1-p): multiplied by "
         "the keep probability instead of divided.", ("DO-SCHEME",))),
        (d * mask * p, Diagnosis("Your gradient equals dout * keep_mask * p: multiplied instead "
         "of divided, and by the drop probability p instead of the keep probability 1-p.",
         ("DO-SCHEME", "DO-PKEEP"))),
        (d * mask / p, Diagnosis("Your gradient equals dout * keep_mask / p: p is the drop "
         "probability; the forward pass divided by the keep probability 1-p.", ("DO-PKEEP",))),
        (d * ~mask / q, Diagnosis("Your gradient flows through the DROPPED units and not the "
         "kept ones: keep_mask is True for the KEPT units.", (), inverted)),
        (d * ~mask / p, Diagnosis("Your gradient flows through the DROPPED units, scaled by "
         "1/p: keep_mask is True for the KEPT units, and the keep probability is 1-p.",
         ("DO-PKEEP",), inverted)),
        (d * ~mask, Diagnosis("Your gradient flows through the DROPPED units, unscaled: "
         "keep_mask is True for the KEPT units, and kept units need the 1/(1-p) scale.",
         ("DO-NOSCALE",), inverted)),
    ]  # fmt: skip
    for expected, diagnosis in candidates:
        if expected.shape == grad.shape and bool(
            np.all(np.abs(grad - expected) <= VALUE_RTOL * np.abs(expected))
        ):
            return diagnosis
    return None


EXERCISE = DropoutBackward()
