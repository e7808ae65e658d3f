"""Exercise `dropout-classic`: the original paper's dropout (scaling at inference)."""

from __future__ import annotations

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
    combine,
    failed,
    generator,
    p_draw,
    passed,
    run_checks,
    seeds_draw,
    signed_values,
    value,
)
from grader.exercises.shared_checks import (
    Factor,
    check_drop_fraction,
    check_dtypes,
    check_fresh_mask,
    check_kept_scaled,
    check_not_mutated,
    check_reproducible,
    check_seed_dependent,
    check_shapes,
    factor_match,
    value_keys,
)
from grader.sandbox.results import CallResult

TRAIN = "dropout_classic_train"
INFER = "dropout_classic_infer"

STATEMENT = """\
Implement dropout as in the original paper (Srivastava et al., 2014), sometimes called
"classic" (non-inverted) dropout.

Convention: here p is the probability of DROPPING a unit, as in PyTorch and Keras; a unit
is kept with probability 1 - p. (The paper writes p for the probability of RETAINING a unit:
its p is our 1 - p.)

- dropout_classic_train(x, p, rng): drop every element of x independently with probability
  p (set it to 0) and leave the kept elements UNSCALED. Use only the numpy.random.Generator
  rng for randomness and draw a fresh mask on every call.
- dropout_classic_infer(x, p): at inference every unit is present, so multiply x by the keep
  probability 1 - p: the expected training output and the inference output then agree.
  Inference is deterministic. (The paper multiplies a unit's outgoing weights by its keep
  probability at test time; multiplying the unit's output instead, as here, gives the next
  layer the same input.)

Both functions take a float array x of any shape and return a NEW array with x's shape and
dtype (float32 stays float32); neither modifies x.
"""

SIGNATURE = (
    "def dropout_classic_train(x: np.ndarray, p: float, rng: np.random.Generator) "
    "-> np.ndarray\n"
    "def dropout_classic_infer(x: np.ndarray, p: float) -> np.ndarray"
)

STARTER_CODE = '''\
import numpy as np


def dropout_classic_train(x, p, rng):
    """Classic dropout in training: drop each unit with probability p, no rescaling.

    x: float ndarray; p: probability of DROPPING a unit; rng: numpy.random.Generator.
    Returns a new array with x's shape and dtype.
    """
    raise NotImplementedError


def dropout_classic_infer(x, p):
    """Classic dropout at inference: scale by the keep probability 1 - p (deterministic)."""
    raise NotImplementedError
'''

REFERENCE_SOURCE = '''\
import numpy as np


def dropout_classic_train(x, p, rng):
    """Drop each unit with probability p; kept units are NOT rescaled."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    x = np.asarray(x)
    keep = rng.random(x.shape) >= p
    return np.where(keep, x, 0).astype(x.dtype, copy=False)


def dropout_classic_infer(x, p):
    """Every unit is present at inference: scale by the keep probability 1 - p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    x = np.asarray(x)
    return (x * (1.0 - p)).astype(x.dtype, copy=False)
'''

HINTS = (
    "p is the probability of DROPPING a unit; the paper's p is the keep probability 1 - p.",
    "In training, x * (rng.random(x.shape) >= p) keeps each unit with probability 1 - p.",
    "Classic dropout does not rescale in training: dividing by 1 - p is inverted dropout.",
    "At inference the expected training output is (1 - p) * x, so multiply by 1 - p.",
    "Inference uses no randomness at all.",
    "x * (1 - p) keeps float32 as float32; do not assign into x.",
)


# Per check, in the order they run, the misconception codes it can name (Exercise.check_codes).
# The training input's size, from the power table (grader/POWER.md): its checks catch gross
# defects (1-p dropped instead of p, one mask reused), which a few hundred decisions expose.
MAIN_ELEMENTS = 2_000

CHECK_CODES: dict[str, tuple[str, ...]] = {
    "shape": (),
    "dtype": (),
    "train-drop-fraction": ("DO-PKEEP",),
    "train-kept-unscaled": ("DO-SCHEME", "DO-PKEEP"),
    "train-fresh-mask": ("DO-FIXEDMASK", "DO-TARGETED"),
    "train-seed-reproducible": (),
    "train-seed-dependent": ("DO-FIXEDMASK", "DO-TARGETED"),
    "infer-scaled": ("DO-TEST", "DO-NOSCALE", "DO-SCHEME", "DO-PKEEP"),
    "infer-deterministic": ("DO-TEST",),
    "input-not-mutated": (),
}


def train_factors(p: float) -> list[Factor]:
    """Wrong factors between kept outputs and inputs in classic dropout's training pass.

    Any factor here is a scaling in training, where classic dropout has none: the scheme
    mix-up (DO-SCHEME). A factor with p where the keep probability 1-p belongs also takes
    the drop/keep confusion (DO-PKEEP): both beliefs are needed to write it, since the
    mix-up alone gives 1/(1-p) or (1-p) and the confusion alone gives no factor at all."""
    return [
        Factor(1.0 / (1.0 - p), "1/(1-p)", "Dividing the kept units by 1-p in training is "
               "INVERTED dropout; classic dropout leaves training unscaled and multiplies by "
               "1-p at inference instead.", ("DO-SCHEME",)),
        Factor(1.0 / p, "1/p", "Dividing in training is inverted dropout's rule, and dividing "
               "by p treats the drop probability as the keep probability; classic dropout "
               "leaves training unscaled.", ("DO-SCHEME", "DO-PKEEP")),
        Factor(1.0 - p, "(1-p)", "Multiplying by 1-p belongs to inference, not training: in "
               "training the kept units pass through unchanged.", ("DO-SCHEME",)),
        Factor(p, "p", "Multiplying by the keep probability belongs to inference, and p is "
               "the DROP probability (the keep probability is 1-p); in training the kept "
               "units pass through unchanged.", ("DO-SCHEME", "DO-PKEEP")),
    ]  # fmt: skip


def infer_factors(p: float, trained: Factor | None) -> list[Factor]:
    """Wrong factors between the inference output and x in classic dropout.

    `trained` is the factor the same submission's training pass applied to kept units
    (Factor 1 for none), if it could be read: returning x at inference is DO-NOSCALE only
    when no scaling was applied in training either; after a scaled training pass it
    completes an inverted layer, the scheme mix-up."""
    if trained is not None and trained.value == 1.0:
        unchanged = Factor(
            1.0,
            "1",
            "Training does not rescale either, so no scaling is applied anywhere: training "
            "kept only a fraction 1-p of the units, and activations at inference are 1/(1-p) "
            "times those seen in training.",
            ("DO-NOSCALE",),
        )
    elif trained is not None:
        unchanged = Factor(
            1.0,
            "1",
            f"Your training pass scales the kept units by {trained.name} and inference leaves "
            "x unchanged: that is inverted dropout's way of scaling, not classic dropout's, "
            "which leaves training unscaled and multiplies by 1-p here.",
            ("DO-SCHEME",),
        )
    else:
        unchanged = Factor(
            1.0, "1", "Classic dropout multiplies by the keep probability 1-p at inference."
        )
    return [
        unchanged,
        Factor(p, "p", "p is the drop probability; scale by the keep probability 1-p.",
               ("DO-PKEEP",)),
        Factor(1.0 / (1.0 - p), "1/(1-p)", "Dividing by 1-p is inverted dropout's training "
               "step; at inference it makes activations larger, where classic dropout "
               "multiplies by 1-p.", ("DO-SCHEME",)),
        # Both beliefs needed: dividing at inference (alone: 1/(1-p)) and p read as the
        # keep probability (alone: p).
        Factor(1.0 / p, "1/p", "Dividing by p mixes up the schemes and the probabilities: "
               "classic inference multiplies by the keep probability 1-p.",
               ("DO-SCHEME", "DO-PKEEP")),
    ]  # fmt: skip


def _train_label(x: Array, p: float) -> str:
    return f"{TRAIN}(x, p={p:g}, rng) with x {array_text(x)}"


def _infer_label(x: Array, p: float) -> str:
    return f"{INFER}(x, p={p:g}) with x {array_text(x)}"


class DropoutClassic:
    slug = "dropout-classic"
    title = "Classic dropout: scale at inference, not in training"
    statement = STATEMENT
    signature = SIGNATURE
    functions = (TRAIN, INFER)
    starter_code = STARTER_CODE
    reference_source = REFERENCE_SOURCE
    hints = HINTS
    check_codes = CHECK_CODES

    def plan(self, seed: int) -> Plan:
        """Hidden inputs drawn from `seed`: shapes, p, values and generator seeds."""
        gen = np.random.default_rng(seed)
        p = p_draw(gen)
        s_main, s_seed, s_other, s_f32 = seeds_draw(gen, 4)
        cols = int(gen.integers(40, 81))
        main = signed_values(gen, (MAIN_ELEMENTS // cols, cols))
        train_f32 = signed_values(gen, _dims(gen, 3, 5, 15), np.float32)
        infer_x = signed_values(gen, _dims(gen, 2, 20, 60))
        infer_f32 = signed_values(gen, _dims(gen, 4, 2, 6), np.float32)
        seed_x = signed_values(gen, _dims(gen, 2, 80, 120))  # ≥ 6,400 elements

        b = PlanBuilder(TRAIN)
        a_main, a_train_f32, a_infer, a_infer_f32, a_seed = map(
            b.array, (main, train_f32, infer_x, infer_f32, seed_x)
        )
        label = _train_label(main, p)
        b.call("train", [a_main, value(p), generator("A", s_main)], label, return_inputs=True)
        b.call("train_again", [a_main, value(p), generator("A", s_main)], label + " (2nd call)")
        label = _train_label(seed_x, p)
        b.call("seed_first", [a_seed, value(p), generator("B", s_seed)], label + " (seed s)")
        b.call(
            "same_seed", [a_seed, value(p), generator("C", s_seed)], label + " (new rng, seed s)"
        )
        b.call("other_seed", [a_seed, value(p), generator("E", s_other)], label + " (other seed)")
        b.call(
            "train_f32",
            [a_train_f32, value(p), generator("D", s_f32)],
            _train_label(train_f32, p),
        )
        infer = _infer_label(infer_x, p)
        b.call("infer", [a_infer, value(p)], infer, return_inputs=True, function=INFER)
        b.call("infer_again", [a_infer, value(p)], infer + " (2nd call)", function=INFER)
        b.call("infer_f32", [a_infer_f32, value(p)], _infer_label(infer_f32, p), function=INFER)
        context = {"train_f32": train_f32, "infer_x": infer_x, "infer_f32": infer_f32}
        return b.build(p=p, main=main, seed_x=seed_x, **context)

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Every check's verdict; never raises, whatever `results` hold."""
        return _Checks(plan, results).run()


def _dims(gen: np.random.Generator, ndim: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(int(n) for n in gen.integers(low, high + 1, size=ndim))


class _Checks:
    """The check suite of one submission: one method per check, called with its id."""

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        context: dict[str, Any] = plan.context
        self.out = Outcomes(plan, results)
        self.p: float = context["p"]
        self.main: Array = context["main"]
        self.train_f32: Array = context["train_f32"]
        self.infer_x: Array = context["infer_x"]
        self.infer_f32: Array = context["infer_f32"]
        self.seed_x: Array = context["seed_x"]

    def run(self) -> list[CheckResult]:
        return run_checks(
            [
                ("shape", self.shape),
                ("dtype", self.dtype),
                ("train-drop-fraction", self.train_drop_fraction),
                ("train-kept-unscaled", self.train_kept_unscaled),
                ("train-fresh-mask", self.train_fresh_mask),
                ("train-seed-reproducible", self.train_seed_reproducible),
                ("train-seed-dependent", self.train_seed_dependent),
                ("infer-scaled", self.infer_scaled),
                ("infer-deterministic", self.infer_deterministic),
                ("input-not-mutated", self.input_not_mutated),
            ],
            CHECK_CODES,
        )

    def shape(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        expected = [
            ("train", self.main.shape),
            ("train_f32", self.train_f32.shape),
            ("infer", self.infer_x.shape),
            ("infer_f32", self.infer_f32.shape),
        ]
        return check_shapes(self.out, check_id, expected)

    def dtype(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): float64 stays float64, float32 stays float32."""
        expected = [
            ("train", self.main.dtype),
            ("train_f32", self.train_f32.dtype),
            ("infer", self.infer_x.dtype),
            ("infer_f32", self.infer_f32.dtype),
        ]
        return check_dtypes(self.out, check_id, expected)

    def train_drop_fraction(self, check_id: str) -> CheckResult:
        """δ = 1e-9, Hoeffding on the n ≈ 2,000 independent drop decisions (t ≈ 0.073)."""
        got = self.out.array(check_id, "train", self.main.shape)
        if isinstance(got, CheckResult):
            return got
        return check_drop_fraction(check_id, as_float(got) == 0, self.p)

    def train_kept_unscaled(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): every non-zero training output equals x."""
        got = self.out.array(check_id, "train", self.main.shape)
        if isinstance(got, CheckResult):
            return got
        p = self.p
        wrong = train_factors(p)
        if self._infers_classic():  # then a scaled training pass scales twice: say so
            wrong[0] = Factor(
                wrong[0].value, wrong[0].name, "Dividing the kept units by 1-p in training is "
                "INVERTED dropout's scaling, and your inference also multiplies by 1-p: the "
                "correction is applied twice, so activations at inference are (1-p) times "
                "the expected training ones. Classic dropout leaves training unscaled.",
                wrong[0].misconceptions,
            )  # fmt: skip
        return check_kept_scaled(
            check_id, got, self.main, Factor(1.0, "1"), wrong, f"With p = {p:g} in training"
        )

    def _train_factor(self) -> Factor | None:
        """The factor the training pass applied to its kept units (Factor 1 for none), if
        the output could be read and one known factor explains every kept unit."""
        got = self.out.get("train")
        out = None if got is None or got.raised is not None else got.returned
        if not isinstance(out, np.ndarray) or out.shape != self.main.shape:
            return None
        o = as_float(out)
        kept = o != 0
        if not bool(np.any(kept)):
            return None
        return factor_match(
            o[kept] / as_float(self.main)[kept], [Factor(1.0, "1"), *train_factors(self.p)]
        )

    def _infers_classic(self) -> bool:
        """Whether the inference call returned x * (1-p), as classic dropout should."""
        got = self.out.get("infer")
        out = None if got is None or got.raised is not None else got.returned
        if not isinstance(out, np.ndarray) or out.shape != self.infer_x.shape:
            return False
        target = as_float(self.infer_x) * (1.0 - self.p)
        return bool(np.all(np.abs(as_float(out) - target) <= VALUE_RTOL * np.abs(target)))

    def train_fresh_mask(self, check_id: str) -> CheckResult:
        """δ ≤ 0.68^1960 ≈ 0: two independent masks never coincide (see check_fresh_mask)."""
        first = self.out.array(check_id, "train", self.main.shape)
        if isinstance(first, CheckResult):
            return first
        second = self.out.array(check_id, "train_again", self.main.shape)
        if isinstance(second, CheckResult):
            return second
        return check_fresh_mask(
            check_id, as_float(first) == 0, as_float(second) == 0, keys=value_keys(self.main)
        )

    def train_seed_reproducible(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): a new generator with the same seed reproduces the output."""
        return check_reproducible(self.out, check_id, "seed_first", "same_seed", self.seed_x.shape)

    def train_seed_dependent(self, check_id: str) -> CheckResult:
        """δ ≈ 0 (see check_seed_dependent)."""
        return check_seed_dependent(
            self.out,
            check_id,
            "seed_first",
            "other_seed",
            self.seed_x.shape,
            keys=value_keys(self.seed_x),
        )

    def infer_scaled(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): inference returns x * (1-p), for float64 and float32 inputs."""
        parts = [
            self._infer_one(check_id, "infer", self.infer_x),
            self._infer_one(check_id, "infer_f32", self.infer_f32),
        ]
        return combine(
            check_id,
            parts,
            f"With p = {self.p:g}, inference returned x * (1-p) = x * {1 - self.p:.4g} for "
            "float64 and float32 inputs: the expected training output.",
        )

    def _infer_one(self, check_id: str, name: str, x: Array) -> CheckResult:
        got = self.out.array(check_id, name, x.shape)
        if isinstance(got, CheckResult):
            return got
        p = self.p
        o, x64 = as_float(got), as_float(x).astype(np.float64)
        target = x64 * (1.0 - p)
        if bool(np.all(np.abs(o - target) <= VALUE_RTOL * np.abs(target))):
            return passed(
                check_id,
                f"With p = {p:g}, inference returned x * (1-p) = x * {1 - p:.4g}: the expected "
                "training output.",
            )
        zeros = int(np.count_nonzero(o == 0))
        if 0 < zeros < x.size:  # x has no zeros: some units, not all, were dropped
            return failed(
                check_id,
                f"At inference {zeros:,} of {x.size:,} values were set to 0: units must not be "
                "dropped at inference; every unit is present and scaled by 1-p.",
                ["DO-TEST"],
            )
        if zeros:
            return failed(
                check_id, f"At inference all {x.size:,} values were 0; expected x * (1-p)."
            )
        match = factor_match(o / x64, infer_factors(p, self._train_factor()))
        if match is not None:
            return failed(
                check_id,
                f"With p = {p:g}, inference should return x * (1-p) = x * {1 - p:.4g}, but it "
                f"returned x * {match.name} = x * {match.value:.4g}. {match.explanation}",
                match.misconceptions,
            )
        bad = int(np.count_nonzero(np.abs(o - target) > VALUE_RTOL * np.abs(target)))
        return failed(
            check_id,
            f"With p = {p:g}, inference should return x * (1-p) = x * {1 - p:.4g}, but {bad:,} "
            f"of {x.size:,} values differ.",
        )

    def infer_deterministic(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): two inference calls on the same input agree."""
        first = self.out.array(check_id, "infer", self.infer_x.shape)
        if isinstance(first, CheckResult):
            return first
        second = self.out.array(check_id, "infer_again", self.infer_x.shape)
        if isinstance(second, CheckResult):
            return second
        a, b = as_float(first), as_float(second)
        differ = int(np.count_nonzero(~((a == b) | (np.isnan(a) & np.isnan(b)))))
        if differ == 0:
            return passed(check_id, "Two inference calls on the same input gave the same output.")
        return failed(
            check_id,
            f"Two inference calls on the same input differed in {differ:,} of {a.size:,} values. "
            "Inference is deterministic: no unit is dropped at test time.",
            ["DO-TEST"],
        )

    def input_not_mutated(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        expected = [("train", 0, self.main, "x"), ("infer", 0, self.infer_x, "x")]
        return check_not_mutated(self.out, check_id, expected)


EXERCISE = DropoutClassic()
