"""The exercises: registry, reference solutions, and typical wrong solutions.

Every wrong solution below is trusted test code written here; each must fail with the
misconception code or defect tag its mistake reveals (in the union of the failed checks'
codes and tags), or with the named check when the mistake has no catalog code.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.exercises import EXERCISES, exercise_get
from grader.exercises.base import DEFECTS
from tests.grader.exercises_support import _run, failed_tags, failures, namespace, report

SLUGS = ["dropout-forward", "dropout-backward", "dropout-classic", "mc-dropout", "spatial-dropout"]
CODES = {
    "DO-SPEED", "DO-DATA", "DO-TEST", "DO-NOSCALE", "DO-PKEEP", "DO-FIXEDMASK", "DO-PERMANENT",
    "DO-TARGETED", "DO-ENSEMBLE", "DO-WEIGHTS", "DO-MORE", "DO-GRADIENT", "DO-ILLUSION",
}  # fmt: skip
SEEDS = (101, 202)  # every wrong solution is graded on two different hidden-input draws


# --------------------------------------------------------------------------- registry


def test_the_registry_holds_the_five_slugs():
    assert sorted(EXERCISES) == sorted(SLUGS)
    for slug in SLUGS:
        assert exercise_get(slug) is EXERCISES[slug]
        assert EXERCISES[slug].slug == slug


def test_an_unknown_slug_raises_key_error_listing_the_valid_ones():
    with pytest.raises(KeyError) as error:
        exercise_get("dropout-backwards")
    message = str(error.value)
    assert "dropout-backwards" in message
    assert all(slug in message for slug in SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_exercise_describes_itself(slug):
    exercise = EXERCISES[slug]
    assert exercise.title
    assert "DROPPING" in exercise.statement  # the convention: p is the drop probability
    assert exercise.hints
    assert all(isinstance(hint, str) and hint for hint in exercise.hints)
    assert "import numpy as np" in exercise.reference_source
    for name in exercise.functions:
        assert f"def {name}(" in exercise.signature
        assert callable(namespace(exercise.reference_source)[name])
        assert callable(namespace(exercise.starter_code)[name])
    assert "NotImplementedError" in exercise.starter_code


@pytest.mark.parametrize("slug", SLUGS)
def test_the_plan_is_json_and_drawn_from_the_seed(slug):
    exercise = EXERCISES[slug]
    first, again, other = exercise.plan(7), exercise.plan(7), exercise.plan(8)
    json.dumps({"calls": first.calls})  # what the sandbox receives
    assert first.calls == again.calls
    assert all(np.array_equal(a, b) for a, b in zip(first.arrays, again.arrays, strict=True))
    assert first.calls != other.calls or not all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(first.arrays, other.arrays, strict=False)
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_the_reference_solution_passes_every_check(slug):
    exercise = EXERCISES[slug]
    for seed in SEEDS:
        verdicts = _run(exercise, exercise.reference_source, seed)
        assert verdicts, "no checks ran"
        assert not failures(verdicts), report(verdicts)
        assert len({v.id for v in verdicts}) == len(verdicts), "check ids must be unique"
        assert all(v.message for v in verdicts)


@pytest.mark.parametrize("slug", SLUGS)
def test_a_submission_without_the_function_fails_every_check(slug):
    verdicts = _run(EXERCISES[slug], "import numpy as np\n\ndef unrelated():\n    pass\n", 1)
    failed = failures(verdicts)
    assert {v.id for v in verdicts} - {v.id for v in failed} <= {"input-not-mutated"}
    assert all("no function named" in v.message for v in failed), report(verdicts)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_starter_code_fails_as_a_crash(slug):
    exercise = EXERCISES[slug]
    verdicts = _run(exercise, exercise.starter_code, 1)
    assert "crashes" in failed_tags(verdicts)
    assert any("NotImplementedError" in v.message for v in failures(verdicts))


# --------------------------------------------------------------------------- wrong solutions
# Each entry: name -> (source, expected), expected a code/tag or "check:<id>" when the
# mistake has no catalog code and must fail that check.

FORWARD_OK = """
import numpy as np

def dropout_forward(x, p, training, rng):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p")
    x = np.asarray(x)
    if not training or p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = KEEP
    return np.where(keep, SCALED, 0).astype(x.dtype, copy=False)
"""


def forward(keep="rng.random(x.shape) >= p", scaled="x / (1.0 - p)"):
    return FORWARD_OK.replace("KEEP", keep).replace("SCALED", scaled)


WRONG_FORWARD = {
    "no scaling": (forward(scaled="x"), "DO-NOSCALE"),
    "scales by 1/p": (forward(scaled="x / p"), "DO-PKEEP"),
    "multiplies by 1-p": (forward(scaled="x * (1.0 - p)"), "DO-NOSCALE"),
    "drops with probability 1-p": (forward(keep="rng.random(x.shape) < p"), "DO-PKEEP"),
    "masks at training=False": (
        """
        import numpy as np
        def dropout_forward(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if p == 1.0:
                return np.zeros_like(x)
            return np.where(rng.random(x.shape) >= p, x / (1.0 - p), 0).astype(x.dtype)
        """,
        "DO-TEST",
    ),
    "classic scaling at inference": (
        forward().replace("if not training or p == 0.0:", "if not training:\n        "
                          "return (x * (1.0 - p)).astype(x.dtype)\n    if p == 0.0:"),
        "DO-NOSCALE",
    ),
    "one fixed mask": (
        forward(keep="np.random.default_rng(0).random(x.shape) >= p"), "DO-FIXEDMASK"
    ),
    "re-seeded from a constant each call": (
        forward(keep="np.random.default_rng(1234).random(x.shape) >= p"), "ignores-rng"
    ),
    "uses np.random": (forward(keep="np.random.rand(*x.shape) >= p"), "ignores-rng"),
    "mutates x": (
        """
        import numpy as np
        def dropout_forward(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if not training:
                return x
            if p == 1.0:
                x[...] = 0
                return x
            x *= rng.random(x.shape) >= p
            x /= 1.0 - p
            return x
        """,
        "mutates-input",
    ),
    "float64 output": (
        forward(scaled="x.astype(np.float64) / (1.0 - p)").replace(
            ".astype(x.dtype, copy=False)", ""
        ),
        "wrong-dtype",
    ),
    "NaN at p = 1": (
        """
        import numpy as np
        def dropout_forward(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if not training:
                return x.copy()
            return x * (rng.random(x.shape) >= p) / np.float64(1.0 - p)
        """,
        "nan-at-p1",
    ),
    "ZeroDivisionError at p = 1": (
        """
        import numpy as np
        def dropout_forward(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if not training:
                return x.copy()
            scale = 1.0 / (1.0 - p)
            return np.where(rng.random(x.shape) >= p, x * scale, 0).astype(x.dtype)
        """,
        "nan-at-p1",
    ),
    "accepts invalid p": (
        forward().replace('raise ValueError("p")', "pass"), "accepts-invalid-p"
    ),
    "drops whole rows": (
        forward(keep="rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= p"),
        "check:independent-elements",
    ),
    "same units for every row": (forward(keep="rng.random(x.shape[-1:]) >= p"), "DO-FIXEDMASK"),
    "returns a list": (forward().replace(".astype(x.dtype, copy=False)", ".tolist()"),
                       "wrong-return-type"),
    "returns a flat array": (forward().replace(".astype(x.dtype, copy=False)", ".ravel()"),
                             "wrong-shape"),
    "crashes": (forward().replace("keep = ", "keep = undefined_name + "), "crashes"),
}  # fmt: skip

BACKWARD_OK = """
import numpy as np

def dropout_backward(dout, keep_mask, p):
    if p == 1.0:
        return np.zeros_like(dout)
    return RESULT
"""


def backward(result):
    return BACKWARD_OK.replace("RESULT", result)


WRONG_BACKWARD = {
    "returns dout unchanged": (backward("dout.copy()"), "DO-GRADIENT"),
    "ignores the mask": (backward("dout / (1.0 - p)"), "DO-GRADIENT"),
    "draws a new mask": (
        backward("dout * (np.random.rand(*dout.shape) >= p) / (1.0 - p)"), "DO-GRADIENT"
    ),
    "mask but no scaling": (backward("dout * keep_mask"), "DO-NOSCALE"),
    "scales by 1/p": (backward("dout * keep_mask / p"), "DO-PKEEP"),
    "inverted mask": (backward("dout * ~keep_mask / (1.0 - p)"), "DO-PKEEP"),
    "mutates dout": (
        """
        import numpy as np
        def dropout_backward(dout, keep_mask, p):
            dout[~keep_mask] = 0
            if p < 1.0:
                dout /= 1.0 - p
            return dout
        """,
        "mutates-input",
    ),
    "float64 output": (backward("dout * keep_mask.astype(np.float64) / (1.0 - p)"), "wrong-dtype"),
    "NaN at p = 1": (
        "import numpy as np\n"
        "def dropout_backward(dout, keep_mask, p):\n"
        "    return dout * keep_mask / np.float64(1.0 - p)\n",
        "nan-at-p1",
    ),
    "returns a list": (backward("(dout * keep_mask / (1.0 - p)).tolist()"), "wrong-return-type"),
    "returns a flat array": (backward("(dout * keep_mask / (1.0 - p)).ravel()"), "wrong-shape"),
    "crashes": (backward("dout @ keep_mask"), "crashes"),
}  # fmt: skip

CLASSIC_OK = """
import numpy as np

def dropout_classic_train(x, p, rng):
    keep = KEEP
    return TRAIN

def dropout_classic_infer(x, p):
    return INFER
"""


def classic(
    keep="rng.random(x.shape) >= p",
    train="np.where(keep, x, 0).astype(x.dtype)",
    infer="(x * (1.0 - p)).astype(x.dtype)",
):
    return CLASSIC_OK.replace("KEEP", keep).replace("TRAIN", train).replace("INFER", infer)


WRONG_CLASSIC = {
    "inverted scaling in training": (
        classic(train="np.where(keep, x / (1.0 - p), 0).astype(x.dtype)"),
        "check:train-kept-unscaled",
    ),
    "scales by 1/p in training": (
        classic(train="np.where(keep, x / p, 0).astype(x.dtype)"), "DO-PKEEP"
    ),
    "drops with probability 1-p": (classic(keep="rng.random(x.shape) < p"), "DO-PKEEP"),
    "inference returns x": (classic(infer="x.copy()"), "DO-NOSCALE"),
    "inference multiplies by p": (classic(infer="(x * p).astype(x.dtype)"), "DO-PKEEP"),
    "inference drops units": (
        classic(infer="np.where(np.random.rand(*x.shape) >= p, x, 0).astype(x.dtype)"),
        "DO-TEST",
    ),
    "one fixed mask": (classic(keep="np.random.default_rng(0).random(x.shape) >= p"),
                       "DO-FIXEDMASK"),
    "uses np.random": (classic(keep="np.random.rand(*x.shape) >= p"), "ignores-rng"),
    "mutates x": (classic(train="x.__imul__(keep)"), "mutates-input"),
    "float64 output": (classic(infer="x * np.float64(1.0 - p) * np.ones(1)"), "wrong-dtype"),
    "returns a list": (classic(train="np.where(keep, x, 0).tolist()"), "wrong-return-type"),
    "returns a flat array": (classic(infer="(x * (1.0 - p)).ravel()"), "wrong-shape"),
    "crashes": (classic(infer="x.no_such_method()"), "crashes"),
}  # fmt: skip

MC_OK = """
import numpy as np

def mc_predict(forward, x, n_samples, rng):
    samples = np.stack([np.asarray(forward(x, TRAINING, RNG)) for _ in range(COUNT)])
    return RESULT
"""


def mc(training="True", rng="rng", count="n_samples", result="samples.mean(0), samples.std(0)"):
    return (
        MC_OK.replace("TRAINING", training)
        .replace("RNG", rng)
        .replace("COUNT", count)
        .replace("RESULT", result)
    )


WRONG_MC = {
    "dropout off at test time": (mc(training="False"), "DO-TEST"),
    "own unseeded generator": (mc(rng="np.random.default_rng()"), "ignores-rng"),
    "generator re-seeded for every sample": (mc(rng="np.random.default_rng(0)"), "DO-FIXEDMASK"),
    "returns the variance": (mc(result="samples.mean(0), samples.var(0)"), "check:std"),
    "returns the standard error": (
        mc(result="samples.mean(0), samples.std(0) / np.sqrt(n_samples)"), "check:std"
    ),
    "returns (std, mean)": (mc(result="samples.std(0), samples.mean(0)"), "check:mean"),
    "one sample too few": (mc(count="n_samples - 1"), "check:forward-calls"),
    "returns three arrays": (
        mc(result="samples.mean(0), samples.std(0), samples"), "wrong-return-type"
    ),
    "returns a dict": (
        mc(result="{'mean': samples.mean(0), 'std': samples.std(0)}"), "wrong-return-type"
    ),
    "returns the samples": (mc(result="samples"), "wrong-return-type"),
    "averages over the wrong axis": (mc(result="samples.mean(1), samples.std(1)"), "wrong-shape"),
    "mutates x": (
        """
        import numpy as np
        def mc_predict(forward, x, n_samples, rng):
            x *= 2.0
            samples = np.stack([forward(x / 2.0, True, rng) for _ in range(n_samples)])
            return samples.mean(0), samples.std(0)
        """,
        "mutates-input",
    ),
    "crashes": (mc(result="samples.mean(0), samples.std(0), samples[99999]"), "crashes"),
}  # fmt: skip

SPATIAL_OK = """
import numpy as np

def spatial_dropout(x, p, training, rng):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p")
    x = np.asarray(x)
    if not training or p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = KEEP
    return np.where(keep, SCALED, 0).astype(x.dtype, copy=False)
"""


def spatial(keep="rng.random((x.shape[0], x.shape[1], 1, 1)) >= p", scaled="x / (1.0 - p)"):
    return SPATIAL_OK.replace("KEEP", keep).replace("SCALED", scaled)


WRONG_SPATIAL = {
    "drops pixels": (spatial(keep="rng.random(x.shape) >= p"), "check:whole-channels"),
    "same channels for every example": (
        spatial(keep="rng.random((1, x.shape[1], 1, 1)) >= p"), "DO-FIXEDMASK"
    ),
    "drops whole examples": (
        spatial(keep="rng.random((x.shape[0], 1, 1, 1)) >= p"), "check:independent-examples"
    ),
    "no scaling": (spatial(scaled="x"), "DO-NOSCALE"),
    "scales by 1/p": (spatial(scaled="x / p"), "DO-PKEEP"),
    "drops with probability 1-p": (
        spatial(keep="rng.random((x.shape[0], x.shape[1], 1, 1)) < p"), "DO-PKEEP"
    ),
    "masks at training=False": (
        spatial().replace("if not training or p == 0.0:", "if p == 0.0:"), "DO-TEST"
    ),
    "one fixed mask": (
        spatial(keep="np.random.default_rng(0).random((x.shape[0], x.shape[1], 1, 1)) >= p"),
        "DO-FIXEDMASK",
    ),
    "uses np.random": (
        spatial(keep="np.random.rand(x.shape[0], x.shape[1], 1, 1) >= p"), "ignores-rng"
    ),
    "mutates x": (
        spatial().replace(
            "return np.where(keep, x / (1.0 - p), 0).astype(x.dtype, copy=False)",
            "x *= keep\n    x /= 1.0 - p\n    return x",
        ),
        "mutates-input",
    ),
    "float64 output": (
        spatial(scaled="x.astype(np.float64) / (1.0 - p)").replace(
            ".astype(x.dtype, copy=False)", ""
        ),
        "wrong-dtype",
    ),
    "NaN at p = 1": (
        """
        import numpy as np
        def spatial_dropout(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if not training:
                return x.copy()
            keep = rng.random((x.shape[0], x.shape[1], 1, 1)) >= p
            return (x * keep / (1.0 - p)).astype(x.dtype)
        """,
        "nan-at-p1",
    ),
    "accepts invalid p": (spatial().replace('raise ValueError("p")', "pass"), "accepts-invalid-p"),
    "returns a list": (spatial().replace(".astype(x.dtype, copy=False)", ".tolist()"),
                       "wrong-return-type"),
    "returns (N, C) channel values": (
        spatial().replace(".astype(x.dtype, copy=False)", ".sum(axis=(2, 3))"), "wrong-shape"
    ),
    "crashes": (spatial(keep="rng.random(x.shape[4]) >= p"), "crashes"),
}  # fmt: skip

WRONG = {
    "dropout-forward": WRONG_FORWARD,
    "dropout-backward": WRONG_BACKWARD,
    "dropout-classic": WRONG_CLASSIC,
    "mc-dropout": WRONG_MC,
    "spatial-dropout": WRONG_SPATIAL,
}
CASES = [
    pytest.param(slug, name, source, expected, id=f"{slug}: {name}")
    for slug, cases in WRONG.items()
    for name, (source, expected) in cases.items()
]


@pytest.mark.parametrize(("slug", "name", "source", "expected"), CASES)
def test_a_wrong_solution_fails_with_what_it_reveals(slug, name, source, expected):
    exercise = EXERCISES[slug]
    for seed in SEEDS:
        verdicts = _run(exercise, source, seed)
        failed = failures(verdicts)
        assert failed, f"{name} passed every check:\n{report(verdicts)}"
        if expected != "crashes" and "ZeroDivisionError" not in name:
            assert "crashes" not in failed_tags(verdicts), report(verdicts)
        if expected.startswith("check:"):
            assert expected[len("check:") :] in {v.id for v in failed}, report(verdicts)
        else:
            assert expected in failed_tags(verdicts), report(verdicts)
        for verdict in failed:
            assert verdict.message
            assert set(verdict.misconceptions) <= CODES
            assert set(verdict.defects) <= DEFECTS


@pytest.mark.parametrize(
    ("slug", "expected_codes"),
    [
        ("dropout-forward", {"DO-TEST", "DO-NOSCALE", "DO-PKEEP", "DO-FIXEDMASK"}),
        ("dropout-backward", {"DO-GRADIENT", "DO-NOSCALE", "DO-PKEEP"}),
        ("dropout-classic", {"DO-TEST", "DO-NOSCALE", "DO-PKEEP", "DO-FIXEDMASK"}),
        ("mc-dropout", {"DO-TEST", "DO-FIXEDMASK"}),
        ("spatial-dropout", {"DO-TEST", "DO-NOSCALE", "DO-PKEEP", "DO-FIXEDMASK"}),
    ],
)
def test_the_wrong_solutions_cover_every_code_and_defect_the_exercise_reveals(slug, expected_codes):
    covered = {expected for _, expected in WRONG[slug].values()}
    defects = {"wrong-return-type", "wrong-shape", "crashes", "mutates-input"}
    if slug != "mc-dropout":
        defects.add("wrong-dtype")
    if slug in ("dropout-forward", "spatial-dropout"):
        defects |= {"nan-at-p1", "accepts-invalid-p", "ignores-rng"}
    if slug in ("dropout-classic", "mc-dropout"):
        defects.add("ignores-rng")
    if slug == "dropout-backward":
        defects.add("nan-at-p1")
    assert expected_codes | defects <= covered


def test_a_python_loop_is_slow_but_passes():
    """The large-input call makes a per-element loop ~100x slower (≈ 0.4 s), within limits."""
    source = """
    import numpy as np
    def dropout_forward(x, p, training, rng):
        if not 0.0 <= p <= 1.0:
            raise ValueError("p")
        out = np.array(x, copy=True)
        if not training:
            return out
        flat = out.reshape(-1)
        for i in range(flat.size):
            if rng.random() < p:
                flat[i] = 0.0
            else:
                flat[i] = flat[i] / (1.0 - p)
        return out
    """
    verdicts = _run(EXERCISES["dropout-forward"], source, 5)
    assert not failures(verdicts), report(verdicts)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            mc(count="1", rng="rng")
            .replace(
                "np.asarray(forward(x, True, rng)) for _ in range(1)",
                "np.asarray(forward(np.tile(x, (n_samples, 1)), True, rng)) for _ in range(1)",
            )
            .replace(
                "return samples.mean(0), samples.std(0)",
                "s = samples.reshape(n_samples, x.shape[0], -1)\n"
                "    return s.mean(0), s.std(0, ddof=1)",
            ),
            id="one stacked call, ddof=1",
        ),
        pytest.param(
            """
            import numpy as np
            def mc_predict(forward, x, n_samples, rng):
                total = 0.0
                total_sq = 0.0
                for _ in range(n_samples):
                    y = forward(x, True, rng)
                    total = total + y
                    total_sq = total_sq + y * y
                mean = total / n_samples
                return mean, np.sqrt(total_sq / n_samples - mean * mean)
            """,
            id="running sums",
        ),
    ],
)
def test_other_correct_mc_dropout_solutions_pass(source):
    verdicts = _run(EXERCISES["mc-dropout"], source, 9)
    assert not failures(verdicts), report(verdicts)
