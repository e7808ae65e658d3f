"""Reads of guided practice for the learner's pages: the step as shown, its feedback, the
progress on the session's agenda, confidence calibration and the summary of a session.

Every function here costs a fixed number of queries, however long the session has run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet

from assessments.models import (
    Choice,
    Misconception,
    NumericDistractor,
    Question,
    QuestionType,
    Response,
)
from assessments.numeric import ExpressionError, expression_evaluate, stem_render
from assessments.selectors import ReadIdea, ShownChoice, reading_beliefs, reading_ideas
from core.errors import NotFoundError
from courses.models import Course
from grader.exercises import EXERCISES
from practice.bkt import BktParams
from practice.fitting import parameters_for
from practice.models import Mastery, PracticeItem, PracticeSession, PracticeStep
from practice.services import explain_credit, held_questions, mastery_threshold

Kind = PracticeStep.Kind
StepState = PracticeStep.State
PREREQUISITE_KINDS = frozenset({Kind.PREREQUISITE, Kind.RECHECK})
CONFIDENCE_LEVELS = range(6)
CONFIDENCE_NAMES = dict(Response.CONFIDENCE_SCALE)
# Within this many percentage points, confidence and results are taken to agree.
CALIBRATED_WITHIN = 5


# Courses


@dataclass(frozen=True)
class CourseCard:
    """One course on the learner's practice list."""

    course: Course
    mastered: int
    total: int
    has_active_session: bool
    is_instructor: bool


def _practice_codes(course_ids: list[int]) -> dict[int, set[str]]:
    """Return, per course, the codes its enabled practice items probe (explain-backs and
    the items held for the post-test aside)."""
    disabled = set(
        PracticeItem.objects.filter(course_id__in=course_ids, is_enabled=False).values_list(
            "course_id", "question_id"
        )
    )
    for course_id, held in held_questions(course_ids=course_ids).items():
        disabled.update((course_id, question_id) for question_id in held)
    probes = list(
        Question.probes.through.objects.exclude(question__qtype=QuestionType.EXPLAIN).values_list(
            "question_id", "misconception__code"
        )
    )
    return {
        course_id: {
            code for question_id, code in probes if (course_id, question_id) not in disabled
        }
        for course_id in course_ids
    }


def practice_courses(*, learner: User) -> list[CourseCard]:
    """Return the courses the learner is enrolled in or teaches, with their mastery so far."""
    courses = list(
        Course.objects.filter(Q(enrollments__learner=learner) | Q(instructors=learner))
        .distinct()
        .order_by("title")
    )
    ids = [course.id for course in courses]
    taught = set(learner.courses_taught.filter(id__in=ids).values_list("id", flat=True))
    codes = _practice_codes(ids)
    mastered: dict[int, set[str]] = defaultdict(set)
    for course_id, code in Mastery.objects.filter(
        learner=learner, course_id__in=ids, p_known__gte=mastery_threshold()
    ).values_list("course_id", "misconception__code"):
        mastered[course_id].add(code)
    active = set(
        PracticeSession.objects.filter(
            learner=learner, course_id__in=ids, state=PracticeSession.State.ACTIVE
        ).values_list("course_id", flat=True)
    )
    return [
        CourseCard(
            course=course,
            mastered=len(mastered[course.id] & codes[course.id]),
            total=len(codes[course.id]),
            has_active_session=course.id in active,
            is_instructor=course.id in taught,
        )
        for course in courses
    ]


def practice_course(*, course_id: int, user: User) -> Course:
    """Return the course if `user` may practise in it (enrolled, teaching or a superuser)."""
    courses = Course.objects.filter(id=course_id)
    if not user.is_superuser:
        courses = courses.filter(Q(enrollments__learner=user) | Q(instructors=user)).distinct()
    course = courses.first()
    if course is None:
        raise NotFoundError("No such course.", fields={"course": "No such course."})
    return course


# Sessions and steps


def session_latest(*, course: Course, learner: User) -> PracticeSession | None:
    """Return the learner's session in progress, else their most recent one, else None."""
    sessions = PracticeSession.objects.filter(course=course, learner=learner)
    active = sessions.filter(state=PracticeSession.State.ACTIVE).first()
    return active or sessions.order_by("-started_at", "-id").first()


def _steps() -> QuerySet[PracticeStep]:
    return PracticeStep.objects.select_related("session__course", "question", "target")


def step_pending(*, session: PracticeSession) -> PracticeStep | None:
    """Return the session's step still waiting for an answer, grading or a self-check."""
    return (
        _steps()
        .prefetch_related("question__choices")
        .filter(session=session)
        .exclude(state=StepState.DONE)
        .first()
    )


def step_for_learner(*, step_id: int, learner: User) -> PracticeStep:
    """Return the learner's own step; anyone else's looks like no step at all."""
    step = (
        _steps()
        .prefetch_related("question__choices")
        .filter(id=step_id, session__learner=learner)
        .first()
    )
    if step is None:
        raise NotFoundError("No such practice step.", fields={"step": "No such step."})
    return step


def session_for_learner(*, session_id: int, learner: User) -> PracticeSession:
    """Return the learner's own session; anyone else's looks like no session at all."""
    session = (
        PracticeSession.objects.select_related("course")
        .filter(id=session_id, learner=learner)
        .first()
    )
    if session is None:
        raise NotFoundError("No such practice session.", fields={"session": "No such session."})
    return session


@dataclass(frozen=True)
class ShownStep:
    """A step as the learner sees it before answering: the question without its answers.

    The fields the question form needs have the names of `assessments.selectors.ShownQuestion`,
    so the quiz's question fields render it.
    """

    id: int
    number: int
    kind: str
    kind_label: str
    state: str
    reason: str
    qtype: str
    stem: str
    reason_prompt: str
    unit: str
    choices: list[ShownChoice]
    numeric_value: float | None
    text: str
    confidence: int | None
    exercise: str = ""
    exercise_title: str = ""
    starter_code: str = ""
    key_ideas: list[str] = field(default_factory=list)
    # A code step given back after its verdict could not be applied: the code sent.
    ungraded_code: str | None = None


def _ordered_choices(step: PracticeStep) -> list[Choice]:
    if step.question is None:  # a catalogue prompt: a written answer
        return []
    options = {c.id: c for c in step.question.choices.all()}
    shown = [options[i] for i in step.choice_order if i in options]
    return shown if shown else list(options.values())


def step_shown(
    *,
    step: PracticeStep,
    selected: Iterable[int] = (),
    confidence: int | None = None,
) -> ShownStep:
    """Return the step's question as shown; `selected` and `confidence` refill a posted form."""
    question = step.prompt
    chosen = set(selected)
    exercise = EXERCISES.get(question.exercise) if question.exercise else None
    # An open step with a submission: its code came back without a verdict.
    ungraded = step.submission if step.state == StepState.OPEN and step.submission_id else None
    return ShownStep(
        id=step.id,
        number=step.number,
        kind=step.kind,
        kind_label=step.get_kind_display(),
        state=step.state,
        reason=step.reason,
        qtype=question.qtype,
        stem=stem_render(question.stem, step.parameters),
        reason_prompt=question.reason_prompt,
        unit=question.unit,
        choices=[
            ShownChoice(id=c.id, text=c.text, tier=c.tier, selected=c.id in chosen)
            for c in _ordered_choices(step)
        ],
        numeric_value=step.numeric_value,
        text=step.text,
        confidence=confidence if confidence is not None else step.confidence,
        exercise=question.exercise,
        exercise_title=exercise.title if exercise else question.exercise,
        starter_code=exercise.starter_code if exercise else "",
        key_ideas=list(question.key_ideas),
        ungraded_code=None if ungraded is None else ungraded.code,
    )


# Progress


@dataclass(frozen=True)
class CodeProgress:
    """One agenda misconception: how likely the learner now holds the right idea."""

    code: str
    title: str
    is_prerequisite: bool
    percent: int
    mastered: bool
    steps: int


@dataclass(frozen=True)
class Progress:
    """The session's agenda, misconception by misconception."""

    items: list[CodeProgress]
    mastered: int
    total: int
    steps_done: int
    threshold_percent: int

    @property
    def percent(self) -> int:
        """Return the share of the agenda mastered, in percent."""
        return round(100 * self.mastered / self.total) if self.total else 100


def session_progress(*, session: PracticeSession) -> Progress:
    """Return P(known) and the answers so far for every code on the session's agenda."""
    codes = list(session.agenda)
    threshold = mastery_threshold()
    catalogue = {
        m.code: m
        for m in Misconception.objects.filter(code__in=codes).only("code", "title", "kind")
    }
    p_known = dict(
        Mastery.objects.filter(
            course_id=session.course_id,
            learner_id=session.learner_id,
            misconception__code__in=codes,
        ).values_list("misconception__code", "p_known")
    )
    answered = list(
        PracticeStep.objects.filter(session=session, state=StepState.DONE).values_list(
            "mastery_after", flat=True
        )
    )
    steps_on: dict[str, int] = defaultdict(int)
    for after in answered:
        for code in after or {}:
            steps_on[code] += 1
    items = []
    for code in codes:
        misconception = catalogue.get(code)
        p = p_known.get(code, 0.0)
        items.append(
            CodeProgress(
                code=code,
                title=misconception.title if misconception else code,
                is_prerequisite=bool(
                    misconception and misconception.kind == Misconception.Kind.PREREQUISITE
                ),
                percent=round(100 * p),
                mastered=p >= threshold,
                steps=steps_on[code],
            )
        )
    return Progress(
        items=items,
        mastered=sum(item.mastered for item in items),
        total=len(items),
        steps_done=len(answered),
        threshold_percent=round(100 * threshold),
    )


# Calibration


@dataclass(frozen=True)
class CalibrationLevel:
    """The answers given at one confidence level and how many were right."""

    confidence: int
    answers: int
    right: int

    @property
    def label(self) -> str:
        """Return the level as the confidence slider names it ("4 - almost certain")."""
        return CONFIDENCE_NAMES.get(self.confidence, str(self.confidence))

    @property
    def percent_right(self) -> int | None:
        """Return the share right at this level, in percent (None without answers)."""
        return round(100 * self.right / self.answers) if self.answers else None


@dataclass(frozen=True)
class Calibration:
    """How sure the learner was against how often they were right."""

    levels: list[CalibrationLevel]
    answers: int
    right: int
    mean_confidence_right: float | None
    mean_confidence_wrong: float | None
    # mean(confidence / 5) - share right, in percentage points: above 0 is over-confidence.
    gap_points: int | None
    sentence: str

    @property
    def percent_right(self) -> int | None:
        """Return the share of answers that were right, in percent."""
        return round(100 * self.right / self.answers) if self.answers else None

    @property
    def percent_sure(self) -> int | None:
        """Return the mean confidence as a share of certainty, in percent."""
        if not self.answers:
            return None
        total = sum(level.confidence * level.answers for level in self.levels)
        return round(100 * total / (5 * self.answers))


def _calibration_sentence(gap: int | None) -> str:
    if gap is None:
        return "No answers with a verdict yet, so there is nothing to compare."
    if gap >= CALIBRATED_WITHIN:
        return f"You were more sure than right by {gap} points."
    if gap <= -CALIBRATED_WITHIN:
        return f"You were right more often than you were sure, by {-gap} points: trust yourself."
    return "Your confidence matched how often you were right."


def _mean(pairs: Iterable[tuple[int, int]]) -> float | None:
    pairs = list(pairs)
    count = sum(n for _, n in pairs)
    return round(sum(c * n for c, n in pairs) / count, 1) if count else None


def calibration_of(steps: QuerySet[PracticeStep]) -> Calibration:
    """Return the calibration of the steps that have a verdict and a confidence rating.

    An explain-back counts as right when it is credited with every key idea (ticked, and
    found by the reading where the item has one).
    """
    rows = (
        steps.filter(state=StepState.DONE, is_correct__isnull=False, confidence__isnull=False)
        .values("confidence")
        .annotate(answers=Count("id"), right=Count("id", filter=Q(is_correct=True)))
    )
    by_level = {row["confidence"]: row for row in rows}
    levels = [
        CalibrationLevel(
            confidence=level,
            answers=by_level[level]["answers"] if level in by_level else 0,
            right=by_level[level]["right"] if level in by_level else 0,
        )
        for level in CONFIDENCE_LEVELS
    ]
    answers = sum(level.answers for level in levels)
    right = sum(level.right for level in levels)
    gap: int | None = None
    if answers:
        sure = sum(level.confidence * level.answers for level in levels) / (5 * answers)
        gap = round(100 * (sure - right / answers))
    return Calibration(
        levels=levels,
        answers=answers,
        right=right,
        mean_confidence_right=_mean((lv.confidence, lv.right) for lv in levels),
        mean_confidence_wrong=_mean((lv.confidence, lv.answers - lv.right) for lv in levels),
        gap_points=gap,
        sentence=_calibration_sentence(gap),
    )


def session_calibration(*, session: PracticeSession) -> Calibration:
    """Return the calibration of one session's answers."""
    return calibration_of(PracticeStep.objects.filter(session=session))


def course_calibration(*, course_id: int, learner_id: int) -> Calibration:
    """Return the calibration of all the learner's practice answers in the course."""
    return calibration_of(
        PracticeStep.objects.filter(session__course_id=course_id, session__learner_id=learner_id)
    )


# Feedback


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


def _idea_lines(step: PracticeStep, beliefs: Mapping[str, str]) -> list[IdeaLine]:
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
    picked = sorted((c for c in _ordered_choices(step) if c.id in selected), key=lambda c: c.tier)
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
    """Return the feedback of a done step."""
    step = (
        PracticeStep.objects.select_related(
            "session__course", "question", "target", "submission", "reviewed_by"
        )
        .prefetch_related(
            "selected_choices",
            "revealed",
            "question__choices",
            Prefetch(
                "question__distractors",
                queryset=NumericDistractor.objects.prefetch_related("misconceptions"),
            ),
        )
        .get(id=step.id)
    )
    question = step.prompt
    mine, right, said = _answers(step, question)
    course_id = step.session.course_id
    held = step.question_id in held_questions(course_ids=[course_id])[course_id]
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
        ideas=_idea_lines(step, reading_beliefs([step.reading]))
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


# Summary


@dataclass(frozen=True)
class Explained:
    """One explain-back of the session: the text, the ideas ticked and any review."""

    number: int
    stem: str
    text: str
    ideas: list[IdeaLine]
    reviewed: bool
    review_comment: str
    reviewer: str

    @property
    def complete(self) -> bool:
        """Return whether the explanation is credited with every key idea."""
        return all(idea.credited for idea in self.ideas)

    @property
    def is_read(self) -> bool:
        """Return whether the service read the explanation against the key ideas."""
        return any(idea.read is not None for idea in self.ideas)


@dataclass(frozen=True)
class SessionSummary:
    """A finished or stopped session: what is settled, what is not, and how sure they were."""

    session: PracticeSession
    progress: Progress
    settled: list[CodeProgress]
    still_open: list[CodeProgress]
    calibration: Calibration
    course_calibration: Calibration
    explanations: list[Explained]


def session_summary(*, session: PracticeSession) -> SessionSummary:
    """Return the summary of a session (meant for finished and stopped ones)."""
    progress = session_progress(session=session)
    explains = (
        PracticeStep.objects.filter(
            session=session, kind=Kind.EXPLAIN_BACK, self_assessed_ideas__isnull=False
        )
        .select_related("question", "target", "reviewed_by")
        .order_by("number")
    )
    explanations = []
    steps = list(explains)
    beliefs = reading_beliefs(step.reading for step in steps)
    for step in steps:
        question = step.prompt
        reviewed = step.reviewed_at is not None
        reviewer = step.reviewed_by
        explanations.append(
            Explained(
                number=step.number,
                stem=question.stem,
                text=step.text,
                ideas=_idea_lines(step, beliefs),
                reviewed=reviewed,
                review_comment=step.review_comment,
                reviewer=(reviewer.get_full_name() or reviewer.username) if reviewer else "",
            )
        )
    return SessionSummary(
        session=session,
        progress=progress,
        settled=[item for item in progress.items if item.mastered],
        still_open=[item for item in progress.items if not item.mastered],
        calibration=session_calibration(session=session),
        course_calibration=course_calibration(
            course_id=session.course_id, learner_id=session.learner_id
        ),
        explanations=explanations,
    )
