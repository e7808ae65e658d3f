"""Statistics tests of the check suites.

False failures: every randomised check states a false-failure probability δ ≤ 1e-9 for a
correct solution, so the reference solution must pass every check for thousands of
different hidden-input seeds (a check whose tolerance was mis-derived, or that is exact
only in theory, shows up here). The per-exercise seed counts keep the whole test within
about a minute on a 2-core machine: the dropout-forward plan includes a 10⁶-element call,
so it runs 1000 seeds; mc-dropout (~550 network passes per plan) 1000; the others 2000.

Power: the wrong solutions whose detection is statistical (drop fractions, means,
independence, standard deviations) must be caught on every one of many seeds.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from grader.exercises import EXERCISES
from tests.grader.exercises_support import FastRunner, failed_tags, failures, report
from tests.grader.test_exercises import WRONG

SEED_COUNTS = {
    "dropout-forward": 1000,
    "dropout-backward": 2000,
    "dropout-classic": 2000,
    "mc-dropout": 1000,
    "spatial-dropout": 2000,
}
FIRST_SEED = 1_000_000  # away from the seeds the other tests use


@pytest.mark.parametrize("slug", sorted(SEED_COUNTS))
def test_statistics_the_reference_never_fails_over_many_seeds(slug: str) -> None:
    exercise = EXERCISES[slug]
    run = FastRunner(exercise, exercise.reference_source)
    failed: Counter[str] = Counter()
    example = ""
    started = time.perf_counter()
    count = SEED_COUNTS[slug]
    for seed in range(FIRST_SEED, FIRST_SEED + count):
        verdicts = run(seed)
        for verdict in failures(verdicts):
            failed[verdict.id] += 1
            example = example or f"seed {seed}:\n{report(verdicts)}"
    elapsed = time.perf_counter() - started
    print(f"{slug}: {count} seeds in {elapsed:.1f} s ({elapsed / count * 1e3:.1f} ms per seed)")
    assert not failed, f"{dict(failed)}\n{example}"


POWER = [
    ("dropout-forward", "drops with probability 1-p", "DO-PKEEP"),
    ("dropout-forward", "no scaling", "DO-NOSCALE"),
    ("dropout-forward", "drops whole rows", "check:independent-elements"),
    ("dropout-forward", "same units for every row", "DO-FIXEDMASK"),
    ("dropout-classic", "drops with probability 1-p", "DO-PKEEP"),
    ("spatial-dropout", "drops with probability 1-p", "DO-PKEEP"),
    ("spatial-dropout", "same channels for every example", "DO-FIXEDMASK"),
    ("spatial-dropout", "drops whole examples", "check:independent-examples"),
    ("mc-dropout", "returns the variance", "check:std"),
    ("mc-dropout", "returns the standard error", "check:std"),
    ("mc-dropout", "returns (std, mean)", "check:mean"),
    ("mc-dropout", "generator re-seeded for every sample", "DO-FIXEDMASK"),
]


@pytest.mark.parametrize(
    ("slug", "name", "expected"), POWER, ids=[f"{s}: {n}" for s, n, _ in POWER]
)
def test_statistics_typical_mistakes_are_caught_on_every_seed(slug, name, expected):
    run = FastRunner(EXERCISES[slug], WRONG[slug][name][0])
    for seed in range(2_000_000, 2_000_025):
        verdicts = run(seed)
        if expected.startswith("check:"):
            assert expected[len("check:") :] in {v.id for v in failures(verdicts)}, report(verdicts)
        else:
            assert expected in failed_tags(verdicts), report(verdicts)
