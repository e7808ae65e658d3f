"""validate_diagnosis: simulated learners with known beliefs, through the real services."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from analytics.diagnosis_validation import Tally, ValidationSettings, truth_draw
from analytics.simulation import ClassModel, Item, LearnerState, Option, answer_draw, rng_for
from assessments.catalog import catalog_load
from assessments.models import Attempt, Response
from courses.models import Course
from tests.conftest import module_state

# The class of 100 is made once, in the first test that asks (its setup counts against that
# test's timeout), and the tests that read it stay in one xdist process (`--dist loadscope`
# sends a module's tests to one process).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.timeout(600),
]
LEARNERS = 100


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("validate_diagnosis", *args, stdout=out, stderr=err)
    lines = out.getvalue().strip().splitlines()
    return lines, json.loads(lines[-1])


@pytest.fixture(scope="session")
def class_of_100(django_db_setup, django_db_blocker):
    """One run of the defaults (100 learners, seed 1), made once: it takes a minute. The run
    writes nothing, so only its printout is kept; the catalogue it needs is rolled back."""
    with module_state(django_db_blocker), django_db_blocker.unblock():
        catalog_load()
        return _run("--learners", str(LEARNERS), "--seed", "1")


@pytest.fixture
def catalog(catalog_once):
    return catalog_once


def test_it_reports_every_code_on_both_forms_and_writes_nothing(class_of_100):
    # given the run of the defaults
    lines, summary = class_of_100
    # then: a row per (form, code) with the three figures, and the table before the JSON
    rows = summary["rows"]
    forms = {row["form"] for row in rows}
    assert forms == {"pre-test (A)", "post-test (B)"}
    codes = {row["code"] for row in rows}
    assert {"DO-SPEED", "DO-DATA", "DO-TEST", "DO-SCHEME", "PRE-NEURON"} <= codes
    assert len(rows) == 2 * len(codes)
    for row in rows:
        assert set(row) == {"form", "code", "holders", "sensitivity", "specificity", "no_evidence"}
        for name in ("sensitivity", "specificity", "no_evidence"):
            assert row[name] is None or 0 <= row[name] <= 1
    assert lines[0].startswith("code")
    assert any("DO-SPEED" in line for line in lines[:-1])
    # the heatmap and the results pages tell every learner the same
    assert summary["heatmap_agreement"] == {"pre-test (A)": 1.0, "post-test (B)": 1.0}
    assert summary["settings"]["learners"] == LEARNERS
    # and the run left nothing behind
    assert not Course.objects.filter(slug__startswith="diagnosis-validation").exists()
    assert not Attempt.objects.exists() and not Response.objects.exists()


def test_the_same_seed_gives_the_same_figures(catalog):
    _, first = _run("--learners", "8", "--seed", "5")
    _, again = _run("--learners", "8", "--seed", "5")
    assert first == again
    assert first["rows"] and first["settings"]["learners"] == 8


def test_the_diagnosis_recovers_the_commonest_beliefs(class_of_100):
    # given a class of 100 whose beliefs are known (seed 1, the defaults)
    _, summary = class_of_100
    # then the aims hold for speed, data and test-time dropout on both forms
    for row in summary["rows"]:
        if row["code"] in ("DO-SPEED", "DO-DATA", "DO-TEST"):
            assert row["sensitivity"] >= 0.85, row
            assert row["specificity"] >= 0.85, row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learners", "0", "--seed", "1"], "--learners"),
        (["--learners", "5", "--seed", "-1"], "--seed"),
    ],
)
def test_bad_arguments_are_refused(catalog, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("validate_diagnosis", *args, stdout=StringIO(), stderr=StringIO())


def test_a_prevalence_outside_zero_to_one_is_refused(catalog):
    with pytest.raises(CommandError):
        call_command(
            "validate_diagnosis", "--learners", "5", "--seed", "1", "--prevalence", "1.5",
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip


def test_truths_follow_the_stated_prevalences():
    # given 4,000 learners' truths drawn with prevalence 0.3, illusion 0.3, lacking 0.2
    codes = ["DO-SPEED", "DO-DATA", "DO-ILLUSION", "PRE-NEURON"]
    settings = ValidationSettings(learners=1, seed=9)
    truths = [truth_draw(i, settings, codes) for i in range(4000)]
    share = {code: np.mean([code in t.codes for t in truths]) for code in codes}
    # then each share is within 0.03 of its prevalence (4 sd at n = 4000)
    assert abs(share["DO-SPEED"] - 0.3) < 0.03
    assert abs(share["DO-DATA"] - 0.3) < 0.03
    assert abs(share["DO-ILLUSION"] - 0.3) < 0.03
    assert abs(share["PRE-NEURON"] - 0.2) < 0.03
    assert all(("DO-ILLUSION" in t.codes) == t.state.overconfident for t in truths)


def test_a_holder_picks_only_options_whose_every_belief_they_hold():
    # given an item with a single-belief lure and a two-belief lure
    item = Item(
        key="q",
        qtype="single",
        options=(
            Option(1, 1, True, frozenset()),
            Option(2, 1, False, frozenset({"DO-PERMANENT"})),
            Option(3, 1, False, frozenset({"DO-PERMANENT", "DO-TARGETED"})),
        ),
        probes=frozenset({"DO-PERMANENT", "DO-TARGETED"}),
    )
    learner = LearnerState(theta=-3.0, held=frozenset({"DO-PERMANENT"}))
    model = ClassModel(follow_probability=1.0)
    # when they answer 200 times
    picks = [
        answer_draw(rng_for(1, "t", i), learner, item, difficulty=0.0, model=model).choice_ids
        for i in range(200)
    ]
    # then they always take the option saying only what they believe, and are sure of it
    assert {pick for pick in picks} == {(2,)}


def test_tallies_keep_silent_learners_apart():
    tally = Tally()
    tally.add(holds=True, diagnosed=True)
    tally.add(holds=True, diagnosed=False)
    tally.add(holds=True, diagnosed=None)
    tally.add(holds=False, diagnosed=False)
    tally.add(holds=False, diagnosed=None)
    assert tally.sensitivity == 0.5
    assert tally.specificity == 1.0
    assert tally.no_evidence == 0.4
