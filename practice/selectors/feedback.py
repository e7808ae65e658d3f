"""The feedback on an answered step: the verdict, the ideas, how mastery moved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, prefetch_related_objects

from assessments.models import (
    Choice,
    Misconception,
    NumericDistractor,
    Question,
    QuestionType,
)
from assessments.numeric import ExpressionError, expression_evaluate, stem_render
from assessments.selectors import ReadIdea, reading_beliefs, reading_ideas
from practice.bkt import BktParams
from practice.explain_back import explain_credit
from practice.fitting import parameters_for
from practice.mastery import mastery_threshold
from practice.models import (
    PracticeStep,
)
from practice.selectors.bank_items import banks_version
from practice.selectors.items import held_questions
from practice.selectors.steps import ordered_choices

Kind = PracticeStep.Kind
StepState = PracticeStep.State
PREREQUISITE_KINDS = frozenset({Kind.PREREQUISITE, Kind.RECHECK})


@dataclass(frozen=True)
class Idea:
    """A misconception (or a prerequisite) explained: what is true, and an everyday picture."""

    code: str
    title: str
    truth: str
    analogy: str

    @classmethod
    def of(cls, misconception: Misconception) -> Idea:
        """Return the idea of a catalogue row."""
        return cls(
            misconception.code, misconception.title, misconception.truth, misconception.analogy
        )


@dataclass(frozen=True)
class MasteryChange:
    """One misconception's P(known) before and after the step, in percent."""

    code: str
    title: str
    before: int | None
    after: int
    mastered: bool

    @property
    def direction(self) -> str:
        """Return "up", "down" or "same"."""
        if self.before is None or self.after == self.before:
            return "same"
        return "up" if self.after > self.before else "down"


@dataclass(frozen=True)
class CheckLine:
    """One check of a graded code submission."""

    id: str
    passed: bool
    message: str
    codes: list[str]


@dataclass(frozen=True)
class Verdict:
    """A graded code submission, as the learner reads it."""

    status: str
    status_label: str
    score_percent: int | None
    message: str
    checks: list[CheckLine]
    output: str


@dataclass(frozen=True)
class IdeaLine:
    """A key idea of an explain-back: whether the learner ticked it, what the service's
    reading saw, whether it is credited (ticked, and found by the reading where there is
    one), and whether a reviewer found it."""

    text: str
    ticked: bool
    found: bool | None = None
    read: ReadIdea | None = None
    credited: bool = False


def idea_lines(step: PracticeStep, beliefs: Mapping[str, str]) -> list[IdeaLine]:
    question = step.prompt
    ticked = set(step.self_assessed_ideas or [])
    found = set(step.review_ideas or [])
    reviewed = step.reviewed_at is not None
    credited = explain_credit(question, ticked, step.reading).credited
    read = reading_ideas(key_ideas=question.key_ideas, reading=step.reading, beliefs=beliefs)
    return [
        IdeaLine(
            text=text,
            ticked=index in ticked,
            found=(index in found) if reviewed else None,
            read=read[index] if read[index].verdict is not None else None,
            credited=index in credited,
        )
        for index, text in enumerate(question.key_ideas)
    ]


@dataclass(frozen=True)
class StepFeedback:
    """A done step: the verdict, the answers, and what to take from it."""

    step: PracticeStep
    kind_label: str
    qtype: str
    stem: str
    is_correct: bool | None
    confidence: int | None
    your_answer: list[str]
    correct_answer: list[str]
    choice_feedback: list[str]
    feedback: str
    revealed: list[Idea]
    lesson: Idea | None
    changes: list[MasteryChange]
    verdict: Verdict | None = None
    code: str = ""
    model_answer: str = ""
    ideas: list[IdeaLine] = field(default_factory=list)
    review_comment: str = ""
    reviewed: bool = False
    # The item is now held for the course's post-test: its answers are not shown.
    held: bool = False

    @property
    def missing_ideas(self) -> list[str]:
        """Return the key ideas the explanation is not credited with."""
        return [idea.text for idea in self.ideas if not idea.credited]

    @property
    def is_read(self) -> bool:
        """Return whether the service read the explanation against the key ideas."""
        return any(idea.read is not None for idea in self.ideas)


def _number(value: float, unit: str) -> str:
    return f"{value:g} {unit}".strip()


def _answers(step: PracticeStep, question: Question) -> tuple[list[str], list[str], list[str]]:
    """Return the learner's answer, the right answer and the feedback on what they chose."""
    if question.qtype == QuestionType.NUMERIC:
        try:
            right = [_number(expression_evaluate(question.answer, step.parameters), question.unit)]
        except ExpressionError:
            right = []
        mine = [] if step.numeric_value is None else [_number(step.numeric_value, question.unit)]
        revealed = {m.id for m in step.revealed.all()}
        said = [
            d.feedback
            for d in question.distractors.all()
            if step.is_correct is False and revealed & {m.id for m in d.misconceptions.all()}
        ]
        return mine, right, said
    if question.qtype in (QuestionType.EXPLAIN, QuestionType.CODE):
        return ([step.text] if step.text else []), [], []
    selected = {c.id for c in step.selected_choices.all()}
    picked = sorted((c for c in ordered_choices(step) if c.id in selected), key=lambda c: c.tier)
    keys = sorted((c for c in question.choices.all() if c.is_correct), key=lambda c: c.tier)
    return (
        [_choice_text(c) for c in picked],
        [_choice_text(c) for c in keys],
        [c.feedback for c in picked if c.feedback],
    )


def _choice_text(choice: Choice) -> str:
    # A two-tier item's second tier is the reason for the first.
    return f"Reason: {choice.text}" if choice.tier == 2 else choice.text


def _verdict(step: PracticeStep) -> Verdict | None:
    submission = step.submission
    if submission is None:
        return None
    checks = [
        CheckLine(
            id=str(check.get("id", "")),
            passed=bool(check.get("passed")),
            message=str(check.get("message", "")),
            codes=[*check.get("misconceptions", []), *check.get("defects", [])],
        )
        for check in submission.checks
        if isinstance(check, dict)
    ]
    return Verdict(
        status=submission.status,
        status_label=submission.get_status_display(),
        score_percent=None if submission.score is None else round(100 * submission.score),
        message=submission.message,
        checks=checks,
        output=submission.output,
    )


def _before_bkt(after: float, correct: bool, params: BktParams) -> float | None:
    """Return P(known) before one answer, undoing `practice.bkt.bkt_update`."""
    if params.learn >= 1:
        return None
    known = min(1.0, max(0.0, (after - params.learn) / (1 - params.learn)))
    if correct:
        top, other = known * params.guess, (1 - known) * (1 - params.slip)
    else:
        top, other = known * (1 - params.guess), (1 - known) * params.slip
    total = top + other
    return top / total if total > 0 else None


def _mastery_changes(step: PracticeStep, titles: Mapping[str, str]) -> list[MasteryChange]:
    """Return each updated code's P(known) before and after the step.

    Before is the value after the learner's latest earlier practice answer on the code; for
    the first one it is worked back from the step's own update (every code a step updates was
    observed right when the step is right and wrong when it is wrong).
    """
    after: dict[str, float] = dict(step.mastery_after or {})
    if not after:
        return []
    earlier = (
        PracticeStep.objects.filter(
            session__course_id=step.session.course_id,
            session__learner_id=step.session.learner_id,
            state=StepState.DONE,
        )
        .filter(
            Q(session_id=step.session_id, number__lt=step.number)
            | Q(session__started_at__lt=step.session.started_at)
        )
        .order_by("-session__started_at", "-number")
        .values_list("mastery_after", flat=True)
    )
    before: dict[str, float] = {}
    for values in earlier.iterator():
        for code, value in (values or {}).items():
            if code in after:
                before.setdefault(code, value)
        if len(before) == len(after):
            break
    unknown = [code for code in after if code not in before]
    if unknown and step.is_correct is not None:
        params = parameters_for(course=step.session.course, codes=unknown)
        for code in unknown:
            value = _before_bkt(after[code], step.is_correct, params[code])
            if value is not None:
                before[code] = value
    threshold = mastery_threshold()
    return [
        MasteryChange(
            code=code,
            title=titles.get(code, code),
            before=round(100 * before[code]) if code in before else None,
            after=round(100 * value),
            mastered=value >= threshold,
        )
        for code, value in sorted(after.items(), key=lambda item: titles.get(item[0], item[0]))
    ]


def step_feedback(*, step: PracticeStep) -> StepFeedback:
    """Return the feedback of a done step: `step` as step_for_learner reads it, with what
    else the feedback shows prefetched onto it (the step is not read again)."""
    prefetch_related_objects(
        [step],
        "submission",
        "reviewed_by",
        "selected_choices",
        "revealed",
        "question__choices",
        Prefetch(
            "question__distractors",
            queryset=NumericDistractor.objects.prefetch_related("misconceptions"),
        ),
    )
    question = step.prompt
    mine, right, said = _answers(step, question)
    course_id = step.session.course_id
    # The post-test's pools come from the cache under the banks' fingerprint.
    held_ids = held_questions(course_ids=[course_id], version=banks_version())[course_id]
    held = step.question_id in held_ids
    revealed = sorted(step.revealed.all(), key=lambda m: m.code)
    lesson: Idea | None = None
    if step.kind in PREREQUISITE_KINDS and step.is_correct is False:
        prerequisites = [m for m in revealed if m.kind == Misconception.Kind.PREREQUISITE]
        target = step.target if step.target and step.target.kind == "prerequisite" else None
        missed = target or (prerequisites[0] if prerequisites else None)
        lesson = Idea.of(missed) if missed else None
    titles = dict(
        Misconception.objects.filter(code__in=list(step.mastery_after or {})).values_list(
            "code", "title"
        )
    )
    reviewed = step.reviewed_at is not None
    return StepFeedback(
        step=step,
        kind_label=step.get_kind_display(),
        qtype=question.qtype,
        stem=stem_render(question.stem, step.parameters),
        is_correct=step.is_correct,
        confidence=step.confidence,
        your_answer=mine,
        correct_answer=[] if held else right,
        choice_feedback=[] if held else said,
        feedback="" if held else question.feedback,
        revealed=[Idea.of(m) for m in revealed if lesson is None or m.code != lesson.code],
        lesson=lesson,
        changes=_mastery_changes(step, titles),
        verdict=_verdict(step),
        code=step.submission.code if step.submission else "",
        model_answer="" if held else question.model_answer,
        ideas=idea_lines(step, reading_beliefs([step.reading]))
        if question.qtype == QuestionType.EXPLAIN
        else [],
        review_comment=step.review_comment,
        reviewed=reviewed,
        held=held,
    )


def step_status(*, step: PracticeStep) -> dict[str, Any]:
    """Return the step's state as the grading page polls it; `could_not_grade` when its
    code came back without a verdict (the step takes code again)."""
    return {
        "state": step.state,
        "finished": step.state == StepState.DONE,
        "could_not_grade": step.state == StepState.OPEN and step.submission_id is not None,
    }
