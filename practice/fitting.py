"""Fitting BKT parameters to learners' answers by Expectation-Maximisation.

BKT is a two-state hidden Markov model: state 0 "unknown", state 1 "known"; it starts
known with P(L0), moves from unknown to known with P(T) after each answer and never back;
a known learner answers right with 1 - P(S), an unknown one with P(G). Baum-Welch runs the
forward-backward pass over every sequence, sums the expected counts of starts, transitions
and answers in each state, and sets each parameter to its ratio of counts (the M-step).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import F, JSONField, OuterRef, Q, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from assessments.models import Misconception
from courses.models import Course
from practice.bkt import DEFAULT_PARAMS, PREREQUISITE_PARAMS, BktParams
from practice.evidence import course_sequences
from practice.models import BktParameters

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Every parameter stays off 0 and 1, so no answer is ever impossible and the log-likelihood
# stays finite; guess and slip stay below one half, the usual guard against the fit where
# "known" answers worse than "unknown" (and it keeps guess + slip below 1).
EPSILON = 1e-4
PARAMETER_BOUNDS = {
    "prior": (EPSILON, 1 - EPSILON),
    "learn": (EPSILON, 1 - EPSILON),
    "guess": (EPSILON, 0.5 - EPSILON),
    "slip": (EPSILON, 0.5 - EPSILON),
}

# EM climbs to the nearest local optimum, so it starts from each point of this small grid
# and keeps the best. Fixed, so a fit is reproducible.
START_GRID: tuple[BktParams, ...] = tuple(
    BktParams(prior=prior, learn=learn, guess=guess, slip=slip)
    for prior, learn, guess, slip in itertools.product(
        (0.2, 0.5, 0.8), (0.05, 0.3), (0.1, 0.3), (0.05, 0.2)
    )
)
MAX_ITERATIONS = 200
TOLERANCE = 1e-8  # stop when one iteration raises the log-likelihood by less, per answer
DEFAULT_MIN_SEQUENCES = 10


@dataclass(frozen=True)
class BktFit:
    """The best parameters found for one skill and how well they explain the answers."""

    params: BktParams
    log_likelihood: float
    iterations: int
    sequences: int
    observations: int


@dataclass(frozen=True)
class ExpectedCounts:
    """The E-step's expected counts over all sequences, under the parameters given."""

    sequences: int
    starts_known: float  # sum over sequences of P(known at the first answer)
    unknown_before_next: float  # expected unknown states followed by another answer
    learned: float  # expected unknown -> known moves
    unknown: float  # expected answers given while unknown
    unknown_right: float  # ... and answered right (guesses)
    known: float  # expected answers given while known
    known_wrong: float  # ... and answered wrong (slips)
    log_likelihood: float


class _Answers:
    """Sequences padded into one matrix, so each time step is one vectorised operation.

    Memory is sequences x longest sequence x a few floats: fine for classes of thousands.
    """

    def __init__(self, sequences: Iterable[Sequence[bool]]) -> None:
        kept = [list(s) for s in sequences if len(s) > 0]
        longest = max((len(s) for s in kept), default=0)
        self.right: BoolArray = np.zeros((len(kept), longest), dtype=np.bool_)
        self.present: BoolArray = np.zeros((len(kept), longest), dtype=np.bool_)
        for row, sequence in enumerate(kept):
            self.right[row, : len(sequence)] = sequence
            self.present[row, : len(sequence)] = True
        self.sequences = len(kept)
        self.observations = int(self.present.sum())
        self.length = longest


def _emissions(answers: _Answers, params: BktParams) -> FloatArray:
    """Return P(each answer | unknown, known); 1 for padding, which then changes nothing."""
    emissions = np.ones((answers.sequences, answers.length, 2))
    right, present = answers.right, answers.present
    emissions[..., 0] = np.where(right, params.guess, 1 - params.guess)
    emissions[..., 1] = np.where(right, 1 - params.slip, params.slip)
    emissions[~present] = 1.0
    return emissions


def _transition(params: BktParams) -> FloatArray:
    return np.array([[1 - params.learn, params.learn], [0.0, 1.0]])


def _forward(answers: _Answers, params: BktParams) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the emissions, the scaled forward probabilities and the scale factors.

    alpha[n, t, s] = P(state s at t | answers up to t); scale[n, t] = P(answer t | earlier
    ones), so the log-likelihood is the sum of log(scale). Padding keeps alpha and scale 1.
    """
    emissions = _emissions(answers, params)
    transition = _transition(params)
    alpha = np.zeros((answers.sequences, answers.length, 2))
    scale = np.ones((answers.sequences, answers.length))
    joint = np.array([1 - params.prior, params.prior]) * emissions[:, 0]
    for t in range(answers.length):
        if t > 0:
            joint = (alpha[:, t - 1] @ transition) * emissions[:, t]
            joint = np.where(answers.present[:, t, None], joint, alpha[:, t - 1])
        scale[:, t] = joint.sum(axis=1)
        alpha[:, t] = joint / np.where(scale[:, t] > 0, scale[:, t], 1.0)[:, None]
    return emissions, alpha, scale


def _total_log(scale: FloatArray) -> float:
    if np.any(scale <= 0):
        return -math.inf  # an answer the parameters call impossible
    return float(np.log(scale).sum())


def _counts(answers: _Answers, params: BktParams) -> ExpectedCounts:
    emissions, alpha, scale = _forward(answers, params)
    transition = _transition(params)
    # beta[n, t, s] = P(later answers | state s at t) / P(later answers | earlier ones).
    beta = np.ones((answers.sequences, answers.length, 2))
    for t in range(answers.length - 2, -1, -1):
        ahead = (emissions[:, t + 1] * beta[:, t + 1]) @ transition.T
        ahead /= np.where(scale[:, t + 1] > 0, scale[:, t + 1], 1.0)[:, None]
        beta[:, t] = np.where(answers.present[:, t + 1, None], ahead, 1.0)
    gamma = alpha * beta * answers.present[..., None]
    # P(unknown at t and known at t+1 | all answers), for t followed by another answer.
    followed = answers.present[:, 1:]
    learned = (
        alpha[:, :-1, 0]
        * params.learn
        * emissions[:, 1:, 1]
        * beta[:, 1:, 1]
        / np.where(scale[:, 1:] > 0, scale[:, 1:], 1.0)
    )
    right = answers.right & answers.present
    wrong = ~answers.right & answers.present
    return ExpectedCounts(
        sequences=answers.sequences,
        starts_known=float(gamma[:, 0, 1].sum()) if answers.length else 0.0,
        unknown_before_next=float((gamma[:, :-1, 0] * followed).sum()),
        learned=float((learned * followed).sum()),
        unknown=float(gamma[..., 0].sum()),
        unknown_right=float((gamma[..., 0] * right).sum()),
        known=float(gamma[..., 1].sum()),
        known_wrong=float((gamma[..., 1] * wrong).sum()),
        log_likelihood=_total_log(scale),
    )


def _bounded(name: str, value: float) -> float:
    low, high = PARAMETER_BOUNDS[name]
    return min(max(value, low), high)


def _ratio(part: float, whole: float, otherwise: float) -> float:
    return part / whole if whole > 0 else otherwise


def maximise(*, counts: ExpectedCounts, previous: BktParams) -> BktParams:
    """Return the parameters that best explain the expected counts (the M-step), in bounds.

    Each parameter's share of the expected log-likelihood is concave in it alone, so
    clamping its ratio into the bounds is still the best choice within them: EM keeps
    its guarantee never to lower the likelihood. A ratio with no data keeps its old value.
    """
    return BktParams(
        prior=_bounded("prior", _ratio(counts.starts_known, counts.sequences, previous.prior)),
        learn=_bounded("learn", _ratio(counts.learned, counts.unknown_before_next, previous.learn)),
        guess=_bounded("guess", _ratio(counts.unknown_right, counts.unknown, previous.guess)),
        slip=_bounded("slip", _ratio(counts.known_wrong, counts.known, previous.slip)),
    )


def expected_counts(*, params: BktParams, sequences: Iterable[Sequence[bool]]) -> ExpectedCounts:
    """Return the E-step's expected counts of the sequences under the parameters."""
    return _counts(_Answers(sequences), params)


def em_step(
    *, params: BktParams, sequences: Iterable[Sequence[bool]]
) -> tuple[BktParams, ExpectedCounts]:
    """Return one EM iteration's new parameters and the expected counts they came from."""
    counts = expected_counts(params=params, sequences=sequences)
    return maximise(counts=counts, previous=params), counts


def log_likelihood(*, params: BktParams, sequences: Iterable[Sequence[bool]]) -> float:
    """Return the log-probability of the sequences under the parameters (forward algorithm)."""
    answers = _Answers(sequences)
    *_, scale = _forward(answers, params)
    return _total_log(scale)


def _climb(
    answers: _Answers, start: BktParams, max_iterations: int, tolerance: float
) -> tuple[BktParams, float, int]:
    params = start
    counts = _counts(answers, params)
    iterations = 0
    while iterations < max_iterations:
        following = maximise(counts=counts, previous=params)
        following_counts = _counts(answers, following)
        iterations += 1
        gain = following_counts.log_likelihood - counts.log_likelihood
        if gain < 0:
            break  # only rounding can do this; keep the better point
        params, counts = following, following_counts
        if gain < tolerance * max(answers.observations, 1):
            break
    return params, counts.log_likelihood, iterations


def bkt_fit(
    *,
    sequences: Iterable[Sequence[bool]],
    starts: Sequence[BktParams] = START_GRID,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> BktFit:
    """Return the best EM fit of BKT parameters to the sequences over the starting points.

    Runs EM from each start until an iteration gains less than `tolerance` per answer or
    `max_iterations` is reached; the first of equally good fits wins.
    """
    if not starts:
        raise ValueError("BKT fitting needs at least one starting point.")
    answers = _Answers(sequences)
    best: tuple[BktParams, float, int] | None = None
    for start in starts:
        climbed = _climb(answers, start, max_iterations, tolerance)
        if best is None or climbed[1] > best[1]:
            best = climbed
    assert best is not None
    params, likelihood, iterations = best
    return BktFit(
        params=params,
        log_likelihood=likelihood,
        iterations=iterations,
        sequences=answers.sequences,
        observations=answers.observations,
    )


# Where a misconception's parameters in use come from.
Source = Literal["course", "overall", "defaults"]


@dataclass(frozen=True)
class CodeFit:
    """One misconception's outcome: fitted, or skipped with the parameters it keeps."""

    code: str
    sequences: int
    observations: int
    params: BktParams
    fit: BktFit | None
    skipped: str = ""  # why it was not fitted; empty when it was
    kept: Source | None = None  # for a skipped code, where the parameters it keeps come from

    @property
    def is_fitted(self) -> bool:
        """Return whether new parameters were fitted."""
        return self.fit is not None


def default_params(kind: str) -> BktParams:
    """Return the documented defaults for a misconception or for a prerequisite."""
    return PREREQUISITE_PARAMS if kind == Misconception.Kind.PREREQUISITE else DEFAULT_PARAMS


def _stored(*, course: Course | None, codes: Iterable[str]) -> dict[str, tuple[BktParams, Source]]:
    wanted = set(codes)
    scope = Q(course__isnull=True) if course is None else Q(course=course) | Q(course__isnull=True)
    rows = BktParameters.objects.filter(scope, misconception__code__in=wanted).values_list(
        "misconception__code", "course_id", "prior", "learn", "guess", "slip"
    )
    found: dict[str, tuple[BktParams, Source]] = {}
    for code, course_id, prior, learn, guess, slip in rows:
        source: Source = "overall" if course_id is None else "course"
        if code in found and found[code][1] == "course":
            continue
        found[code] = (BktParams(prior=prior, learn=learn, guess=guess, slip=slip), source)
    kinds = dict(
        Misconception.objects.filter(code__in=wanted - found.keys()).values_list("code", "kind")
    )
    return {
        code: found.get(code, (default_params(kinds.get(code, "")), "defaults")) for code in wanted
    }


def parameters_for(*, course: Course | None, codes: Iterable[str]) -> dict[str, BktParams]:
    """Return each code's parameters: the course's fit, else the overall fit, else defaults."""
    return {code: params for code, (params, _) in _stored(course=course, codes=codes).items()}


FIT_FIELDS = ("prior", "learn", "guess", "slip")


def fit_annotations(*, course: Course) -> dict[str, Subquery]:
    """Return the annotation `bkt_fit` for rows with a misconception: the course's fit, else
    the overall one, else None, as parameters_for chooses, read in the rows' query as one
    JSON object (one subquery rather than one per parameter: less SQL to compile and run)."""
    fits = BktParameters.objects.filter(
        Q(course=course) | Q(course__isnull=True), misconception=OuterRef("misconception")
    ).order_by(F("course_id").asc(nulls_last=True))
    fit = JSONObject(**{name: name for name in FIT_FIELDS})
    return {"bkt_fit": Subquery(fits.values(fit=fit)[:1], output_field=JSONField())}


def parameters_annotated(row: Any, kind: str) -> BktParams:
    """Return the parameters fit_annotations read for the row, else the kind's defaults."""
    fitted = getattr(row, "bkt_fit", None)
    if not fitted or any(fitted.get(name) is None for name in FIT_FIELDS):
        return default_params(kind)
    prior, learn, guess, slip = (float(fitted[name]) for name in FIT_FIELDS)
    return BktParams(prior=prior, learn=learn, guess=guess, slip=slip)


def pooled_sequences(*, course: Course | None) -> dict[str, list[list[bool]]]:
    """Return the course's sequences per code, or every course's together for None."""
    if course is not None:
        return course_sequences(course=course)
    pooled: dict[str, list[list[bool]]] = defaultdict(list)
    # One course at a time (a few queries each): a learner in two courses counts twice,
    # once per course, as the two are separate runs of learning.
    for each in Course.objects.order_by("id"):
        for code, sequences in course_sequences(course=each).items():
            pooled[code].extend(sequences)
    return dict(pooled)


def course_parameters_estimate(
    *, course: Course | None, min_sequences: int = DEFAULT_MIN_SEQUENCES
) -> list[CodeFit]:
    """Return the fit of every code with enough sequences, and why the others were skipped."""
    if min_sequences < 1:
        raise ValueError("BKT fitting needs at least one sequence per misconception.")
    sequences = pooled_sequences(course=course)
    stored = _stored(course=course, codes=sequences)
    results = []
    for code in sorted(sequences):
        answers = sequences[code]
        observations = sum(len(s) for s in answers)
        if len(answers) < min_sequences:
            params, source = stored[code]
            results.append(
                CodeFit(
                    code=code,
                    sequences=len(answers),
                    observations=observations,
                    params=params,
                    fit=None,
                    skipped=f"only {len(answers)} sequences (need {min_sequences})",
                    kept=source,
                )
            )
            continue
        fit = bkt_fit(sequences=answers)
        results.append(
            CodeFit(
                code=code,
                sequences=fit.sequences,
                observations=fit.observations,
                params=fit.params,
                fit=fit,
            )
        )
    return results


def course_parameters_fit(
    *,
    course: Course | None,
    min_sequences: int = DEFAULT_MIN_SEQUENCES,
    now: datetime | None = None,
) -> list[CodeFit]:
    """Fit every code with enough sequences and store its parameters; skip the others."""
    now = now or timezone.now()
    # Fitted before the transaction opens, so no transaction is held while numpy works.
    results = course_parameters_estimate(course=course, min_sequences=min_sequences)
    fitted = [result for result in results if result.fit is not None]
    with transaction.atomic():
        misconceptions = Misconception.objects.in_bulk(
            [result.code for result in fitted], field_name="code"
        )
        scope = Q(course__isnull=True) if course is None else Q(course=course)
        existing = {
            row.misconception.code: row
            for row in BktParameters.objects.filter(
                scope, misconception__in=misconceptions.values()
            )
            .select_related("misconception")
            .select_for_update(of=("self",))
        }
        for result in fitted:
            assert result.fit is not None
            row = existing.get(result.code) or BktParameters(
                course=course, misconception=misconceptions[result.code]
            )
            row.prior = result.params.prior
            row.learn = result.params.learn
            row.guess = result.params.guess
            row.slip = result.params.slip
            row.sequences = result.fit.sequences
            row.observations = result.fit.observations
            row.log_likelihood = result.fit.log_likelihood
            row.fitted_at = now
            row.full_clean()
            row.save()
    return results
