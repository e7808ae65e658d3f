"""Does the diagnosis find what learners believe? Simulated learners with known beliefs
take the pre- and post-test through the real services; their results pages and the
instructor heatmap are compared with the truth.

The truth
=========

Each simulated learner has an ability theta ~ N(0, 1) and, independently:
- holds each misconception of the catalogue (the DO-* codes but DO-ILLUSION) with
  probability `prevalence` (0.3);
- has the illusion of understanding (DO-ILLUSION) with probability `illusion_prevalence`
  (0.3): their confidence runs ahead of their knowledge;
- lacks each prerequisite (the PRE-* codes) with probability `lacking_prevalence` (0.2).
The same learner, with the same truth, takes both forms, so the two forms are compared on
the same class.

How they answer
===============

The response model is `analytics.simulation`'s (its docstring has every rule), written
apart from the diagnosis: it looks at the options' tags and the learner's state, never at
`assessments.diagnosis` or `assessments.scoring`. In short: a holder picks an option tagged
with a belief they hold with probability 0.85 and rates it 3-5; otherwise they answer by
ability (right with probability logistic(theta - difficulty)), with confidence around 1.5
when wrong and 3.0 when right (1.5 higher for an overconfident learner); a lacking
prerequisite leaves a 0.15 chance of a right answer (one who has it slips 1 time in 10).
On the explain-it-back item a holder of a belief the item probes states it (sure), else the
learner explains the ideas with probability p unless overconfident; `explanation_for` then
takes the text from the hand-labelled explanations (fixtures/explanations_labelled.json):
one that states that belief, a complete one, or a partial, vague or circular one.

What is compared
================

Per form and per code, over the learners with evidence on it:
- the results page (`assessments.results.attempt_result`): a misconception is diagnosed
  when its CRI quadrant is "misconception" (wrong and sure); a prerequisite is diagnosed
  lacking when its quadrant is "misconception" or "gap" (any wrong answer);
- sensitivity = diagnosed holders / holders with evidence; specificity = undiagnosed
  non-holders / non-holders with evidence; no evidence = share of all learners on whom
  the attempt says nothing either way;
- the instructor heatmap (`analytics.misconceptions.course_misconceptions`) must give each
  learner the same quadrant as their results page: its agreement is reported.

Everything runs in one transaction that is rolled back, so a run leaves nothing behind.

Limits
======

Learners here behave as the model says: beliefs are independent, a belief shows only
through options tagged with it, confidence follows the CRI's assumption (sure when holding
a belief), and difficulty is one number per item. Real learners hold beliefs partially and
inconsistently, mix them up, and rate confidence with their own habits, so real sensitivity
and specificity will be lower. The figures say whether the items and rules CAN recover
beliefs that behave as the CRI assumes, and where they cannot.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from analytics.misconceptions import course_misconceptions
from analytics.simulated_class import ItemCache, attempt_simulate, course_quizzes_ensure
from analytics.simulation import ClassModel, LearnerState, SimulatedAnswer, rng_for
from assessments.catalog import FIXTURES_DIR
from assessments.diagnosis import Quadrant
from assessments.explanation_agreement import Labelled, corpus_parse
from assessments.models import Misconception, Question
from assessments.results import attempt_result
from courses.models import Course, Enrollment

ILLUSION = "DO-ILLUSION"
CORPUS = FIXTURES_DIR / "explanations_labelled.json"
VAGUE_EXPLANATIONS = (
    "Dropout drops out neurons so the network works better.",
    "It is a technique that makes neural networks better by using dropout.",
    "Dropout is when you drop things out during training, which helps.",
)


@dataclass(frozen=True)
class ValidationSettings:
    """The size of the run and the truth's parameters (see the module docstring)."""

    learners: int
    seed: int
    prevalence: float = 0.3
    illusion_prevalence: float = 0.3
    lacking_prevalence: float = 0.2
    model: ClassModel = field(default_factory=ClassModel)

    def __post_init__(self) -> None:
        if self.learners < 1:
            raise ValueError(f"learners must be at least 1, got {self.learners}")
        for name in ("prevalence", "illusion_prevalence", "lacking_prevalence"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability, got {value}")


@dataclass(frozen=True)
class Truth:
    """One simulated learner: the state that answers, and the codes that are true of them."""

    state: LearnerState
    codes: frozenset[str]


def truth_draw(index: int, settings: ValidationSettings, codes: list[str]) -> Truth:
    """Return learner `index`'s ability and beliefs, from the run's seed."""
    rng = rng_for(settings.seed, "validation-learner", index)
    theta = float(rng.normal(0.0, 1.0))
    beliefs = [c for c in codes if c.startswith("DO-") and c != ILLUSION]
    held = frozenset(c for c in beliefs if rng.random() < settings.prevalence)
    overconfident = ILLUSION in codes and rng.random() < settings.illusion_prevalence
    lacking = frozenset(
        c for c in codes if c.startswith("PRE-") and rng.random() < settings.lacking_prevalence
    )
    state = LearnerState(theta=theta, held=held, lacking=lacking, overconfident=overconfident)
    true_codes = held | lacking | ({ILLUSION} if overconfident else frozenset())
    return Truth(state=state, codes=frozenset(true_codes))


@functools.cache
def _explanations() -> dict[str, list[Labelled]]:
    """The hand-labelled explanations, by explain item (fixtures/explanations_labelled.json)."""
    corpus = corpus_parse(json.loads(CORPUS.read_text(encoding="utf-8")))
    by_item: dict[str, list[Labelled]] = defaultdict(list)
    for labelled in corpus:
        by_item[labelled.item].append(labelled)
    return dict(by_item)


def _contradicted(labelled: Labelled) -> frozenset[str]:
    return frozenset(code for _, codes in labelled.labels for code in codes)


def explanation_for(question: Question, answer: SimulatedAnswer, rng: np.random.Generator) -> str:
    """Return what the learner writes for an explain-it-back item, from the hand-labelled
    explanations of that item: one stating the belief the response model says they state
    (and no other), a complete one when they can explain, else a partial, vague or circular
    one. Where the corpus has none of the kind, the catalogue's statement of the belief,
    the model answer or a stock sentence stands in."""
    texts = _explanations().get(question.slug, [])
    if answer.followed:
        pool = [t for t in texts if _contradicted(t) == {answer.followed}]
        if not pool:  # no labelled text states this belief alone: state it as catalogued
            return str(
                Misconception.objects.values_list("belief", flat=True).get(code=answer.followed)
            )
    elif answer.explains:
        pool = [t for t in texts if t.is_right and not _contradicted(t)]
        if not pool:
            return question.model_answer
    else:
        pool = [t for t in texts if not t.is_right and not _contradicted(t)]
    if not pool:
        return VAGUE_EXPLANATIONS[int(rng.integers(len(VAGUE_EXPLANATIONS)))]
    return pool[int(rng.integers(len(pool)))].text


@dataclass
class Tally:
    """Counts for one (form, code): holders and non-holders, diagnosed or not, or silent."""

    holders: int = 0
    true_positive: int = 0
    false_negative: int = 0
    holders_silent: int = 0
    false_positive: int = 0
    true_negative: int = 0
    others_silent: int = 0

    def add(self, *, holds: bool, diagnosed: bool | None) -> None:
        """Count one learner: `diagnosed` is None when there was no evidence."""
        if holds:
            self.holders += 1
            if diagnosed is None:
                self.holders_silent += 1
            elif diagnosed:
                self.true_positive += 1
            else:
                self.false_negative += 1
        elif diagnosed is None:
            self.others_silent += 1
        elif diagnosed:
            self.false_positive += 1
        else:
            self.true_negative += 1

    @property
    def sensitivity(self) -> float | None:
        judged = self.true_positive + self.false_negative
        return self.true_positive / judged if judged else None

    @property
    def specificity(self) -> float | None:
        judged = self.true_negative + self.false_positive
        return self.true_negative / judged if judged else None

    @property
    def no_evidence(self) -> float | None:
        total = self.holders + self.false_positive + self.true_negative + self.others_silent
        return (self.holders_silent + self.others_silent) / total if total else None


def _diagnosed(code: str, quadrant: Quadrant | None) -> bool | None:
    if quadrant is None:
        return None
    if code.startswith("PRE-"):
        return quadrant in (Quadrant.MISCONCEPTION, Quadrant.GAP)
    return quadrant == Quadrant.MISCONCEPTION


@dataclass
class FormReport:
    """What one form's attempts showed: tallies per code and the heatmap's agreement."""

    quiz: str
    tallies: dict[str, Tally]
    heatmap_cells: int = 0
    heatmap_agreeing: int = 0


@dataclass
class ValidationReport:
    settings: dict[str, Any]
    forms: dict[str, FormReport]
    codes: list[str]

    def rows(self) -> list[dict[str, Any]]:
        """One row per (form, code), in catalogue order."""
        rows = []
        for form, report in self.forms.items():
            for code in self.codes:
                tally = report.tallies[code]
                rows.append(
                    {
                        "form": form,
                        "code": code,
                        "holders": tally.holders,
                        "sensitivity": tally.sensitivity,
                        "specificity": tally.specificity,
                        "no_evidence": tally.no_evidence,
                    }
                )
        return rows

    def summary(self) -> dict[str, Any]:
        """The run as one JSON-serialisable object (the command's last line)."""
        return {
            "settings": self.settings,
            "rows": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.rows()
            ],
            "heatmap_agreement": {
                form: (r.heatmap_agreeing / r.heatmap_cells if r.heatmap_cells else None)
                for form, r in self.forms.items()
            },
        }

    def table(self) -> str:
        """The per-code table, both forms side by side, as plain text."""

        def fmt(value: float | None) -> str:
            return "   -" if value is None else f"{value:4.2f}"

        forms = list(self.forms)
        head = "code          holders " + "  ".join(f"| {form}: sens spec none" for form in forms)
        lines = [head, "-" * len(head)]
        for code in self.codes:
            holders = self.forms[forms[0]].tallies[code].holders
            cells = "  ".join(
                f"| {' ' * (len(form) - 1)}  {fmt(t.sensitivity)} {fmt(t.specificity)} "
                f"{fmt(t.no_evidence)}"
                for form in forms
                for t in [self.forms[form].tallies[code]]
            )
            lines.append(f"{code:<13} {holders:>7} {cells}")
        for form in forms:
            report = self.forms[form]
            share = report.heatmap_agreeing / report.heatmap_cells if report.heatmap_cells else 0
            lines.append(
                f"heatmap agrees with the results pages on {report.heatmap_agreeing} of "
                f"{report.heatmap_cells} learner x code cells ({share:.1%}) on {form}"
            )
        return "\n".join(lines)


class _Rollback(Exception):
    """Raised to undo a validation run's writes."""


def validate_diagnosis(
    settings: ValidationSettings, *, progress: Callable[[int], None] | None = None
) -> ValidationReport:
    """Simulate `settings.learners` learners through both forms and compare; write nothing."""
    report: ValidationReport | None = None
    try:
        with transaction.atomic():
            report = _run(settings, progress)
            raise _Rollback
    except _Rollback:
        pass
    assert report is not None  # set before the rollback
    return report


def _run(settings: ValidationSettings, progress: Callable[[int], None] | None) -> ValidationReport:
    codes = list(Misconception.objects.order_by("kind", "code").values_list("code", flat=True))
    course = Course.objects.create(
        slug=f"diagnosis-validation-{settings.seed}", title="Diagnosis validation (rolled back)"
    )
    pre, post = course_quizzes_ensure(course)
    forms = {"pre-test (A)": pre, "post-test (B)": post}
    learners = [
        User(username=f"validation-{settings.seed}-{index}")
        for index in range(1, settings.learners + 1)
    ]
    User.objects.bulk_create(learners)
    learners = list(
        User.objects.filter(username__startswith=f"validation-{settings.seed}-").order_by("id")
    )
    Enrollment.objects.bulk_create(
        Enrollment(course=course, learner=learner, source=Enrollment.Source.SIMULATED)
        for learner in learners
    )
    cache = ItemCache(seed=settings.seed, model=settings.model)
    reports = {form: FormReport(quiz=quiz.slug, tallies={c: Tally() for c in codes})
               for form, quiz in forms.items()}  # fmt: skip
    started = timezone.now() - timedelta(days=1)
    quadrants: dict[str, dict[tuple[int, str], str]] = defaultdict(dict)
    for index, learner in enumerate(learners):
        truth = truth_draw(index, settings, codes)
        for form, quiz in forms.items():
            attempt = attempt_simulate(
                quiz=quiz,
                learner=learner,
                state=truth.state,
                stream=("validation", quiz.role, index),
                cache=cache,
                started_at=started,
                explanation=explanation_for,
            )
            result = attempt_result(attempt=attempt)
            found = {verdict.code: verdict.quadrant for verdict, _ in result.diagnosis}
            for code in codes:
                quadrant = found.get(code)
                reports[form].tallies[code].add(
                    holds=code in truth.codes, diagnosed=_diagnosed(code, quadrant)
                )
                if quadrant is not None:
                    quadrants[form][(learner.id, code)] = quadrant.value
        if progress is not None:
            progress(index + 1)
    for form, quiz in forms.items():
        heatmap = course_misconceptions(
            course=course, quiz=quiz, page_size=max(1, settings.learners), fresh=True
        )
        cells = {(cell["learner"], cell["code"]): cell["quadrant"] for cell in heatmap["cells"]}
        keys = set(cells) | set(quadrants[form])
        reports[form].heatmap_cells = len(keys)
        reports[form].heatmap_agreeing = sum(
            1 for key in keys if cells.get(key) == quadrants[form].get(key)
        )
    shown = asdict(settings)
    shown["model"] = asdict(settings.model)
    return ValidationReport(settings=shown, forms=reports, codes=codes)


def report_json(report: ValidationReport) -> str:
    """Return the report's summary as one line of JSON."""
    return json.dumps(report.summary(), sort_keys=True)


__all__ = [
    "Truth",
    "ValidationReport",
    "ValidationSettings",
    "explanation_for",
    "report_json",
    "truth_draw",
    "validate_diagnosis",
]
