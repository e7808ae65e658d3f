"""Exercise `spatial-dropout`: drop whole feature maps (channels) per example."""

from __future__ import annotations

import numpy as np

from grader.exercises.base import CheckResult, Plan
from grader.exercises.checks import (
    DELTA,
    Array,
    PlanBuilder,
    as_float,
    combine,
    failed,
    hoeffding_tolerance,
    p_draw,
    passed,
    run_checks,
    seeds_draw,
    signed_values,
    uniform_probability,
)
from grader.exercises.inverted import (
    INVERTED_CHECK_CODES,
    InvertedChecks,
    InvertedInputs,
    inverted_calls_add,
)
from grader.exercises.shared_checks import (
    check_drop_fraction,
    check_dtypes,
    check_fresh_mask,
    check_seed_dependent,
    check_shapes,
    value_keys,
)
from grader.sandbox.results import CallResult

FUNCTION = "spatial_dropout"

STATEMENT = """\
Implement spatial dropout (Tompson et al., 2015) for convolutional feature maps, in its
inverted form.

Convention: p is the probability of DROPPING a unit, here a whole channel.

spatial_dropout(x, p, training, rng) receives a float array x of shape (N, C, H, W)
(examples, channels, height, width), the drop probability p, a bool training and a
numpy.random.Generator rng. Neighbouring pixels of a feature map are strongly correlated,
so dropping single pixels barely regularises; spatial dropout drops entire channels.

- training=True: for every example n and channel c, decide ONCE (with probability p) to
  drop the whole H x W map x[n, c] (set it to 0); divide the kept maps by 1 - p. Decisions
  are independent across examples and channels, a fresh mask is drawn on every call, and
  rng is the only source of randomness.
- training=False: the output equals x.
- p = 0 keeps everything; p = 1 returns zeros (without NaN); p outside [0, 1] raises
  ValueError.
- Return a NEW array with x's shape and dtype (float32 stays float32); never modify x.
"""

SIGNATURE = (
    "def spatial_dropout(x: np.ndarray, p: float, training: bool, "
    "rng: np.random.Generator) -> np.ndarray"
)

STARTER_CODE = '''\
import numpy as np


def spatial_dropout(x, p, training, rng):
    """Inverted spatial dropout: drop whole channels x[n, c] with probability p.

    x: float ndarray of shape (N, C, H, W); p: probability of DROPPING a channel;
    training: apply dropout only when True; rng: numpy.random.Generator.
    Returns a new array with x's shape and dtype.
    """
    raise NotImplementedError
'''

REFERENCE_SOURCE = '''\
import numpy as np


def spatial_dropout(x, p, training, rng):
    """Drop each (example, channel) map with probability p; scale kept maps by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {x.shape}")
    if not training or p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = rng.random((x.shape[0], x.shape[1], 1, 1)) >= p
    return np.where(keep, x / (1.0 - p), 0).astype(x.dtype, copy=False)
'''

HINTS = (
    "p is the probability of DROPPING a channel; it is kept with probability 1 - p.",
    "Draw one decision per (example, channel): a mask of shape (N, C, 1, 1).",
    "Broadcasting applies an (N, C, 1, 1) mask to every pixel of the map.",
    "A mask of shape (1, C, 1, 1) would drop the same channels in every example: don't.",
    "Divide the kept maps by 1 - p, and return x unchanged when training is False.",
    "Handle p = 1 before dividing; raise ValueError for p outside [0, 1].",
)


# Per check, in the order they run, the misconception codes it can name (Exercise.check_codes).
# Examples N and channels C of the training input, from the power table (grader/POWER.md):
# one mask shared by every example shows in all but p^C + (1-p)^C ≤ 0.8^64 ≈ 6e-7 of draws,
# whole examples dropped in all but 0.8^N of them.
MAIN_EXAMPLES = (64, 80)
MAIN_CHANNELS = (64, 80)

CHECK_CODES: dict[str, tuple[str, ...]] = {
    "shape": (),
    "dtype": (),
    "eval-identity": INVERTED_CHECK_CODES["eval-identity"],
    "whole-channels": (),
    "drop-fraction": ("DO-PKEEP",),
    "kept-scaled": INVERTED_CHECK_CODES["kept-scaled"],
    "independent-examples": ("DO-FIXEDMASK",),
    "fresh-mask": ("DO-FIXEDMASK", "DO-TARGETED"),
    "seed-reproducible": INVERTED_CHECK_CODES["seed-reproducible"],
    "seed-dependent": INVERTED_CHECK_CODES["seed-dependent"],
    "input-not-mutated": INVERTED_CHECK_CODES["input-not-mutated"],
    "p-zero": INVERTED_CHECK_CODES["p-zero"],
    "p-one": INVERTED_CHECK_CODES["p-one"],
    "invalid-p": INVERTED_CHECK_CODES["invalid-p"],
}


def _dims(gen: np.random.Generator, n: tuple[int, int], c: tuple[int, int]) -> tuple[int, ...]:
    return (
        int(gen.integers(n[0], n[1] + 1)),
        int(gen.integers(c[0], c[1] + 1)),
        int(gen.integers(2, 5)),
        int(gen.integers(2, 5)),
    )


class SpatialDropout:
    slug = "spatial-dropout"
    title = "Spatial dropout: whole channels at a time"
    statement = STATEMENT
    signature = SIGNATURE
    functions = (FUNCTION,)
    starter_code = STARTER_CODE
    reference_source = REFERENCE_SOURCE
    hints = HINTS
    check_codes = CHECK_CODES

    def plan(self, seed: int) -> Plan:
        """Hidden inputs drawn from `seed`: N ≈ 64-80 examples times C ≈ 64-80 channels
        of small H x W maps (2-3 x 2-3), p, values and generator seeds."""
        gen = np.random.default_rng(seed)
        p = p_draw(gen)
        s_main, s_seed, s_other, s_eval, s_f32, s_edge = seeds_draw(gen, 6)
        examples = int(gen.integers(MAIN_EXAMPLES[0], MAIN_EXAMPLES[1] + 1))
        channels = int(gen.integers(MAIN_CHANNELS[0], MAIN_CHANNELS[1] + 1))
        main = signed_values(
            gen, (examples, channels, int(gen.integers(2, 4)), int(gen.integers(2, 4)))
        )
        eval_x = signed_values(gen, _dims(gen, (2, 6), (2, 6)), np.float32)
        f32 = signed_values(gen, _dims(gen, (4, 10), (4, 10)), np.float32)
        edge = signed_values(gen, _dims(gen, (2, 5), (2, 5)))
        seed_x = signed_values(gen, _dims(gen, (30, 40), (30, 40)))  # ≥ 900 channel decisions
        p_low = -round(float(gen.uniform(0.05, 1.0)), 3)
        p_high = round(float(gen.uniform(1.05, 2.0)), 3)

        b = PlanBuilder(FUNCTION)
        inputs = InvertedInputs(p, main, eval_x, f32, edge, seed_x, p_low, p_high)
        inverted_calls_add(b, FUNCTION, inputs, (s_main, s_seed, s_other, s_eval, s_f32, s_edge))
        context = {"eval_x": eval_x, "f32": f32, "edge": edge, "seed_x": seed_x}
        return b.build(p=p, main=main, p_low=p_low, p_high=p_high, **context)

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Every check's verdict; never raises, whatever `results` hold."""
        return _Checks(plan, results).run()


def _maps(out: Array) -> tuple[Array, Array]:
    """Per (example, channel): whether the whole map is 0, and whether it is mixed."""
    zero = as_float(out) == 0
    dropped = zero.all(axis=(2, 3))
    mixed = zero.any(axis=(2, 3)) & ~dropped
    return dropped, mixed


def _dropped_maps(out: Array) -> Array:
    return _maps(out)[0]


def _map_keys(x: Array) -> list[tuple[str, Array]]:
    """The orders a choice of maps by value would follow, per (example, channel)."""
    x64 = as_float(x)
    return [
        ("mean values", x64.mean(axis=(2, 3))),
        ("mean magnitudes", np.abs(x64).mean(axis=(2, 3))),
        ("norms", np.sqrt(np.square(x64).sum(axis=(2, 3)))),
    ]


class _Checks(InvertedChecks):
    """The check suite of one submission: one method per check, called with its id."""

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        super().__init__(plan, results)
        self._maps: dict[str, tuple[Array, Array]] = {}

    def run(self) -> list[CheckResult]:
        return run_checks(
            [
                ("shape", self.shape),
                ("dtype", self.dtype),
                ("eval-identity", self.eval_identity),
                ("whole-channels", self.whole_channels),
                ("drop-fraction", self.drop_fraction),
                ("kept-scaled", self.kept_scaled),
                ("independent-examples", self.independent_examples),
                ("fresh-mask", self.fresh_mask),
                ("seed-reproducible", self.seed_reproducible),
                ("seed-dependent", self.seed_dependent),
                ("input-not-mutated", self.input_not_mutated),
                ("p-zero", self.p_zero),
                ("p-one", self.p_one),
                ("invalid-p", self.invalid_p),
            ],
            CHECK_CODES,
        )

    def _train_maps(self, check_id: str, name: str = "train") -> tuple[Array, Array] | CheckResult:
        got = self.out.array(check_id, name, self.main.shape)
        if isinstance(got, CheckResult):
            return got
        if name not in self._maps:
            self._maps[name] = _maps(got)
        return self._maps[name]

    def shape(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        names = ("train", "eval", "float32", "p_zero")
        arrays = (self.main, self.eval_x, self.f32, self.edge)
        pairs = zip(names, arrays, strict=True)
        return check_shapes(self.out, check_id, [(n, a.shape) for n, a in pairs])

    def dtype(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): float64 stays float64, float32 stays float32 (train and eval)."""
        names = ("train", "eval", "float32")
        arrays = (self.main, self.eval_x, self.f32)
        pairs = zip(names, arrays, strict=True)
        return check_dtypes(self.out, check_id, [(n, a.dtype) for n, a in pairs])

    def whole_channels(self, check_id: str) -> CheckResult:
        """Exact (δ = 0; x has no zeros): every H x W map is dropped or kept as a whole."""
        maps = self._train_maps(check_id)
        if isinstance(maps, CheckResult):
            return maps
        mixed = maps[1]
        count = int(np.count_nonzero(mixed))
        n, c, h, w = self.main.shape
        if count == 0:
            return passed(
                check_id,
                f"Each of the {n * c:,} (example, channel) maps of {h} x {w} values was dropped "
                "or kept as a whole.",
            )
        return failed(
            check_id,
            f"{count:,} of the {n * c:,} (example, channel) maps of {h} x {w} values were "
            "partly dropped. Spatial dropout drops whole channels: one decision per example "
            "and channel (a mask of shape (N, C, 1, 1)), not one per pixel.",
        )

    def drop_fraction(self, check_id: str) -> CheckResult:
        """δ = 1e-9, Hoeffding on the N·C ≥ 4,096 channel decisions (t ≤ 0.052)."""
        maps = self._train_maps(check_id)
        if isinstance(maps, CheckResult):
            return maps
        return check_drop_fraction(check_id, maps[0], self.p, unit="channels")

    def independent_examples(self, check_id: str) -> CheckResult:
        """Decisions are independent across examples (not the same channels for every
        example) and across channels (not whole examples dropped).

        δ ≤ 1e-9, split in two: for a correct solution a channel is dropped in all N examples
        or in none with probability r_c = p^N + (1-p)^N ≤ 0.8^64 ≈ 6e-7, independently per
        channel; Hoeffding over the C ≥ 64 channels with δ/2 bounds the fraction of such
        channels by r_c + t (t ≤ 0.42). Likewise for examples over channels (r ≤ 6e-7,
        t ≤ 0.42 for N ≥ 64). One mask shared by all examples makes the first fraction 1."""
        maps = self._train_maps(check_id)
        if isinstance(maps, CheckResult):
            return maps
        dropped = maps[0]
        n, c = dropped.shape
        total = int(np.count_nonzero(dropped))
        if total in (0, dropped.size):
            return failed(
                check_id,
                "Either no channel or every channel was dropped, so the independence of the "
                "decisions could not be observed.",
            )
        same_channels = float(np.mean(dropped.all(axis=0) | ~dropped.any(axis=0)))
        whole_examples = float(np.mean(dropped.all(axis=1) | ~dropped.any(axis=1)))
        limit_channels = uniform_probability(self.p, n) + hoeffding_tolerance(c, DELTA / 2)
        limit_examples = uniform_probability(self.p, c) + hoeffding_tolerance(n, DELTA / 2)
        parts = []
        if same_channels > limit_channels:
            parts.append(
                failed(
                    check_id,
                    f"{same_channels:.1%} of the {c} channels were dropped in all {n} examples or "
                    f"in none (independent decisions give at most {limit_channels:.1%}): the "
                    "same channels were dropped for every example. Draw one decision per "
                    "example AND channel (N, C, 1, 1), not one per channel (1, C, 1, 1).",
                    ["DO-FIXEDMASK"],
                )
            )
        if whole_examples > limit_examples:
            parts.append(
                failed(
                    check_id,
                    f"{whole_examples:.1%} of the {n} examples had all {c} channels dropped or "
                    f"all kept (independent decisions give at most {limit_examples:.1%}): whole "
                    "examples were dropped instead of channels.",
                )
            )
        return combine(
            check_id,
            parts,
            f"Channel decisions look independent across examples and channels: "
            f"{same_channels:.1%} of the {c} channels and {whole_examples:.1%} of the {n} "
            "examples were uniform.",
        )

    def fresh_mask(self, check_id: str) -> CheckResult:
        """δ ≤ 0.68^4096 ≈ 0: two independent channel masks never coincide."""
        first = self._train_maps(check_id)
        if isinstance(first, CheckResult):
            return first
        second = self._train_maps(check_id, "train_again")
        if isinstance(second, CheckResult):
            return second
        return check_fresh_mask(
            check_id, first[0], second[0], unit="channels", keys=_map_keys(self.main)
        )

    def seed_dependent(self, check_id: str) -> CheckResult:
        """δ ≈ 0 (see check_seed_dependent): another seed gives another output; ≥ 900
        channel decisions (0.68^900 ≈ 1e-151). A solution that drops single values (the
        whole-channels check) is judged on its values, so its mask can still be seen."""
        got = self.out.array(check_id, "seed_first", self.seed_x.shape)
        if not isinstance(got, CheckResult) and bool(np.any(_maps(got)[1])):
            return check_seed_dependent(
                self.out,
                check_id,
                "seed_first",
                "other_seed",
                self.seed_x.shape,
                keys=value_keys(self.seed_x),
                unit="values",
            )
        return check_seed_dependent(
            self.out,
            check_id,
            "seed_first",
            "other_seed",
            self.seed_x.shape,
            dropped=_dropped_maps,
            keys=_map_keys(self.seed_x),
            unit="channels",
        )


EXERCISE = SpatialDropout()
