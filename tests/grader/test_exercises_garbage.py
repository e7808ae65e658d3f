"""evaluate() never raises, whatever the decoded results hold, and says why a check failed.

The sandbox's results are untrusted: once decoded they are CallResults whose values can be
anything the decoder allows (Unsupported objects, floats, bools, tuples, arrays of any
allowed dtype and shape, NaN and infinity), or exceptions, in any combination.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.exercises import EXERCISES
from grader.exercises.base import DEFECTS, CheckResult
from grader.exercises.checks import GRADER_ERROR
from grader.sandbox import harness, results
from grader.sandbox.results import CallResult, Unsupported
from tests.grader.exercises_support import namespace

SLUGS = sorted(EXERCISES)


def reference_results(exercise, seed):
    plan = exercise.plan(seed)
    raw, arrays = harness.run_plan(
        namespace(exercise.reference_source), {"calls": plan.calls}, plan.arrays
    )
    return plan, results.results_decode(raw, arrays, len(plan.calls))


def readonly(array):
    array = np.array(array)
    array.flags.writeable = False  # decoded arrays are read-only views
    return array


def variants(value, gen):
    """Garbage derived from a real returned value (an array or a tuple of arrays)."""
    if isinstance(value, tuple):
        inner = [v for item in value for v in variants(item, gen)]
        return [
            (),
            value[:1],
            (*value, value[0]),
            tuple(reversed(value)),
            *[(item, item) for item in inner[:6]],
            (Unsupported("builtins.dict"), 1.0),
        ]
    if not isinstance(value, np.ndarray):
        return [value]
    shape = value.shape
    return [
        readonly(np.full(shape, np.nan)),
        readonly(np.full(shape, np.inf)),
        readonly(np.full(shape, -np.inf, dtype=np.float32)),
        readonly(np.zeros(shape)),
        readonly(-value),
        readonly(np.ones(shape, dtype=bool)),
        readonly(np.zeros(shape, dtype=np.int8)),
        readonly(np.full(shape, 2**64 - 1, dtype=np.uint64)),
        readonly(value.astype(np.float16)),
        readonly(value.reshape(-1)),
        readonly(np.zeros((0, *shape[1:]))),
        readonly(np.zeros(())),
        readonly(np.zeros((1,) * 8)),
        readonly(value.T),
        readonly(gen.standard_normal(shape) * 1e300),
    ]


SCALARS = [
    None,
    0.0,
    float("nan"),
    float("inf"),
    True,
    (),
    ((),),
    Unsupported("builtins.list"),
    Unsupported("numpy.matrix"),
    Unsupported("builtins.str"),
]


def pick(values, index):
    return values[index % len(values)]


def garbage_pool(value, gen):
    return [*SCALARS, *variants(value, gen)]


def garbage_call(reference, gen, pool):
    """A CallResult mixing a garbage value, exception, inputs and network log."""
    choice = gen.integers(0, 10)
    call = CallResult()
    if choice == 0:
        call.raised = ("ValueError", "p must be in [0, 1]")
    elif choice == 1:
        call.raised = ("SystemExit", "")
    elif choice == 2:
        call.raised = ("MissingFunction", "no function named f")
    elif choice < 6:
        call.returned = reference.returned
    else:
        call.returned = pool[gen.integers(0, len(pool))]
    if gen.random() < 0.5:
        call.inputs_after = list(reference.inputs_after)
    else:
        call.inputs_after = [pool[gen.integers(0, len(pool))] for _ in range(gen.integers(0, 3))]
    logs = [
        reference.network_calls,
        [],
        [(True, ())],
        [(False, (0,))],
        [(True, (10**12, 3))],
        [(False, (3, 4))] * 3,
        [(True, (2, 3, 4, 5))],
    ]
    call.network_calls = logs[gen.integers(0, len(logs))]
    return call


def assert_sound(exercise, verdicts):
    assert isinstance(verdicts, list)
    assert verdicts
    assert all(isinstance(v, CheckResult) for v in verdicts)
    assert len({v.id for v in verdicts}) == len(verdicts)
    for verdict in verdicts:
        assert verdict.message
        assert GRADER_ERROR not in verdict.message, verdict  # handled explicitly, not by the net
        # whatever came back, a check names only the codes it declares
        assert set(verdict.misconceptions) <= set(exercise.check_codes[verdict.id]), verdict
        assert set(verdict.defects) <= DEFECTS, verdict


@pytest.mark.parametrize("slug", SLUGS)
def test_uniform_garbage_never_raises_and_fails(slug):
    exercise = EXERCISES[slug]
    plan, reference = reference_results(exercise, 11)
    gen = np.random.default_rng(0)
    uniform = [
        [CallResult() for _ in reference],
        [CallResult(raised=("RuntimeError", "boom")) for _ in reference],
        [CallResult(raised=("ValueError", "")) for _ in reference],
        [],
        reference[:1],
    ]
    for value in SCALARS:
        uniform.append([CallResult(returned=value) for _ in reference])
    for index in range(len(variants(reference[0].returned, gen))):
        uniform.append(
            [
                CallResult(
                    returned=pick(variants(r.returned, gen), index),
                    inputs_after=variants(r.returned, gen)[:1],
                    network_calls=r.network_calls,
                )
                for r in reference
            ]
        )
    for case in uniform:
        verdicts = exercise.evaluate(plan, case)
        assert_sound(exercise, verdicts)
        assert any(not v.passed for v in verdicts)
    # an extra result (the decoder refuses a count mismatch anyway) is ignored
    assert_sound(exercise, exercise.evaluate(plan, [*reference, CallResult()]))


@pytest.mark.parametrize("slug", SLUGS)
def test_mixed_garbage_never_raises(slug):
    exercise = EXERCISES[slug]
    gen = np.random.default_rng(1)
    for seed in range(4):
        plan, reference = reference_results(exercise, seed)
        pools = [garbage_pool(r.returned, gen) for r in reference]
        for _ in range(60):
            case = [garbage_call(r, gen, pool) for r, pool in zip(reference, pools, strict=True)]
            if gen.random() < 0.1:
                case = case[: gen.integers(0, len(case))]
            assert_sound(exercise, exercise.evaluate(plan, case))


@pytest.mark.parametrize("slug", SLUGS)
def test_failed_checks_say_what_was_expected_and_what_happened(slug):
    """Every check of a crashing submission fails with the exception's type and message."""
    exercise = EXERCISES[slug]
    plan, reference = reference_results(exercise, 5)
    crashed = [
        CallResult(
            raised=("ZeroDivisionError", "float division by zero"), inputs_after=r.inputs_after
        )
        for r in reference
    ]
    verdicts = exercise.evaluate(plan, crashed)
    assert {v.id for v in verdicts if v.passed} <= {"input-not-mutated"}
    for verdict in verdicts:
        if not verdict.passed:
            assert "ZeroDivisionError: float division by zero" in verdict.message, verdict
            assert "crashes" in verdict.defects or verdict.id == "invalid-p", verdict
