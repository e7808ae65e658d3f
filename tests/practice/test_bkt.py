"""BKT: the update against hand arithmetic, the EM fit (likelihood, one step, recovery of
simulated parameters) and the bkt_fit command on answers stored in the database."""

from __future__ import annotations

import math
from dataclasses import astuple
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from assessments.models import Attempt, Misconception, Response
from courses.models import Course, Enrollment
from practice.bkt import (
    DEFAULT_PARAMS,
    PREREQUISITE_PARAMS,
    BktParams,
    bkt_trace,
    bkt_update,
    p_correct,
    posterior,
)
from practice.evidence import course_sequences
from practice.fitting import (
    PARAMETER_BOUNDS,
    START_GRID,
    bkt_fit,
    course_parameters_fit,
    em_step,
    expected_counts,
    log_likelihood,
    parameters_for,
)
from practice.models import BktParameters
from tests.factories import MisconceptionFactory, UserFactory, code, quiz_of, single

# prior 0.5, learn 0.1, guess 0.2, slip 0.1
PARAMS = BktParams(prior=0.5, learn=0.1, guess=0.2, slip=0.1)
TRUE = BktParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1)


def _simulate(params: BktParams, *, learners: int, answers: int, seed: int) -> list[list[bool]]:
    """Return each learner's answers drawn from the BKT model with these parameters."""
    rng = np.random.default_rng(seed)
    known = rng.random(learners) < params.prior
    columns = []
    for _ in range(answers):
        p_right = np.where(known, 1 - params.slip, params.guess)
        columns.append(rng.random(learners) < p_right)
        known |= rng.random(learners) < params.learn
    return [[bool(x) for x in row] for row in np.array(columns).T]


# --- The update, by hand ---------------------------------------------------------------


def test_posterior_and_p_correct_match_bayes_rule_by_hand():
    # right: 0.5*0.9 / (0.5*0.9 + 0.5*0.2) = 0.45 / 0.55 = 9/11
    assert posterior(0.5, True, PARAMS) == pytest.approx(9 / 11)
    # wrong: 0.5*0.1 / (0.5*0.1 + 0.5*0.8) = 0.05 / 0.45 = 1/9
    assert posterior(0.5, False, PARAMS) == pytest.approx(1 / 9)
    # 0.5*0.9 + 0.5*0.2 = 0.55
    assert p_correct(0.5, PARAMS) == pytest.approx(0.55)


def test_one_right_answer_then_the_chance_to_learn():
    # 0.45/0.55 = 0.8181..., then + 0.1 * (1 - 0.8181...) = 0.8181... + 0.01818... = 0.83636...
    assert bkt_update(0.5, True, PARAMS) == pytest.approx(0.8363636, abs=1e-7)
    assert bkt_update(0.5, True, PARAMS) == pytest.approx(46 / 55)


def test_two_right_answers_reach_0_9625():
    # from 46/55: known 46/55*0.9 = 414/550, unknown 9/55*0.2 = 18/550
    # posterior 414/432 = 23/24 = 0.958333; + 0.1 * 1/24 = 0.9625
    assert bkt_trace([True, True], PARAMS) == pytest.approx([46 / 55, 0.9625])


def test_a_wrong_answer_then_three_right_ones():
    # wrong: 0.05/0.45 = 1/9; + 0.1 * 8/9 -> 1.8/9 = 0.2
    # right: 0.2*0.9 = 0.18, 0.8*0.2 = 0.16 -> 0.18/0.34 = 9/17; + 0.1 * 8/17 -> 9.8/17 = 0.576471
    # right: 9.8/17*0.9 = 8.82/17, 7.2/17*0.2 = 1.44/17 -> 8.82/10.26 = 49/57; + 0.1 * 8/57
    #        -> 49.8/57 = 0.873684
    # right: 49.8/57*0.9 = 44.82/57, 7.2/57*0.2 = 1.44/57 -> 44.82/46.26 = 0.9688716;
    #        + 0.1 * 0.0311284 -> 0.9719844
    trace = bkt_trace([False, True, True, True], PARAMS)
    assert trace == pytest.approx([0.2, 9.8 / 17, 49.8 / 57, 0.9719844], abs=1e-7)
    assert trace[-1] > 0.95 > trace[-2]  # the README's "after a wrong one, three"


# --- The likelihood and one EM step, by hand --------------------------------------------

# Paths of hidden states for [False, True] (U unknown, K known), with their probabilities:
#   U,U: 0.5 * 0.8 (wrong, unknown) * 0.9 (stays) * 0.2 (guessed)  = 0.072
#   U,K: 0.5 * 0.8 * 0.1 (learns) * 0.9 (right, known)              = 0.036
#   K,K: 0.5 * 0.1 (slips) * 1 * 0.9                                = 0.045
#   K,U: impossible (no forgetting)                                 = 0
# P([False, True]) = 0.153, as the forward algorithm also gives:
#   alpha1 = (U 0.5*0.8, K 0.5*0.1) = (0.4, 0.05)
#   alpha2 = (U 0.4*0.9*0.2, K (0.4*0.1 + 0.05)*0.9) = (0.072, 0.081) -> 0.153
# P([True]) = 0.5*0.2 + 0.5*0.9 = 0.55
TINY = [[True], [False, True]]


def test_the_log_likelihood_is_the_forward_algorithm_by_hand():
    assert log_likelihood(params=PARAMS, sequences=TINY) == pytest.approx(
        math.log(0.55) + math.log(0.153)
    )
    assert log_likelihood(params=PARAMS, sequences=[[False, True]]) == pytest.approx(
        math.log(0.072 + 0.036 + 0.045)
    )


def test_one_em_step_uses_the_expected_counts_by_hand():
    # [True]: P(K) = 0.45/0.55 = 9/11, P(U) = 2/11.
    # [False, True]: path posteriors U,U 0.072/0.153 = 8/17, U,K 4/17, K,K 5/17, so
    #   at the first answer P(U) = 12/17, P(K) = 5/17; at the second P(U) = 8/17, P(K) = 9/17;
    #   P(U -> K) = 4/17.
    new, counts = em_step(params=PARAMS, sequences=TINY)

    assert counts.sequences == 2
    assert counts.starts_known == pytest.approx(9 / 11 + 5 / 17)
    assert counts.unknown_before_next == pytest.approx(12 / 17)  # [True] has no next answer
    assert counts.learned == pytest.approx(4 / 17)
    assert counts.unknown == pytest.approx(2 / 11 + 12 / 17 + 8 / 17)
    assert counts.unknown_right == pytest.approx(2 / 11 + 8 / 17)  # guesses
    assert counts.known == pytest.approx(9 / 11 + 5 / 17 + 9 / 17)
    assert counts.known_wrong == pytest.approx(5 / 17)  # the slip at [False, ...]
    assert counts.log_likelihood == pytest.approx(math.log(0.55 * 0.153))
    # M-step: prior (9/11 + 5/17) / 2 = 208/187 / 2 = 104/187
    #         learn (4/17) / (12/17) = 1/3
    #         guess (2/11 + 8/17) / (2/11 + 20/17) = (122/187) / (254/187) = 61/127
    #         slip  (5/17) / (9/11 + 14/17) = (55/187) / (307/187) = 55/307
    assert astuple(new) == pytest.approx((104 / 187, 1 / 3, 61 / 127, 55 / 307))
    # EM never lowers the likelihood.
    assert log_likelihood(params=new, sequences=TINY) >= counts.log_likelihood


def test_counts_of_empty_sequences_are_ignored():
    with_empty = expected_counts(params=PARAMS, sequences=[*TINY, []])
    assert with_empty == expected_counts(params=PARAMS, sequences=TINY)


# --- Fitting -----------------------------------------------------------------------------


def test_the_fit_recovers_simulated_parameters():
    sequences = _simulate(TRUE, learners=400, answers=8, seed=20240501)

    fit = bkt_fit(sequences=sequences)

    assert (fit.sequences, fit.observations) == (400, 3200)
    assert fit.params.prior == pytest.approx(TRUE.prior, abs=0.05)
    assert fit.params.learn == pytest.approx(TRUE.learn, abs=0.05)
    assert fit.params.guess == pytest.approx(TRUE.guess, abs=0.05)
    assert fit.params.slip == pytest.approx(TRUE.slip, abs=0.05)
    assert fit.log_likelihood == pytest.approx(
        log_likelihood(params=fit.params, sequences=sequences)
    )
    # The maximum explains the data at least as well as the parameters that made it.
    assert fit.log_likelihood >= log_likelihood(params=TRUE, sequences=sequences)


def test_fitting_never_lowers_the_likelihood_of_its_start():
    sequences = _simulate(TRUE, learners=100, answers=6, seed=7)
    best = bkt_fit(sequences=sequences)
    for start in START_GRID:
        fit = bkt_fit(sequences=sequences, starts=[start])
        assert fit.log_likelihood >= log_likelihood(params=start, sequences=sequences)
        assert best.log_likelihood >= fit.log_likelihood - 1e-9
    # ... nor does any single step.
    params, likelihoods = DEFAULT_PARAMS, []
    for _ in range(15):
        params, counts = em_step(params=params, sequences=sequences)
        likelihoods.append(counts.log_likelihood)
    assert likelihoods == sorted(likelihoods)


def test_max_iterations_1_is_one_em_step():
    fit = bkt_fit(sequences=TINY, starts=[PARAMS], max_iterations=1)
    new, _ = em_step(params=PARAMS, sequences=TINY)
    assert fit.iterations == 1
    assert fit.params == new


@pytest.mark.parametrize(
    "sequences",
    [
        [[True] * 6] * 20,  # never wrong: slip would be 0
        [[False] * 6] * 20,  # never right: guess would be 0
        [[True, False] * 3] * 20,  # as often wrong as right
    ],
)
def test_degenerate_data_stay_within_the_bounds(sequences):
    fit = bkt_fit(sequences=sequences)
    for name, (low, high) in PARAMETER_BOUNDS.items():
        assert low <= getattr(fit.params, name) <= high
    assert fit.params.guess < 0.5
    assert fit.params.slip < 0.5
    assert math.isfinite(fit.log_likelihood)


def test_fitting_needs_a_starting_point():
    with pytest.raises(ValueError, match="starting point"):
        bkt_fit(sequences=TINY, starts=[])


# --- The service and the command on stored answers ------------------------------------------


class Klass:
    """A course whose quiz asks four questions probing DO-SPEED."""

    def __init__(self, slug: str, prefix: str) -> None:
        self.course = Course.objects.create(slug=slug, title=slug.title())
        # Wrong A reveals DO-SPEED, wrong B reveals DO-DATA (see tests.factories.single).
        self.questions = [single(probes=("DO-SPEED",)) for _ in range(4)]
        self.quiz = quiz_of(*self.questions, course=self.course, slug=f"{slug}-quiz")
        self.prefix = prefix
        self.learners = 0

    def answer(self, answers: list[str]) -> Any:
        """Add a learner whose submitted attempt answers "right", "speed" or "data" in order."""
        learner = UserFactory.create(username=f"{self.prefix}{self.learners}")
        self.learners += 1
        Enrollment.objects.create(course=self.course, learner=learner)
        start = timezone.now() - timedelta(days=1)
        attempt = Attempt.objects.create(
            quiz=self.quiz, learner=learner, number=1, seed=1, state=Attempt.State.SUBMITTED,
            started_at=start, submitted_at=start + timedelta(hours=1),
            score=Decimal(answers.count("right")), max_score=Decimal(len(answers)),
        )  # fmt: skip
        for slot, (question, answer) in enumerate(
            zip(self.questions, answers, strict=True), start=1
        ):
            response = Response.objects.create(
                attempt=attempt, slot=slot, question=question, is_correct=answer == "right",
                mark=Decimal(answer == "right"), max_mark=Decimal(1),
                answered_at=start + timedelta(minutes=slot),
            )  # fmt: skip
            if answer != "right":
                codes = {"speed": "DO-SPEED", "data": "DO-DATA"}[answer]
                response.misconceptions.set(Misconception.objects.filter(code=codes))
        return learner

    def simulated(self, learners: int, seed: int) -> None:
        """Add learners answering all four questions, drawn from TRUE; wrong ones are DO-SPEED."""
        for row in _simulate(TRUE, learners=learners, answers=4, seed=seed):
            self.answer(["right" if right else "speed" for right in row])


def _run(*args: str) -> str:
    out = StringIO()
    call_command("bkt_fit", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_fits_a_course_and_stores_its_parameters():
    # given 12 learners with 4 answers each on DO-SPEED, and 3 who showed DO-DATA once
    klass = Klass("dl101", "a")
    klass.simulated(12, seed=3)
    for _ in range(3):
        klass.answer(["right", "data", "right", "right"])
    sequences = course_sequences(course=klass.course)
    assert len(sequences["DO-SPEED"]) == 15
    assert len(sequences["DO-DATA"]) == 3
    expected = bkt_fit(sequences=sequences["DO-SPEED"])

    # when
    output = _run("--course", "dl101")

    # then
    row = BktParameters.objects.get()
    assert (row.course, row.misconception.code) == (klass.course, "DO-SPEED")
    assert (row.sequences, row.observations) == (15, 15 * 4 - 3)
    assert (row.prior, row.learn, row.guess, row.slip) == pytest.approx(
        (expected.params.prior, expected.params.learn, expected.params.guess, expected.params.slip)
    )
    assert row.log_likelihood == pytest.approx(expected.log_likelihood)
    assert row.fitted_at is not None
    lines = output.splitlines()
    assert lines[0] == "BKT fit on course dl101 (at least 10 sequences):"
    assert lines[1].split() == [
        "code", "sequences", "observations", "prior", "learn", "guess", "slip", "log-likelihood",
    ]  # fmt: skip
    assert lines[2] == "DO-DATA   kept defaults: only 3 sequences (need 10)"
    assert lines[3].split() == [
        "DO-SPEED", "15", "57", f"{row.prior:.3f}", f"{row.learn:.3f}", f"{row.guess:.3f}",
        f"{row.slip:.3f}", f"{row.log_likelihood:.3f}",
    ]  # fmt: skip
    assert lines[4] == "Saved 1 fit."


@pytest.mark.django_db
def test_a_rerun_updates_the_row_and_a_skipped_code_keeps_its_fit():
    klass = Klass("dl101", "a")
    klass.simulated(12, seed=4)
    first = timezone.now() - timedelta(days=2)
    course_parameters_fit(course=klass.course, now=first)
    klass.simulated(3, seed=5)

    results = course_parameters_fit(course=klass.course, now=timezone.now())

    row = BktParameters.objects.get()
    assert row.sequences == 15
    assert row.fitted_at > first
    assert [(r.code, r.is_fitted) for r in results] == [("DO-SPEED", True)]
    # Too few for a stricter threshold: the stored fit is kept and said to be.
    output = _run("--course", "dl101", "--min-sequences", "20")
    assert "DO-SPEED  kept its earlier fit: only 15 sequences (need 20)" in output
    assert "Saved 0 fits." in output
    assert BktParameters.objects.get().sequences == 15


@pytest.mark.django_db
def test_a_dry_run_saves_nothing():
    klass = Klass("dl101", "a")
    klass.simulated(12, seed=3)

    output = _run("--course", "dl101", "--dry-run")

    assert not BktParameters.objects.exists()
    assert output.splitlines()[2].startswith("DO-SPEED")
    assert output.splitlines()[-1] == "Dry run: nothing saved."


@pytest.mark.django_db
def test_all_pools_every_course_into_the_overall_row():
    # given two courses of 6 learners each: too few for either on its own
    first, second = Klass("dl101", "a"), Klass("dl102", "b")
    first.simulated(6, seed=1)
    second.simulated(6, seed=2)
    assert "kept defaults: only 6 sequences (need 10)" in _run("--course", "dl101")

    # when
    output = _run("--all")

    # then
    row = BktParameters.objects.get()
    assert (row.course, row.misconception.code, row.sequences) == (None, "DO-SPEED", 12)
    assert output.startswith("BKT fit on all courses (at least 10 sequences):")
    # The overall fit is now what each course falls back on.
    assert parameters_for(course=first.course, codes=["DO-SPEED"]) == {
        "DO-SPEED": BktParams(prior=row.prior, learn=row.learn, guess=row.guess, slip=row.slip)
    }
    assert "kept the all-courses fit: only 6 sequences" in _run("--course", "dl102")


@pytest.mark.django_db
def test_a_course_without_answers_says_so():
    Course.objects.create(slug="empty", title="Empty")
    assert _run("--course", "empty") == "No answers bear on any misconception in course empty.\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--course", "nope"], "No course with slug 'nope'"),
        (["--all", "--min-sequences", "0"], "--min-sequences must be at least 1, not 0"),
        (["--course", "c", "--all"], "not allowed with argument"),
        ([], "one of the arguments --course --all is required"),
    ],
)
def test_the_command_refuses_bad_arguments(args, message):
    Course.objects.create(slug="c", title="C")
    with pytest.raises(CommandError, match=message):
        _run(*args)


@pytest.mark.django_db
def test_parameters_for_falls_back_from_course_to_overall_to_defaults():
    course = Course.objects.create(slug="c", title="C")
    other = Course.objects.create(slug="d", title="D")
    now = timezone.now()
    BktParameters.objects.create(
        course=None, misconception=code("DO-SPEED"), prior=0.4, learn=0.2, guess=0.25,
        slip=0.15, fitted_at=now,
    )  # fmt: skip
    BktParameters.objects.create(
        course=course, misconception=code("DO-SPEED"), prior=0.6, learn=0.3, guess=0.1,
        slip=0.05, fitted_at=now,
    )  # fmt: skip
    BktParameters.objects.create(
        course=course, misconception=code("DO-DATA"), prior=0.7, learn=0.05, guess=0.3,
        slip=0.2, fitted_at=now,
    )  # fmt: skip
    own_speed = BktParams(prior=0.6, learn=0.3, guess=0.1, slip=0.05)
    overall_speed = BktParams(prior=0.4, learn=0.2, guess=0.25, slip=0.15)
    own_data = BktParams(prior=0.7, learn=0.05, guess=0.3, slip=0.2)
    codes = ["DO-SPEED", "DO-DATA", "DO-TEST"]

    assert parameters_for(course=course, codes=codes) == {
        "DO-SPEED": own_speed,
        "DO-DATA": own_data,
        "DO-TEST": DEFAULT_PARAMS,
    }
    assert parameters_for(course=other, codes=codes) == {
        "DO-SPEED": overall_speed,
        "DO-DATA": DEFAULT_PARAMS,
        "DO-TEST": DEFAULT_PARAMS,
    }
    assert parameters_for(course=None, codes=codes) == {
        "DO-SPEED": overall_speed,
        "DO-DATA": DEFAULT_PARAMS,
        "DO-TEST": DEFAULT_PARAMS,
    }
    assert parameters_for(course=course, codes=[]) == {}


@pytest.mark.django_db
def test_prerequisites_default_to_their_own_parameters():
    MisconceptionFactory.create(code="PRE-NEURON", kind=Misconception.Kind.PREREQUISITE)
    assert parameters_for(course=None, codes=["PRE-NEURON", "DO-SPEED"]) == {
        "PRE-NEURON": PREREQUISITE_PARAMS,
        "DO-SPEED": DEFAULT_PARAMS,
    }
