"""Exercise `mc-dropout`: Monte Carlo dropout, deliberate sampling at test time.

The checker supplies the network: `forward(x, training, rng)` is a one-hidden-layer ReLU
network with inverted dropout (drop probability p) on its H hidden units, built by the
sandbox harness from weights chosen here. For one input row with hidden activations h
(ReLU, all positive by construction) and output k, one stochastic pass gives

    y_k = b2_k + Σ_j h_j W2_jk m_j / q,   m_j ~ Bernoulli(q) independent, q = 1 - p,

so y_k - μ_k = Σ_j c_j d_j with c_j = h_j W2_jk / q, d_j = m_j - q ∈ {p, -q},
μ_k = b2_k + Σ_j h_j W2_jk (the deterministic output) and sigma_k² = p q Σ_j c_j². Those exact
moments let the checks bound what a correct n-sample estimate can return (see `Moments`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.exercises.base import CheckResult, Plan
from grader.exercises.checks import (
    Array,
    Outcomes,
    PlanBuilder,
    array_or_failure,
    as_float,
    describe,
    failed,
    generator,
    passed,
    run_checks,
    seeds_draw,
    value,
)
from grader.exercises.mc_dropout_network import OUTPUTS, Moments, moments_exact, network_draw
from grader.exercises.shared_checks import check_not_mutated
from grader.sandbox.results import CallResult

FUNCTION = "mc_predict"
SMALL_SAMPLES = 16

STATEMENT = """\
Implement Monte Carlo (MC) dropout prediction (Gal & Ghahramani, 2016).

Convention: p is the probability of DROPPING a unit.

Normally dropout is switched off at inference: the network is deterministic. MC dropout
is the deliberate exception: it keeps dropout ON at test time and runs the network many
times, each time with a fresh random mask, to estimate both a prediction (the mean of the
samples) and its uncertainty (their standard deviation).

mc_predict(forward, x, n_samples, rng) receives
- forward(x, training, rng): a stochastic network (supplied by the checker) that returns an
  array of shape (batch, outputs) for an input x of shape (batch, inputs); with
  training=True it applies dropout using the numpy.random.Generator rng;
- x: the input batch, a float array of shape (batch, inputs);
- n_samples: how many stochastic forward passes to run;
- rng: the numpy.random.Generator to pass on: the only source of randomness.

It returns a tuple (mean, std) of two arrays of shape (batch, outputs): the mean and the
standard deviation over the n_samples passes of each output. Do not modify x.
"""

SIGNATURE = (
    "def mc_predict(forward: Callable[[np.ndarray, bool, np.random.Generator], np.ndarray], "
    "x: np.ndarray, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]"
)

STARTER_CODE = '''\
import numpy as np


def mc_predict(forward, x, n_samples, rng):
    """Monte Carlo dropout: n_samples stochastic passes of forward(x, True, rng).

    Returns (mean, std) over the samples, each of shape (batch, outputs).
    """
    raise NotImplementedError
'''

REFERENCE_SOURCE = '''\
import numpy as np


def mc_predict(forward, x, n_samples, rng):
    """Run the network n_samples times with dropout ON; return the samples' mean and std."""
    samples = np.stack([np.asarray(forward(x, True, rng)) for _ in range(n_samples)])
    return samples.mean(axis=0), samples.std(axis=0)
'''

HINTS = (
    "MC dropout keeps dropout ON at test time: call forward(x, True, rng).",
    "Call it n_samples times and stack the results: shape (n_samples, batch, outputs).",
    "Pass the rng you were given to forward; do not create a generator of your own.",
    "Take the mean and the standard deviation over the samples axis (axis 0).",
    "With training=False every pass is identical and the standard deviation is 0.",
    "Return a tuple (mean, std), not the variance.",
)


# Per check, in the order they run, the misconception codes it can name (Exercise.check_codes).
# Calling forward with training=False here is DO-MCDROPOUT, never DO-TEST: switching dropout
# off at inference is the right belief about normal inference; in an MC routine it shows a
# misunderstanding of MC dropout itself.
CHECK_CODES: dict[str, tuple[str, ...]] = {
    "returns-pair": (),
    "forward-calls": ("DO-MCDROPOUT",),
    "mean": (),
    "std-positive": ("DO-MCDROPOUT", "DO-FIXEDMASK"),
    "std": (),
    "seed-reproducible": (),
    "seed-dependent": ("DO-MCDROPOUT", "DO-FIXEDMASK"),
    "input-not-mutated": (),
}


class McDropout:
    slug = "mc-dropout"
    title = "Monte Carlo dropout: sampling at test time on purpose"
    statement = STATEMENT
    signature = SIGNATURE
    functions = (FUNCTION,)
    starter_code = STARTER_CODE
    reference_source = REFERENCE_SOURCE
    hints = HINTS
    check_codes = CHECK_CODES

    def plan(self, seed: int) -> Plan:
        """A network, an input batch, n_samples and generator seeds drawn from `seed`."""
        gen = np.random.default_rng(seed)
        for _ in range(20):  # in practice the first draw always qualifies (see network_draw)
            p, x, weights, n = network_draw(gen)
            moments = moments_exact(x, weights, p, n)
            if bool(np.all(moments.var_low >= 0.1 * moments.sigma**2)):
                break
        s_main, s_repeat, s_other = seeds_draw(gen, 3)

        b = PlanBuilder(FUNCTION)
        network = b.network(weights, p)
        a_x = b.array(x)
        label = f"{FUNCTION}(forward, x, n_samples={{n}}, rng) with x of shape {x.shape}"
        b.call(
            "mc",
            [network, a_x, value(n), generator("A", s_main)],
            label.format(n=n),
            return_inputs=True,
        )
        small = label.format(n=SMALL_SAMPLES)
        b.call("repeat_a", [network, a_x, value(SMALL_SAMPLES), generator("B", s_repeat)], small)
        b.call(
            "repeat_b",
            [network, a_x, value(SMALL_SAMPLES), generator("C", s_repeat)],
            small + " (a new generator with the same seed)",
        )
        b.call(
            "other",
            [network, a_x, value(SMALL_SAMPLES), generator("D", s_other)],
            small + " (a generator with another seed)",
        )
        return b.build(p=p, n=n, x=x, moments=moments)

    def evaluate(self, plan: Plan, results: list[CallResult]) -> list[CheckResult]:
        """Every check's verdict; never raises, whatever `results` hold."""
        return _Checks(plan, results).run()


class _Checks:
    """The check suite of one submission: one method per check, called with its id."""

    def __init__(self, plan: Plan, results: list[CallResult]) -> None:
        context: dict[str, Any] = plan.context
        self.out = Outcomes(plan, results)
        self.p: float = context["p"]
        self.n: int = context["n"]
        self.x: Array = context["x"]
        self.moments: Moments = context["moments"]
        self.shape = (self.x.shape[0], OUTPUTS)

    def run(self) -> list[CheckResult]:
        return run_checks(
            [
                ("returns-pair", self.returns_pair),
                ("forward-calls", self.forward_calls),
                ("mean", self.mean),
                ("std-positive", self.std_positive),
                ("std", self.std),
                ("seed-reproducible", self.seed_reproducible),
                ("seed-dependent", self.seed_dependent),
                ("input-not-mutated", self.input_not_mutated),
            ],
            CHECK_CODES,
        )

    def _pair(self, check_id: str, name: str) -> tuple[Array, Array] | CheckResult:
        returned = self.out.returned(check_id, name)
        if isinstance(returned, CheckResult):
            return returned
        label = self.out.label(name)
        if not isinstance(returned, tuple) or len(returned) != 2:
            return failed(
                check_id,
                f"{label} returned {describe(returned)}; expected a tuple (mean, std) of two "
                f"arrays of shape {self.shape}.",
                defects=["wrong-return-type"],
            )
        arrays = []
        for part, what in zip(returned, ("mean", "std"), strict=True):
            got = array_or_failure(
                check_id, part, f"{label} (its {what})", self.shape, "(batch, outputs)"
            )
            if isinstance(got, CheckResult):
                return got
            arrays.append(as_float(got).astype(np.float64))
        return arrays[0], arrays[1]

    def returns_pair(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): a 2-tuple of ndarrays of shape (batch, outputs)."""
        got = self._pair(check_id, "mc")
        if isinstance(got, CheckResult):
            return got
        return passed(
            check_id, f"mc_predict returned (mean, std), two arrays of shape {self.shape}."
        )

    def _network_calls(self, name: str = "mc") -> list[tuple[bool, tuple[int, ...]]]:
        result = self.out.get(name)
        calls = [] if result is None else result.network_calls
        if not isinstance(calls, list):
            return []
        return [
            (bool(call[0]), call[1])
            for call in calls
            if isinstance(call, tuple) and len(call) == 2 and isinstance(call[1], tuple)
        ]

    def _passes(self, name: str = "mc") -> tuple[int, int]:
        """Rows forward ran on with dropout on, and the number of calls with it off."""
        calls = self._network_calls(name)
        on_rows = sum(_rows(shape) for training, shape in calls if training)
        return on_rows, sum(1 for training, _ in calls if not training)

    def forward_calls(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): forward ran with training=True on n_samples copies of the batch
        (any split into calls is accepted: one call per sample, or stacked batches). Extra
        calls with training=False are reported, not failed: a deterministic pass next to
        the samples is normal inference, a correct action; DO-MCDROPOUT is named only when
        passes that should have been samples were made with dropout off."""
        crashed = self.out.raised(check_id, "mc")
        calls = self._network_calls()
        rows = sum(_rows(shape) for _, shape in calls)
        on_rows, off = self._passes()
        expected_rows = self.n * self.x.shape[0]
        summary = (
            f"forward was called {len(calls)} time(s), {off} of them with training=False, on "
            f"{rows} input rows in total"
        )
        short = off > 0 and on_rows < expected_rows  # samples made with dropout off
        if crashed is not None:
            return failed(
                check_id,
                f"{crashed.message} Before that, {summary}.",
                ["DO-MCDROPOUT"] if off and not on_rows else [],
                crashed.defects,
            )
        if short:
            return failed(
                check_id,
                f"{summary}. MC dropout deliberately keeps dropout ON at test time: with "
                "training=False every pass is the same deterministic network, so the samples "
                "carry no uncertainty (std 0). Call forward(x, True, rng) for every sample.",
                ["DO-MCDROPOUT"],
            )
        if on_rows != expected_rows:
            return failed(
                check_id,
                f"{summary}; expected n_samples = {self.n} stochastic passes over the "
                f"{self.x.shape[0]}-row batch ({expected_rows} rows).",
            )
        extra = (
            f" The {off} call(s) with training=False are normal, deterministic inference: not "
            "samples, and not needed for MC dropout's mean and spread."
            if off
            else ""
        )
        return passed(check_id, f"{summary}: n_samples = {self.n} passes with dropout on.{extra}")

    def mean(self, check_id: str) -> CheckResult:
        """δ = 1e-9 (Hoeffding on the mask bits, union over the outputs; see Moments)."""
        got = self._pair(check_id, "mc")
        if isinstance(got, CheckResult):
            return got
        mean = got[0]
        m = self.moments
        error = np.abs(mean - m.mu)
        bad = ~(error <= m.mean_tol)
        if not bool(np.any(bad)):
            worst = float(np.max(error / m.mean_tol))
            return passed(
                check_id,
                f"Every mean is within its tolerance of the network's expected output under "
                f"dropout (at most {worst:.0%} of the tolerance, n = {self.n}).",
            )
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        hint = ""
        std_like = np.abs(mean - m.sigma) <= 0.5 * m.sigma
        if bool(np.all(std_like)):
            hint = " Your mean looks like the standard deviation: return (mean, std) in that order."
        return failed(
            check_id,
            f"mean{list(index)} = {float(mean[index]):.4g}, but the network's expected output "
            f"under dropout is {float(m.mu[index]):.4g}; a correct average of {self.n} samples "
            f"is within ±{float(m.mean_tol[index]):.3g} of it. {int(np.sum(bad))} of "
            f"{bad.size} means are outside their tolerance.{hint}",
        )

    def std_positive(self, check_id: str) -> CheckResult:
        """The samples vary: every std is above 1e-6 * (1 + |μ|) (identical samples give 0 up
        to rounding, about 1e-15 |μ|). δ ≤ 1e-9: the plan guarantees that the std check's
        lower bound, which a correct estimate respects except with probability 1e-9, is
        ≥ 0.3 sigma, far above that floor (μ is at most a few tens of sigma)."""
        got = self._pair(check_id, "mc")
        if isinstance(got, CheckResult):
            return got
        std = got[1]
        if not bool(np.any(self._no_spread(std))):
            return passed(check_id, "Every output's standard deviation is positive.")
        zero = int(np.count_nonzero(self._no_spread(std)))
        message = (
            f"{zero} of {std.size} standard deviations were 0 (up to rounding) or not a number: "
            "all passes gave the same output."
        )
        on_rows, off = self._passes()
        if off and on_rows < self.n * self.x.shape[0]:
            return failed(
                check_id,
                message + " forward was called with training=False: MC dropout samples with "
                "dropout ON at test time, which is what makes the passes differ.",
                ["DO-MCDROPOUT"],
            )
        if on_rows >= 2 * self.x.shape[0] and self._seed_independent():
            # Passes with dropout on that are identical, whatever the seed: one mask used on
            # every pass (typically a generator created with a fixed seed for each pass).
            return failed(
                check_id,
                message + " With dropout on, identical passes mean the same mask was used on "
                "every pass, e.g. from a generator created with a fixed seed for each pass: pass "
                "the given rng to forward, so that every pass draws a fresh mask.",
                ["DO-FIXEDMASK"],
            )
        return failed(check_id, message)

    def _no_spread(self, std: Array) -> Array:
        """Where a std is 0 up to rounding (at most 1e-6 * (1 + |μ|)) or not a number."""
        return np.asarray(~(std > 1e-6 * (1.0 + np.abs(self.moments.mu))))

    def _seed_independent(self) -> bool:
        """Whether generators with different seeds gave exactly the same (mean, std)."""
        first = self._pair("seed-dependent", "repeat_a")
        other = self._pair("seed-dependent", "other")
        if isinstance(first, CheckResult) or isinstance(other, CheckResult):
            return False
        return _same(first, other)

    def std(self, check_id: str) -> CheckResult:
        """δ = 1e-9 (Bernstein + Hoeffding, union over the outputs; see Moments)."""
        got = self._pair(check_id, "mc")
        if isinstance(got, CheckResult):
            return got
        std = got[1]
        m = self.moments
        low, high = np.sqrt(m.var_low), np.sqrt(m.var_high)
        bad = ~((std >= low) & (std <= high))
        if not bool(np.any(bad)):
            return passed(
                check_id,
                f"Every standard deviation is within the range a correct {self.n}-sample "
                f"estimate can take (e.g. std[0, 0] = {float(std[0, 0]):.4g}, true "
                f"{float(m.sigma[0, 0]):.4g}, range [{float(low[0, 0]):.4g}, "
                f"{float(high[0, 0]):.4g}]).",
            )
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        hint = ""
        if bool(np.all(np.abs(std - m.sigma**2) <= 0.5 * m.sigma**2)):
            hint = " Your values look like variances: take the square root."
        elif bool(np.all(np.abs(std * math.sqrt(self.n) - m.sigma) <= 0.5 * m.sigma)):
            hint = (
                " Your values look like the standard error of the mean (std / sqrt(n)); "
                "return the spread of the samples themselves."
            )
        return failed(
            check_id,
            f"std{list(index)} = {float(std[index]):.4g}, but the network's standard deviation "
            f"under dropout is {float(m.sigma[index]):.4g}; a correct {self.n}-sample estimate "
            f"lies in [{float(low[index]):.4g}, {float(high[index]):.4g}]. {int(np.sum(bad))} "
            f"of {bad.size} values are outside that range.{hint}",
        )

    def seed_reproducible(self, check_id: str) -> CheckResult:
        """Exact (δ = 0): two new generators with the same seed give the same (mean, std)."""
        first = self._pair(check_id, "repeat_a")
        if isinstance(first, CheckResult):
            return first
        second = self._pair(check_id, "repeat_b")
        if isinstance(second, CheckResult):
            return second
        if _same(first, second):
            return passed(check_id, "Two generators with the same seed gave the same (mean, std).")
        return failed(
            check_id,
            f"Two generators created with the same seed gave different results (with "
            f"n_samples = {SMALL_SAMPLES}). Pass the rng you were given to forward: it must be "
            "the only source of randomness (np.random or an unseeded generator of your own "
            "draws differently on every call, whatever rng's seed).",
            defects=["ignores-rng"],
        )

    def seed_dependent(self, check_id: str) -> CheckResult:
        """δ ≈ 0: with different seeds, 16 passes of a network with ≥ 6 random
        hidden units coincide with probability ≤ 16!·max(p, 1-p)^(16·3·6), far below 1e-9."""
        first = self._pair(check_id, "repeat_a")
        if isinstance(first, CheckResult):
            return first
        other = self._pair(check_id, "other")
        if isinstance(other, CheckResult):
            return other
        if not _same(first, other):
            return passed(check_id, "Generators with different seeds gave different results.")
        on_rows, off = self._passes("repeat_a")
        small_rows = SMALL_SAMPLES * self.x.shape[0]
        head = "Generators with two different seeds gave exactly the same (mean, std)"
        if off and on_rows < small_rows:
            return failed(
                check_id,
                f"{head} because forward was called with training=False: without dropout the "
                "generator is never used. MC dropout samples with dropout ON.",
                ["DO-MCDROPOUT"],
            )
        if not on_rows:
            return failed(check_id, f"{head}: forward was never run with dropout on.")
        spread = not bool(np.all(self._no_spread(first[1])))
        if not spread and on_rows >= 2 * self.x.shape[0]:
            return failed(
                check_id,
                f"{head}, with every pass identical (std 0): the same mask was used on every "
                "pass, whatever the seed, e.g. from a generator created with a fixed seed for "
                "each pass. Pass the rng you were given to forward.",
                ["DO-FIXEDMASK"],
                ["ignores-rng"],
            )
        # Otherwise the masks are fresh within a call (the passes differ) or there was one
        # pass: only their sequence ignores rng (a generator of the function's own with a
        # fixed seed). A defect, not evidence of one mask for every pass.
        what = "the passes differ, but they come out" if spread else "they come out"
        return failed(
            check_id,
            f"{head}: {what} the same whatever rng's seed, so the masks are not drawn from rng "
            "(a generator created inside the function with a fixed seed, or np.random seeded "
            "with a constant, repeats one sequence of masks on every call). Pass the rng you "
            "were given to forward.",
            defects=["ignores-rng"],
        )

    def input_not_mutated(self, check_id: str) -> CheckResult:
        """Exact (δ = 0)."""
        return check_not_mutated(self.out, check_id, [("mc", 0, self.x, "x")])


def _rows(shape: Any) -> int:
    """The number of input rows in one logged forward call (all but the last dimension)."""
    if not isinstance(shape, tuple) or not shape:
        return 0
    return math.prod(max(int(n), 0) for n in shape[:-1])


def _same(a: tuple[Array, Array], b: tuple[Array, Array]) -> bool:
    return all(
        bool(np.all((u == v) | (np.isnan(u) & np.isnan(v)))) for u, v in zip(a, b, strict=True)
    )


EXERCISE = McDropout()
