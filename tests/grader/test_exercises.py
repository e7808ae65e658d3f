"""The exercises: registry, reference solutions, and typical wrong solutions.

Every wrong solution below is trusted test code written here; each must fail with the
misconception code(s) or defect tag its mistake reveals (in the union of the failed checks'
codes and tags), or with the named check when the mistake has no catalog code; a failing
check names only codes that its exercise declares for it (Exercise.check_codes), and every
declared (check, code) pair is named by at least one wrong solution.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from grader.exercises import EXERCISES, exercise_get, misconception_checks
from grader.exercises.base import DEFECTS, CheckResult
from tests.grader.exercises_support import _run, failed_tags, failures, namespace, report

SLUGS = ["dropout-forward", "dropout-backward", "dropout-classic", "mc-dropout", "spatial-dropout"]
CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "misconceptions.json"
CODES = {
    entry["code"]
    for entry in json.loads(CATALOGUE.read_text(encoding="utf-8"))
    if entry["kind"] == "misconception"
}
SEEDS = (101, 202)  # every wrong solution is graded on two different hidden-input draws


# --------------------------------------------------------------------------- declarations


@pytest.mark.parametrize("slug", SLUGS)
def test_every_declared_code_is_a_misconception_of_the_catalogue(slug):
    declared = {code for codes in EXERCISES[slug].check_codes.values() for code in codes}
    assert declared, "an exercise that names no misconception diagnoses nothing"
    assert declared <= CODES, declared - CODES


@pytest.mark.parametrize("slug", SLUGS)
def test_the_declaration_lists_every_check_in_the_order_they_run(slug):
    exercise = EXERCISES[slug]
    verdicts = _run(exercise, exercise.reference_source, SEEDS[0])
    assert [v.id for v in verdicts] == list(exercise.check_codes)
    for codes in exercise.check_codes.values():
        assert isinstance(codes, tuple)
        assert len(set(codes)) == len(codes)


def test_misconception_checks_turns_the_declarations_round():
    checks = misconception_checks()
    assert checks["DO-MCDROPOUT"] == [
        ("mc-dropout", "forward-calls"),
        ("mc-dropout", "std-positive"),
        ("mc-dropout", "seed-dependent"),
    ]
    assert ("dropout-backward", "kept-scaled") in checks["DO-SCHEME"]
    assert ("dropout-classic", "train-kept-unscaled") in checks["DO-SCHEME"]
    assert all(slug != "mc-dropout" for slug, _ in checks["DO-TEST"])
    pairs = {(slug, check) for found in checks.values() for slug, check in found}
    assert pairs == {
        (slug, check)
        for slug, exercise in EXERCISES.items()
        for check, codes in exercise.check_codes.items()
        if codes
    }


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
# mistake has no catalog code and must fail that check, or a tuple of them (all expected).
Wrong = dict[str, tuple[str, str | tuple[str, ...]]]

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


def forward(keep="rng.random(x.shape) >= p", scaled="x / (1.0 - p)", infer=None):
    source = FORWARD_OK.replace("KEEP", keep).replace("SCALED", scaled)
    if infer is not None:  # what training=False returns instead of x
        source = source.replace(
            "if not training or p == 0.0:",
            f"if not training:\n        return ({infer}).astype(x.dtype)\n    if p == 0.0:",
        )
    return source


FORWARD_P_KEEP = """
import numpy as np

def dropout_forward(x, p, training, rng):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p")
    if not training:
        return x.copy()
    keep = rng.random(x.shape) < p
    return np.where(keep, x / p, 0).astype(x.dtype)
"""


WRONG_FORWARD: Wrong = {
    "no scaling": (forward(scaled="x"), "DO-NOSCALE"),
    "scales by 1/p": (forward(scaled="x / p"), "DO-PKEEP"),
    "multiplies by 1-p": (forward(scaled="x * (1.0 - p)"), "DO-SCHEME"),
    "multiplies by p": (forward(scaled="x * p"), ("DO-SCHEME", "DO-PKEEP")),
    "p read as the keep probability throughout": (FORWARD_P_KEEP, "DO-PKEEP"),
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
    "classic scaling at inference": (forward(infer="x * (1.0 - p)"), "DO-SCHEME"),
    "divides by 1-p at inference": (forward(infer="x / (1.0 - p)"), "DO-SCHEME"),
    "multiplies by p at inference": (forward(infer="x * p"), ("DO-SCHEME", "DO-PKEEP")),
    "drops the smallest values": (forward(keep="x > np.quantile(x, p)"), "DO-TARGETED"),
    "own unseeded generator": (
        forward(keep="np.random.default_rng().random(x.shape) >= p"), "ignores-rng"
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


WRONG_BACKWARD: Wrong = {
    "returns dout unchanged": (backward("dout.copy()"), "DO-GRADIENT"),
    "ignores the mask": (backward("dout / (1.0 - p)"), "DO-GRADIENT"),
    "draws a new mask": (
        backward("dout * (np.random.rand(*dout.shape) >= p) / (1.0 - p)"), "DO-GRADIENT"
    ),
    "mask but no scaling": (backward("dout * keep_mask"), "DO-NOSCALE"),
    "scales by 1/p": (backward("dout * keep_mask / p"), "DO-PKEEP"),
    "multiplies by 1-p": (backward("dout * keep_mask * (1.0 - p)"), "DO-SCHEME"),
    "multiplies by p": (backward("dout * keep_mask * p"), ("DO-SCHEME", "DO-PKEEP")),
    "ignores the mask, scales by 1/p": (backward("dout / p"), ("DO-GRADIENT", "DO-PKEEP")),
    "inverted mask": (backward("dout * ~keep_mask / (1.0 - p)"), "mask-inverted"),
    "inverted mask, unscaled, no case for p = 1": (
        "import numpy as np\n"
        "def dropout_backward(dout, keep_mask, p):\n"
        "    return dout * ~keep_mask\n",
        ("mask-inverted", "DO-NOSCALE"),
    ),
    "returns dout, even at p = 1": (
        "import numpy as np\n"
        "def dropout_backward(dout, keep_mask, p):\n"
        "    return dout.copy()\n",
        "DO-GRADIENT",
    ),
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


WRONG_CLASSIC: Wrong = {
    "scales in training and at inference": (
        classic(train="np.where(keep, x / (1.0 - p), 0).astype(x.dtype)"), "DO-SCHEME"
    ),
    "inverted dropout instead of classic": (
        classic(train="np.where(keep, x / (1.0 - p), 0).astype(x.dtype)", infer="x.copy()"),
        "DO-SCHEME",
    ),
    "scales by 1/p in training": (
        classic(train="np.where(keep, x / p, 0).astype(x.dtype)"), ("DO-SCHEME", "DO-PKEEP")
    ),
    "multiplies by 1-p in training": (
        classic(train="np.where(keep, x * (1.0 - p), 0).astype(x.dtype)"), "DO-SCHEME"
    ),
    "inference divides by 1-p": (classic(infer="(x / (1.0 - p)).astype(x.dtype)"), "DO-SCHEME"),
    "inference divides by p": (
        classic(infer="(x / p).astype(x.dtype)"), ("DO-SCHEME", "DO-PKEEP")
    ),
    "drops the smallest values": (classic(keep="x > np.quantile(x, p)"), "DO-TARGETED"),
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


WRONG_MC: Wrong = {
    "dropout off at test time": (mc(training="False"), "DO-MCDROPOUT"),
    "own unseeded generator": (mc(rng="np.random.default_rng()"), "ignores-rng"),
    "generator re-seeded for every sample": (mc(rng="np.random.default_rng(0)"), "DO-FIXEDMASK"),
    "own generator with a fixed seed": (
        mc(rng="own").replace("    samples =", "    own = np.random.default_rng(0)\n    samples ="),
        "ignores-rng",
    ),
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


def spatial(
    keep="rng.random((x.shape[0], x.shape[1], 1, 1)) >= p", scaled="x / (1.0 - p)", infer=None
):
    source = SPATIAL_OK.replace("KEEP", keep).replace("SCALED", scaled)
    if infer is not None:  # what training=False returns instead of x
        source = source.replace(
            "if not training or p == 0.0:",
            f"if not training:\n        return ({infer}).astype(x.dtype)\n    if p == 0.0:",
        )
    return source


WRONG_SPATIAL: Wrong = {
    "drops pixels": (spatial(keep="rng.random(x.shape) >= p"), "check:whole-channels"),
    "same channels for every example": (
        spatial(keep="rng.random((1, x.shape[1], 1, 1)) >= p"), "DO-FIXEDMASK"
    ),
    "drops whole examples": (
        spatial(keep="rng.random((x.shape[0], 1, 1, 1)) >= p"), "check:independent-examples"
    ),
    "no scaling": (spatial(scaled="x"), "DO-NOSCALE"),
    "scales by 1/p": (spatial(scaled="x / p"), "DO-PKEEP"),
    "multiplies by 1-p": (spatial(scaled="x * (1.0 - p)"), "DO-SCHEME"),
    "classic scaling at inference": (spatial(infer="x * (1.0 - p)"), "DO-SCHEME"),
    "divides by p at inference": (spatial(infer="x / p"), ("DO-SCHEME", "DO-PKEEP")),
    "p read as the keep probability throughout": (
        """
        import numpy as np
        def spatial_dropout(x, p, training, rng):
            if not 0.0 <= p <= 1.0:
                raise ValueError("p")
            if not training:
                return x.copy()
            keep = rng.random((x.shape[0], x.shape[1], 1, 1)) < p
            return np.where(keep, x / p, 0).astype(x.dtype)
        """,
        "DO-PKEEP",
    ),
    "drops the weakest channels": (
        spatial(
            keep="np.abs(x).mean(axis=(2, 3), keepdims=True) > "
            "np.quantile(np.abs(x).mean(axis=(2, 3)), p)"
        ),
        "DO-TARGETED",
    ),
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

WRONG: dict[str, Wrong] = {
    "dropout-forward": WRONG_FORWARD,
    "dropout-backward": WRONG_BACKWARD,
    "dropout-classic": WRONG_CLASSIC,
    "mc-dropout": WRONG_MC,
    "spatial-dropout": WRONG_SPATIAL,
}
CASES = [
    pytest.param(slug, name, id=f"{slug}: {name}")
    for slug, cases in WRONG.items()
    for name in cases
]


def expected_tags(expected: str | tuple[str, ...]) -> tuple[str, ...]:
    return (expected,) if isinstance(expected, str) else expected


@functools.cache
def graded(slug: str, name: str, seed: int) -> tuple[CheckResult, ...]:
    """The verdicts of one wrong solution on one seed (shared by the tests below)."""
    return tuple(_run(EXERCISES[slug], WRONG[slug][name][0], seed))


@pytest.mark.parametrize(("slug", "name"), CASES)
def test_a_wrong_solution_fails_with_what_it_reveals(slug, name):
    exercise = EXERCISES[slug]
    for seed in SEEDS:
        verdicts = list(graded(slug, name, seed))
        failed = failures(verdicts)
        assert failed, f"{name} passed every check:\n{report(verdicts)}"
        tags = expected_tags(WRONG[slug][name][1])
        if "crashes" not in tags and "ZeroDivisionError" not in name:
            assert "crashes" not in failed_tags(verdicts), report(verdicts)
        for tag in tags:
            if tag.startswith("check:"):
                assert tag[len("check:") :] in {v.id for v in failed}, report(verdicts)
            else:
                assert tag in failed_tags(verdicts), report(verdicts)
        for verdict in failed:
            assert verdict.message
            # only the codes its check declares, all of them in the catalogue
            assert set(verdict.misconceptions) <= set(exercise.check_codes[verdict.id]), verdict
            assert set(verdict.misconceptions) <= CODES
            assert set(verdict.defects) <= DEFECTS


@pytest.mark.parametrize("slug", SLUGS)
def test_every_declared_code_of_every_check_is_named_by_a_wrong_solution(slug):
    """The declaration is not wider than what the checks do: a coverage table built from it
    lists only (check, code) pairs that a typical mistake really produces."""
    named = {
        (verdict.id, code)
        for name in WRONG[slug]
        for seed in SEEDS
        for verdict in failures(list(graded(slug, name, seed)))
        for code in verdict.misconceptions
    }
    declared = {
        (check, code) for check, codes in EXERCISES[slug].check_codes.items() for code in codes
    }
    assert declared - named == set(), "declared but never named"
    assert named <= declared


# The retaggings of the tagging rule ("a correct action is never evidence of a misconception,
# and a scaling error is DO-NOSCALE only when no scaling was applied"): each wrong solution
# names `present` in check `check` and none of `absent` in any check.
RETAGGED = [
    ("mc-dropout", "dropout off at test time", "forward-calls", {"DO-MCDROPOUT"}, {"DO-TEST"}),
    ("mc-dropout", "dropout off at test time", "std-positive", {"DO-MCDROPOUT"}, {"DO-TEST"}),
    ("mc-dropout", "dropout off at test time", "seed-dependent", {"DO-MCDROPOUT"}, {"DO-TEST"}),
    ("mc-dropout", "own generator with a fixed seed", "seed-dependent", {"ignores-rng"},
     {"DO-FIXEDMASK"}),
    ("mc-dropout", "generator re-seeded for every sample", "std-positive", {"DO-FIXEDMASK"},
     {"DO-TEST", "DO-MCDROPOUT"}),
    ("dropout-forward", "classic scaling at inference", "eval-identity", {"DO-SCHEME"},
     {"DO-NOSCALE", "DO-TEST"}),
    ("dropout-forward", "divides by 1-p at inference", "eval-identity", {"DO-SCHEME"},
     {"DO-NOSCALE", "DO-TEST"}),
    ("dropout-forward", "multiplies by p at inference", "eval-identity",
     {"DO-SCHEME", "DO-PKEEP"}, {"DO-NOSCALE", "DO-TEST"}),
    ("dropout-forward", "multiplies by 1-p", "kept-scaled", {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("dropout-forward", "multiplies by 1-p", "mean-preserved", {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("dropout-forward", "multiplies by p", "kept-scaled", {"DO-SCHEME", "DO-PKEEP"},
     {"DO-NOSCALE"}),
    ("dropout-forward", "own unseeded generator", "seed-reproducible", {"ignores-rng"},
     {"DO-FIXEDMASK"}),
    ("dropout-forward", "one fixed mask", "seed-dependent", {"DO-FIXEDMASK", "ignores-rng"},
     set()),
    ("dropout-forward", "drops the smallest values", "seed-dependent", {"DO-TARGETED"},
     {"DO-FIXEDMASK"}),
    ("dropout-forward", "drops the smallest values", "fresh-mask", {"DO-TARGETED"},
     {"DO-FIXEDMASK"}),
    ("spatial-dropout", "classic scaling at inference", "eval-identity", {"DO-SCHEME"},
     {"DO-NOSCALE", "DO-TEST"}),
    ("spatial-dropout", "multiplies by 1-p", "kept-scaled", {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("spatial-dropout", "drops the weakest channels", "fresh-mask", {"DO-TARGETED"},
     {"DO-FIXEDMASK"}),
    ("dropout-backward", "inverted mask", "dropped-get-zero", {"mask-inverted"},
     {"DO-PKEEP", "DO-GRADIENT"}),
    ("dropout-backward", "inverted mask", "kept-scaled", {"mask-inverted"}, {"DO-PKEEP"}),
    ("dropout-backward", "inverted mask, unscaled, no case for p = 1", "p-one",
     {"mask-inverted"}, {"DO-PKEEP", "DO-GRADIENT"}),
    ("dropout-backward", "multiplies by 1-p", "kept-scaled", {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("dropout-classic", "scales in training and at inference", "train-kept-unscaled",
     {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("dropout-classic", "inverted dropout instead of classic", "infer-scaled", {"DO-SCHEME"},
     {"DO-NOSCALE"}),
    ("dropout-classic", "inverted dropout instead of classic", "train-kept-unscaled",
     {"DO-SCHEME"}, {"DO-NOSCALE"}),
    ("dropout-classic", "multiplies by 1-p in training", "train-kept-unscaled", {"DO-SCHEME"},
     {"DO-NOSCALE"}),
    ("dropout-classic", "inference divides by 1-p", "infer-scaled", {"DO-SCHEME"},
     {"DO-NOSCALE", "DO-TEST"}),
    ("dropout-classic", "inference returns x", "infer-scaled", {"DO-NOSCALE"}, {"DO-SCHEME"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("slug", "name", "check", "present", "absent"),
    RETAGGED,
    ids=[f"{slug}: {name}: {check}" for slug, name, check, *_ in RETAGGED],
)
def test_a_mistake_names_the_belief_that_writes_it_and_no_other(slug, name, check, present, absent):
    for seed in SEEDS:
        verdicts = list(graded(slug, name, seed))
        [verdict] = [v for v in verdicts if v.id == check]
        assert not verdict.passed, report(verdicts)
        assert present <= {*verdict.misconceptions, *verdict.defects}, report(verdicts)
        assert not absent & failed_tags(verdicts), report(verdicts)


def test_a_classic_layer_that_scales_twice_is_told_so():
    verdicts = list(graded("dropout-classic", "scales in training and at inference", SEEDS[0]))
    [train] = [v for v in verdicts if v.id == "train-kept-unscaled"]
    [infer] = [v for v in verdicts if v.id == "infer-scaled"]
    assert infer.passed  # x * (1-p) at inference is right in itself
    assert "applied twice" in train.message


@pytest.mark.parametrize("slug", SLUGS)
def test_the_wrong_solutions_cover_every_code_and_defect_the_exercise_reveals(slug):
    covered = {tag for _, expected in WRONG[slug].values() for tag in expected_tags(expected)}
    declared = {code for codes in EXERCISES[slug].check_codes.values() for code in codes}
    defects = {"wrong-return-type", "wrong-shape", "crashes", "mutates-input"}
    if slug != "mc-dropout":
        defects.add("wrong-dtype")
    if slug in ("dropout-forward", "spatial-dropout"):
        defects |= {"nan-at-p1", "accepts-invalid-p", "ignores-rng"}
    if slug in ("dropout-classic", "mc-dropout"):
        defects.add("ignores-rng")
    if slug == "dropout-backward":
        defects |= {"nan-at-p1", "mask-inverted"}
    assert declared | defects <= covered


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
        pytest.param(
            mc().replace(
                "return samples.mean(0), samples.std(0)",
                "return np.asarray(forward(x, False, rng)), samples.std(0)",
            ),
            id="the deterministic pass as the mean",  # exact here: y is linear in the mask
        ),
    ],
)
def test_other_correct_mc_dropout_solutions_pass(source):
    verdicts = _run(EXERCISES["mc-dropout"], source, 9)
    assert not failures(verdicts), report(verdicts)
