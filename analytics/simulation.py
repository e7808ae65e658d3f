"""A simulated class: learners with an ability and misconceptions answer the pre- and post-test.

This module is the model, with no database; analytics.simulated_class writes its answers
through the same services real learners use (`manage.py simulate_class`), and
`tests/benchmarks/analytics.py` writes the same kind of answers with bulk inserts.

The model
=========

Everything random is drawn from `numpy.random.Generator`s seeded by the run's seed and a
label (`rng_for(seed, "learner", 7)`), so a given seed gives the same class, the same
question difficulties and the same answers to the same questions; adding learners or
questions does not change the draws of the others. (`attempt_start` draws which questions
an attempt gets with a secret seed of its own; the answers to a given question do not
depend on that.)

Class. Each misconception of the catalogue (the `Misconception` rows of kind
"misconception": the DO-* codes; the PRE-* prerequisites are left to ability) has a
prevalence drawn uniformly from [`prevalence_low`, `prevalence_high`] (0.25-0.5).

Learner, before teaching. An ability theta ~ N(0, 1), and each misconception held
independently with its prevalence.

Learner, after teaching (the post-test). Each held misconception is dropped with
probability `unlearn_probability` (0.6); theta rises by `ability_gain` (0.8).

Question. A difficulty d ~ N(0, `difficulty_sd`) per question (keyed by its slug), and
p = logistic(theta - d), the chance of knowing the answer when no misconception interferes.

Choice questions (single, true/false). A lure is a wrong option whose misconceptions
(`Choice.misconceptions`) the learner all holds: choosing an option means believing
everything it says, so someone who believes dropout is pruning but not that it picks
units by importance is lured by "about 256" and not by "about 256, the most important
ones". If the item has lures, the learner picks one of them (at random) with probability
`follow_probability` (0.85), with confidence 3-5. Otherwise they are right with
probability p, else they pick a wrong option at random.
Two-tier: the same, tier by tier (answer, then reason); right only when both tiers are.
Multiple response: each right option is ticked with probability p, each wrong option that
carries a held misconception with probability `follow_probability`, each other wrong option
with probability (1 - p) / 4; at least one option is always ticked.

Numeric. If a `NumericDistractor` of the question carries a held misconception, the
learner gives that distractor's value for the attempt's parameters with probability
`follow_probability` (confidence 3-5); else the right value with probability p; else a
wrong number that matches neither the answer nor any distractor.

Prerequisites. A prerequisite is known or not, as in knowledge tracing: a learner who
lacks it (a PRE-* code in `LearnerState.lacking`) answers an item probing it right only by
a guess, with probability `lacking_right_probability` (0.15); one who has it slips with
probability `prerequisite_slip` (0.1). Their confidence follows the answer as for any item.

Confidence (0-5). A misconception followed: uniform on 3-5. Otherwise normal around
`confidence_wrong_mean` (1.5) for a wrong answer and `confidence_wrong_mean +
confidence_gap` (gap 1.5, allowed 0-2) for a right one, sd 0.9, rounded and clipped to 0-5.
An overconfident learner (`LearnerState.overconfident`: the illusion of understanding)
rates every answer `overconfidence_shift` (1.5) higher before clipping.

Time. Seconds per answer ~ lognormal with median `seconds_median` (35 s; 120 s for an
explain-it-back text) and sigma `seconds_sigma` (0.6), clipped to 2-900 s.

Explain-it-back. A learner holding a misconception the item probes states it with
probability `follow_probability`, sure of it (confidence 3-5); otherwise they can explain
the ideas with probability p, unless overconfident (the illusion of understanding: sure,
but unable to explain it back), and the confidence follows whether they can explain, as
for a right or wrong answer. The text is one of a few stock sentences; callers may write
their own from `followed` and `explains`. Code
items are left unanswered.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assessments.numeric import ExpressionError, expression_evaluate, within_tolerance

if TYPE_CHECKING:
    pass

MAX_SECONDS = 900
EXPLANATIONS = (
    "Dropout switches off random units during training only; at test time every unit is used.",
    "Each pass drops a fresh random set of units, so no unit can rely on a particular other one.",
    "It is a regulariser: noise on the hidden units during training reduces overfitting.",
    "Dropping units makes training faster because fewer units are computed.",
    "The kept activations are scaled up so their expected value matches test time.",
)


class SimulationError(Exception):
    """The class cannot be simulated as asked (a missing catalogue, a clashing slug)."""


# ---------------------------------------------------------------- the model (no database)


@dataclass(frozen=True)
class ClassModel:
    """The parameters of the simulated class; see the module docstring."""

    prevalence_low: float = 0.25
    prevalence_high: float = 0.5
    unlearn_probability: float = 0.6
    ability_gain: float = 0.8
    follow_probability: float = 0.85
    difficulty_sd: float = 1.0
    confidence_wrong_mean: float = 1.5
    confidence_gap: float = 1.5
    confidence_sd: float = 0.9
    lacking_right_probability: float = 0.15
    prerequisite_slip: float = 0.1
    overconfidence_shift: float = 1.5
    seconds_median: float = 35.0
    explain_seconds_median: float = 120.0
    seconds_sigma: float = 0.6

    def __post_init__(self) -> None:
        probabilities = {
            "prevalence_low": self.prevalence_low,
            "prevalence_high": self.prevalence_high,
            "unlearn_probability": self.unlearn_probability,
            "follow_probability": self.follow_probability,
            "lacking_right_probability": self.lacking_right_probability,
            "prerequisite_slip": self.prerequisite_slip,
        }
        for name, value in probabilities.items():
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability, got {value}")
        if self.prevalence_low > self.prevalence_high:
            raise ValueError("prevalence_low must not exceed prevalence_high")
        if not 0 <= self.confidence_gap <= 2:
            raise ValueError(f"confidence_gap must be between 0 and 2, got {self.confidence_gap}")


@dataclass(frozen=True)
class LearnerState:
    """What a simulated learner knows at one moment: ability, misconceptions held,
    prerequisites lacking, and whether their confidence runs ahead of their knowledge."""

    theta: float
    held: frozenset[str]
    lacking: frozenset[str] = frozenset()
    overconfident: bool = False


@dataclass(frozen=True)
class Option:
    """A choice of a question, as the simulation sees it."""

    id: int
    tier: int
    is_correct: bool
    codes: frozenset[str]


@dataclass(frozen=True)
class Distractor:
    """A numeric distractor: an expression of the parameters and the codes it carries."""

    expression: str
    codes: frozenset[str]


@dataclass(frozen=True)
class Item:
    """A question reduced to what answering it needs (built by `item_from_question`)."""

    key: str
    qtype: str
    options: tuple[Option, ...] = ()
    probes: frozenset[str] = frozenset()
    answer: str = ""
    tolerance: float = 0.0
    relative: bool = False
    distractors: tuple[Distractor, ...] = ()


@dataclass(frozen=True)
class SimulatedAnswer:
    """One answer: what `services.response_save` takes, plus the misconception followed."""

    choice_ids: tuple[int, ...] = ()
    numeric_value: float | None = None
    text: str = ""
    confidence: int | None = None
    seconds_spent: int = 0
    followed: str | None = field(default=None, compare=False)
    # Explain-it-back: whether the learner can explain the ideas (None for other items).
    explains: bool | None = field(default=None, compare=False)


def rng_for(seed: int, *labels: int | str) -> np.random.Generator:
    """Return a generator for one stream of the run (labels: strings and non-negative ints)."""
    if seed < 0:
        raise ValueError(f"the seed must not be negative, got {seed}")
    words = [zlib.crc32(label.encode()) if isinstance(label, str) else label for label in labels]
    return np.random.default_rng([seed, *words])


def draw_seed(seed: int, *labels: int | str) -> int:
    """Return the seed of an attempt's draw for one stream of the run (reproducible)."""
    return int(rng_for(seed, "draw", *labels).integers(2**62))


def logistic(value: float) -> float:
    """Return 1 / (1 + e^-value)."""
    return 1.0 / (1.0 + math.exp(-value))


def prevalences_draw(seed: int, codes: Iterable[str], model: ClassModel) -> dict[str, float]:
    """Return each misconception's prevalence in the class."""
    return {
        code: float(
            rng_for(seed, "prevalence", code).uniform(model.prevalence_low, model.prevalence_high)
        )
        for code in sorted(codes)
    }


def difficulty_of(seed: int, key: str, model: ClassModel) -> float:
    """Return the difficulty of the question `key` (its slug)."""
    return float(rng_for(seed, "difficulty", key).normal(0.0, model.difficulty_sd))


def learner_draw(
    seed: int, index: int, prevalences: Mapping[str, float], model: ClassModel
) -> tuple[LearnerState, LearnerState]:
    """Return learner `index`'s state before and after teaching."""
    rng = rng_for(seed, "learner", index)
    theta = float(rng.normal(0.0, 1.0))
    held = frozenset(code for code in sorted(prevalences) if rng.random() < prevalences[code])
    kept = frozenset(code for code in sorted(held) if rng.random() >= model.unlearn_probability)
    return LearnerState(theta, held), LearnerState(theta + model.ability_gain, kept)


def _confidence(
    rng: np.random.Generator, *, right: bool, model: ClassModel, learner: LearnerState
) -> int:
    mean = model.confidence_wrong_mean + (model.confidence_gap if right else 0.0)
    if learner.overconfident:
        mean += model.overconfidence_shift
    return int(min(5, max(0, round(float(rng.normal(mean, model.confidence_sd))))))


def _sure(rng: np.random.Generator) -> int:
    return 3 + _index(rng, 3)


def _seconds(rng: np.random.Generator, median: float, model: ClassModel) -> int:
    value = float(rng.lognormal(math.log(median), model.seconds_sigma))
    return int(min(MAX_SECONDS, max(2, round(value))))


def _index(rng: np.random.Generator, size: int) -> int:
    """Return a uniform index below `size` (`rng.integers` is several times slower per call)."""
    return min(size - 1, int(rng.random() * size))


def _pick(rng: np.random.Generator, options: Sequence[Option]) -> Option:
    return options[_index(rng, len(options))]


@functools.lru_cache(maxsize=65536)
def _evaluate(expression: str, parameters: tuple[tuple[str, float], ...]) -> float:
    """Return `expression_evaluate`, memoised: a class meets the same few values often."""
    return expression_evaluate(expression, dict(parameters))


def _one_of(
    rng: np.random.Generator,
    options: Sequence[Option],
    learner: LearnerState,
    p: float,
    model: ClassModel,
) -> tuple[Option, str | None]:
    """Pick one option of a tier: a misconception's lure, else right with probability p."""
    lures = [o for o in options if not o.is_correct and o.codes and o.codes <= learner.held]
    if lures and rng.random() < model.follow_probability:
        lure = _pick(rng, lures)
        return lure, min(lure.codes)
    right = [o for o in options if o.is_correct]
    wrong = [o for o in options if not o.is_correct]
    if right and (rng.random() < p or not wrong):
        return _pick(rng, right), None
    return _pick(rng, wrong), None


def _choice_answer(
    rng: np.random.Generator, learner: LearnerState, item: Item, p: float, model: ClassModel
) -> tuple[tuple[int, ...], bool, str | None]:
    """Return the chosen ids, whether the answer is right, and the misconception followed."""
    if item.qtype == "multiple":
        chosen: list[Option] = []
        followed: str | None = None
        for option in item.options:
            lured = not option.is_correct and option.codes and option.codes <= learner.held
            lure = option.codes if lured else frozenset()
            if option.is_correct:
                ticked = rng.random() < p
            elif lure:
                ticked = rng.random() < model.follow_probability
                if ticked and followed is None:
                    followed = min(lure)
            else:
                ticked = rng.random() < (1 - p) / 4
            if ticked:
                chosen.append(option)
        if not chosen:
            fallback, followed = _one_of(rng, item.options, learner, p, model)
            chosen.append(fallback)
        right = {o.id for o in chosen} == {o.id for o in item.options if o.is_correct}
        return tuple(o.id for o in chosen), right, followed
    tiers = (1, 2) if item.qtype == "twotier" else (1,)
    picks: list[Option] = []
    followed = None
    for tier in tiers:
        pick, code = _one_of(rng, [o for o in item.options if o.tier == tier], learner, p, model)
        picks.append(pick)
        followed = followed or code
    return tuple(o.id for o in picks), all(o.is_correct for o in picks), followed


def _wrong_number(
    rng: np.random.Generator, target: float, avoid: Sequence[float], item: Item
) -> float:
    """Return a number that is neither the answer nor any distractor's value."""
    scale = max(1.0, abs(target))
    candidates = [target * 2, target / 2, target + 0.37 * scale, target - 0.61 * scale, -target]
    candidates += [target * 10, target + 7 * scale]

    def clashes(value: float) -> bool:
        return any(
            within_tolerance(value, taken, tolerance=item.tolerance, relative=item.relative)
            or math.isclose(value, taken, rel_tol=1e-6, abs_tol=1e-9)
            for taken in (target, *avoid)
        )

    usable = [round(c, 6) for c in candidates if not clashes(round(c, 6))]
    if not usable:  # pragma: no cover - the candidates above are far apart
        return target + 1000 * scale
    return usable[_index(rng, len(usable))]


def _numeric_answer(
    rng: np.random.Generator,
    learner: LearnerState,
    item: Item,
    parameters: Mapping[str, float],
    p: float,
    model: ClassModel,
) -> tuple[float, bool, str | None]:
    key = tuple(sorted(parameters.items()))
    target = _evaluate(item.answer, key)
    values: list[tuple[float, frozenset[str]]] = []
    for distractor in item.distractors:
        try:
            values.append((_evaluate(distractor.expression, key), distractor.codes))
        except ExpressionError:
            continue
    lures = [(value, codes) for value, codes in values if codes and codes <= learner.held]
    if lures and rng.random() < model.follow_probability:
        value, codes = lures[_index(rng, len(lures))]
        return value, False, min(codes)
    if rng.random() < p:
        return target, True, None
    return _wrong_number(rng, target, [v for v, _ in values], item), False, None


def _explanation_answer(
    rng: np.random.Generator, learner: LearnerState, item: Item, p: float, model: ClassModel
) -> SimulatedAnswer:
    """An explain-it-back answer: a held belief the item probes is stated (sure), else the
    learner explains the ideas with probability p unless overconfident."""
    beliefs = sorted(code for code in item.probes & learner.held if code != "DO-ILLUSION")
    seconds = _seconds(rng, model.explain_seconds_median, model)
    text = EXPLANATIONS[_index(rng, len(EXPLANATIONS))]
    if beliefs and rng.random() < model.follow_probability:
        followed = beliefs[_index(rng, len(beliefs))]
        return SimulatedAnswer(
            text=text, confidence=_sure(rng), seconds_spent=seconds, followed=followed,
            explains=False,
        )  # fmt: skip
    explains = not learner.overconfident and rng.random() < p
    return SimulatedAnswer(
        text=text,
        confidence=_confidence(rng, right=explains, model=model, learner=learner),
        seconds_spent=seconds,
        explains=explains,
    )


def answer_draw(
    rng: np.random.Generator,
    learner: LearnerState,
    item: Item,
    *,
    difficulty: float,
    parameters: Mapping[str, float] | None = None,
    model: ClassModel,
) -> SimulatedAnswer | None:
    """Return the learner's answer to `item` (None: left unanswered, as for code items)."""
    if item.qtype == "code":
        return None
    p = logistic(learner.theta - difficulty)
    prerequisites = {code for code in item.probes if code.startswith("PRE-")}
    if prerequisites & learner.lacking:
        p = model.lacking_right_probability
    elif prerequisites:
        p = 1.0 - model.prerequisite_slip
    if item.qtype == "explain":
        return _explanation_answer(rng, learner, item, p, model)
    if item.qtype == "numeric":
        value, right, followed = _numeric_answer(rng, learner, item, parameters or {}, p, model)
        choice_ids: tuple[int, ...] = ()
        numeric_value: float | None = value
    else:
        choice_ids, right, followed = _choice_answer(rng, learner, item, p, model)
        numeric_value = None
    confidence = (
        _sure(rng) if followed else _confidence(rng, right=right, model=model, learner=learner)
    )
    return SimulatedAnswer(
        choice_ids=choice_ids,
        numeric_value=numeric_value,
        confidence=confidence,
        seconds_spent=_seconds(rng, model.seconds_median, model),
        followed=followed,
    )
