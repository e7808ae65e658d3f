"""A learner's practice sessions and steps, and a step as the page shows it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import QuerySet

from assessments.models import (
    Choice,
)
from assessments.numeric import stem_render
from assessments.selectors import ShownChoice
from core.errors import ConflictError, NotFoundError
from courses.models import Course
from grader.exercises import EXERCISES
from practice.models import (
    PracticeSession,
    PracticeStep,
)

StepState = PracticeStep.State


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


def step_refusal(
    *, step: PracticeStep, session: PracticeSession, states: Iterable[str]
) -> ConflictError | None:
    """Return why the step takes no more answers (its session ended, or it is in none of
    `states`), or None when it is open."""
    if not session.is_active:
        return ConflictError(
            "This practice session has ended; open practice again to continue.",
            code="session_ended",
        )
    if step.state not in states:
        return ConflictError(
            "This step has already been answered; go on to the next one.", code="already_answered"
        )
    return None


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


def ordered_choices(step: PracticeStep) -> list[Choice]:
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
            for c in ordered_choices(step)
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
