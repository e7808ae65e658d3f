"""An attempt's results page: each answer with its verdict and what to learn from it, the
explain-backs beside their reading, and the diagnosis of the misconceptions it showed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from assessments.diagnosis import (
    Evidence,
    MisconceptionDiagnosis,
    diagnose,
    strongest_misconception,
)
from assessments.models import (
    Attempt,
    Explanation,
    Misconception,
    NumericDistractor,
    QuestionType,
    Response,
)
from assessments.numeric import expression_evaluate, stem_render
from assessments.selectors import ReadIdea, reading_beliefs, reading_ideas
from core.errors import NotFoundError


@dataclass(frozen=True)
class IdeaResult:
    """A key idea of an explain-back on the results page: the learner's tick beside the
    service's reading."""

    index: int
    text: str
    ticked: bool | None  # None until the learner has done the self-check
    read: ReadIdea | None  # None when the text was not read


@dataclass
class ResultItem:
    """One question after submission: the answer, the verdict, and what to learn from it."""

    slot: int
    qtype: str
    stem: str
    reason_prompt: str
    your_answer: list[str]
    correct_answer: list[str]
    is_answered: bool
    is_correct: bool | None
    mark: Decimal | None
    max_mark: Decimal
    confidence: int | None
    choice_feedback: list[str]
    feedback: str
    misconceptions: list[Misconception]
    model_answer: str = ""
    key_ideas: list[str] = field(default_factory=list)
    self_assessed_ideas: list[int] | None = None
    ideas: list[IdeaResult] = field(default_factory=list)
    is_read: bool = False


@dataclass
class AttemptResult:
    attempt: Attempt
    items: list[ResultItem]
    diagnosis: list[tuple[MisconceptionDiagnosis, Misconception]]
    strongest: tuple[MisconceptionDiagnosis, Misconception] | None
    explanations: dict[str, str]


def _number(value: float) -> str:
    return f"{value:g}"


def _result_item(response: Response, beliefs: Mapping[str, str]) -> ResultItem:
    question = response.question
    choices = list(question.choices.all())
    chosen = [c for c in choices if c in response.selected_choices.all()]
    tiers = (1, 2) if question.qtype == QuestionType.TWO_TIER else (1,)
    correct_answer = [c.text for tier in tiers for c in choices if c.tier == tier and c.is_correct]
    your_answer = [c.text for c in chosen]
    choice_feedback = [c.feedback for c in chosen if c.feedback]
    if question.qtype == QuestionType.NUMERIC:
        target = expression_evaluate(question.answer, response.parameters)
        correct_answer = [f"{_number(target)} {question.unit}".strip()]
        if response.numeric_value is not None:
            your_answer = [f"{_number(response.numeric_value)} {question.unit}".strip()]
            revealed_ids = {m.id for m in response.misconceptions.all()}
            choice_feedback = [
                d.feedback
                for d in question.distractors.all()
                if revealed_ids & {m.id for m in d.misconceptions.all()}
            ]
    if question.qtype == QuestionType.EXPLAIN:
        your_answer = [response.text] if response.text else []
        correct_answer = []
    if question.qtype == QuestionType.CODE:
        latest = max(response.submissions.all(), key=lambda s: s.queued_at, default=None)
        correct_answer = []
        your_answer = []
        if latest is not None:
            score = "" if latest.score is None else f", {latest.score:.0%} of checks passed"
            your_answer = [f"Code submission: {latest.get_status_display().lower()}{score}"]
            choice_feedback = [c["message"] for c in latest.checks if not c.get("passed")]
    return ResultItem(
        slot=response.slot,
        qtype=question.qtype,
        stem=stem_render(question.stem, response.parameters),
        reason_prompt=question.reason_prompt,
        your_answer=your_answer,
        correct_answer=correct_answer,
        is_answered=response.is_answered,
        is_correct=response.is_correct,
        mark=response.mark,
        max_mark=response.max_mark,
        confidence=response.confidence,
        choice_feedback=choice_feedback,
        feedback=question.feedback,
        misconceptions=list(response.misconceptions.all()),
        model_answer=question.model_answer,
        key_ideas=list(question.key_ideas),
        self_assessed_ideas=response.self_assessed_ideas,
        ideas=_result_ideas(response, beliefs),
        is_read=response.reading is not None,
    )


def _result_ideas(response: Response, beliefs: Mapping[str, str]) -> list[IdeaResult]:
    question = response.question
    if question.qtype != QuestionType.EXPLAIN:
        return []
    ticked = response.self_assessed_ideas
    read = reading_ideas(key_ideas=question.key_ideas, reading=response.reading, beliefs=beliefs)
    return [
        IdeaResult(
            index=index,
            text=text,
            ticked=None if ticked is None else index in ticked,
            read=read[index] if read[index].verdict is not None else None,
        )
        for index, text in enumerate(question.key_ideas)
    ]


def response_evidence(response: Response) -> list[Evidence]:
    """Return what one scored (or, for an explain-back, read), answered response says about
    each misconception."""
    if response.is_correct is None or not response.is_answered or response.confidence is None:
        return []
    if response.is_correct:
        return [Evidence(m.code, True, response.confidence) for m in response.question.probes.all()]
    return [Evidence(m.code, False, response.confidence) for m in response.misconceptions.all()]


def attempt_result(*, attempt: Attempt) -> AttemptResult:
    """Return the submitted attempt's per-question feedback and its diagnosis."""
    if not attempt.is_submitted:
        raise NotFoundError("Results appear once the attempt is submitted.", code="not_submitted")
    responses = list(
        attempt.responses.select_related("question").prefetch_related(
            "selected_choices",
            "misconceptions",
            "submissions",
            "question__probes",
            "question__choices",
            Prefetch(
                "question__distractors",
                queryset=NumericDistractor.objects.prefetch_related("misconceptions"),
            ),
        )
    )
    evidence = [item for response in responses for item in response_evidence(response)]
    beliefs = reading_beliefs(r.reading for r in responses if r.reading is not None)
    verdicts = diagnose(evidence)
    catalogue = Misconception.objects.in_bulk([v.code for v in verdicts], field_name="code")
    diagnosis = [(v, catalogue[v.code]) for v in verdicts]
    strongest = strongest_misconception(verdicts)
    explanations = dict(
        Explanation.objects.filter(attempt=attempt).values_list("misconception__code", "text")
    )
    return AttemptResult(
        attempt=attempt,
        items=[_result_item(r, beliefs) for r in responses],
        diagnosis=diagnosis,
        strongest=(strongest, catalogue[strongest.code]) if strongest else None,
        explanations=explanations,
    )
