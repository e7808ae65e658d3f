"""Writes of guided practice: open a session, answer a step, stop, review, configure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.answers import CONFIDENCE_MESSAGE, MAX_TEXT_LENGTH, AnswerInput, answer_validate
from assessments.models import (
    Choice,
    Misconception,
    NumericDistractor,
    QuestionType,
)
from assessments.scoring import code_outcome, explanation_reading, response_outcome
from core.errors import ApplicationError, NotFoundError
from courses.models import Course
from courses.selectors import takes_part_as_preview
from grader.services import submission_create
from practice import policy
from practice.evidence import observations_of
from practice.explain_back import (
    explain_credit,
    explanation_validate,
    ideas_validate,
    missing_idea_codes,
)
from practice.mastery import masteries, mastery_apply, mastery_threshold
from practice.models import (
    PracticeSession,
    PracticeStep,
)
from practice.next_step import Known, session_advance
from practice.selectors.bank_items import banks_version, question_answerable
from practice.selectors.items import (
    agenda_codes,
    held_questions,
    practice_items,
)
from practice.selectors.steps import step_refusal

Kind = PracticeStep.Kind
StepState = PracticeStep.State
ILLUSION = "DO-ILLUSION"


def _access(course: Course, learner: User) -> bool:
    """Return whether `learner` practises as a preview; refuse anyone outside the course."""
    preview = takes_part_as_preview(course=course, user=learner)
    if preview is None:
        raise NotFoundError("No such course.", fields={"course": "No such course."})
    return preview


@transaction.atomic
def session_open(*, course: Course, learner: User, now: datetime | None = None) -> PracticeSession:
    """Return the learner's session in progress, or start one on what they have not mastered."""
    now = now or timezone.now()
    preview = _access(course, learner)
    active = PracticeSession.objects.filter(
        course=course, learner=learner, state=PracticeSession.State.ACTIVE
    ).first()
    if active is not None:
        session_held_withdraw(active, held_questions(course_ids=[course.id])[course.id], now)
        return active
    version = banks_version()
    items = practice_items(course=course, version=version)
    codes = agenda_codes(items)
    # Every code the items probe, not only the agenda's: the first step's choice reads them.
    rows = masteries(course, learner, [*codes, *(code for item in items for code in item.probes)])
    threshold = mastery_threshold()
    agenda = [code for code in codes if code in rows and rows[code].p_known < threshold]
    try:
        with transaction.atomic():
            session = PracticeSession.objects.create(
                course=course, learner=learner, is_preview=preview, agenda=agenda, started_at=now
            )
    except IntegrityError:
        # A concurrent request opened one first.
        return PracticeSession.objects.get(
            course=course, learner=learner, state=PracticeSession.State.ACTIVE
        )
    session_advance(session, now, Known(version, items, rows))
    return session


def session_held_withdraw(session: PracticeSession, held: set[int], now: datetime) -> None:
    """Replace the session's unanswered step if its item is now held for the post-test (it
    was chosen before the course had one, or while its items were in use)."""
    pending = session.steps.filter(state=StepState.OPEN, question_id__in=held)
    if pending.exists():
        pending.delete()
        session_advance(session, now, Known.read(session, banks_version()))


def _locked_step(step_id: int, learner: User) -> tuple[PracticeStep, PracticeSession]:
    """Lock the learner's session of the step, then read the step (fresh, under the lock)."""
    session = (
        PracticeSession.objects.select_for_update(of=("self",))
        .select_related("course", "learner")
        .filter(learner=learner, steps__id=step_id)
        .first()
    )
    step = (
        PracticeStep.objects.select_related("question", "target").filter(id=step_id).first()
        if session is not None
        else None
    )
    if session is None or step is None:
        raise NotFoundError("No such practice step.", fields={"step": "No such step."})
    step.session = session
    return step, session


def _refuse_unless_open(step: PracticeStep, session: PracticeSession, *states: str) -> None:
    refusal = step_refusal(step=step, session=session, states=states)
    if refusal is not None:
        raise refusal


def _confidence_required(confidence: int | None) -> int:
    if confidence is None or not 0 <= confidence <= 5:
        raise ApplicationError(CONFIDENCE_MESSAGE, fields={"confidence": CONFIDENCE_MESSAGE})
    return confidence


def _finish_step(
    step: PracticeStep,
    session: PracticeSession,
    *,
    correct: bool,
    revealed: set[str],
    observations: list[tuple[str, bool]],
    now: datetime,
    version: str | None = None,
    answer_fields: Sequence[str] = (),
    revealed_ids: Sequence[int] | None = None,
) -> None:
    """Apply the answer's observations to mastery (one UPDATE), record the step's verdict
    with `answer_fields` in one UPDATE, and make the next step."""
    known = Known.read(
        session, version or banks_version(), extra_codes=[code for code, _ in observations]
    )
    confident = (step.confidence or 0) > policy.CONFIDENT_ABOVE
    step.mastery_after = mastery_apply(
        session, observations, confident=confident, now=now, rows=known.rows
    )
    step.is_correct = correct
    step.state = StepState.DONE
    step.save(update_fields=[*answer_fields, "mastery_after", "is_correct", "state"])
    if revealed_ids is None:
        revealed_ids = list(
            Misconception.objects.filter(code__in=revealed).values_list("id", flat=True)
        )
    # A new step's verdict: no links to replace, so the rows are inserted without a read.
    PracticeStep.revealed.through.objects.bulk_create(
        PracticeStep.revealed.through(practicestep_id=step.id, misconception_id=i)
        for i in revealed_ids
    )
    if session.is_active:
        session_advance(session, now, known)


@transaction.atomic
def step_answer(
    *, step_id: int, learner: User, answer: AnswerInput, now: datetime | None = None
) -> PracticeStep:
    """Score the learner's answer to an open step, update mastery and choose the next step."""
    now = now or timezone.now()
    step, session = _locked_step(step_id, learner)
    _refuse_unless_open(step, session, StepState.OPEN)
    version = banks_version()
    if step.question_id is None:  # the target's own explain-back prompt
        question = step.prompt
        chosen: list[Choice] = []
        answered = explanation_validate(answer)
    else:
        question = question_answerable(question_id=step.question_id, version=version)
        if question.qtype == QuestionType.CODE:
            raise ApplicationError(
                "This step takes code: submit it for grading.", fields={"code": "Submit code."}
            )
        chosen, answered = answer_validate(question, answer)
    if not answered:
        field = {
            QuestionType.NUMERIC: "numeric_value",
            QuestionType.EXPLAIN: "text",
        }.get(QuestionType(question.qtype), "choices")
        message = {
            "numeric_value": "Enter a number before going on.",
            "text": "Write your explanation before going on.",
        }.get(field, "Choose an answer before going on.")
        raise ApplicationError(message, fields={field: message})
    if question.qtype == QuestionType.TWO_TIER and len({c.tier for c in chosen}) < 2:
        message = "Choose an answer and a reason."
        raise ApplicationError(message, fields={"choices": message})
    step.confidence = _confidence_required(answer.confidence)
    step.numeric_value = answer.numeric_value
    step.text = answer.text.strip()
    step.seconds_spent += answer.seconds_spent
    step.answered_at = now
    answer_fields = ["confidence", "numeric_value", "text", "seconds_spent", "answered_at"]
    # An open step has no choices yet: insert the links without reading them first.
    PracticeStep.selected_choices.through.objects.bulk_create(
        PracticeStep.selected_choices.through(practicestep_id=step.id, choice_id=choice.id)
        for choice in chosen
    )
    if question.qtype == QuestionType.EXPLAIN:
        # Read now, shown after the learner's own check so that it does not steer the ticks.
        reading = explanation_reading(question, step.text)
        step.reading = None if reading is None else reading.as_json()
        step.state = StepState.CHECKING
        step.save(update_fields=[*answer_fields, "reading", "state"])
        return step
    outcome = response_outcome(
        question,
        answered=True,
        selected_ids={c.id for c in chosen},
        numeric_value=answer.numeric_value,
        parameters=step.parameters,
    )
    # The codes of the misconceptions the answer revealed: all named by the question's own
    # options, loaded with it.
    options: list[Choice | NumericDistractor] = [
        *question.choices.all(),
        *question.distractors.all(),
    ]
    codes = {m.id: m.code for option in options for m in option.misconceptions.all()}
    revealed = {codes[i] for i in outcome.misconception_ids}
    correct = bool(outcome.is_correct)
    observations = observations_of(
        correct=correct, probes=[m.code for m in question.probes.all()], revealed=revealed
    )
    _finish_step(
        step,
        session,
        correct=correct,
        revealed=revealed,
        observations=observations,
        now=now,
        version=version,
        answer_fields=answer_fields,
        revealed_ids=sorted(outcome.misconception_ids),
    )
    return step


@transaction.atomic
def step_code_submit(
    *,
    step_id: int,
    learner: User,
    code: str,
    confidence: int | None,
    now: datetime | None = None,
) -> PracticeStep:
    """Send the learner's code for an open code step to the grader."""
    now = now or timezone.now()
    step, session = _locked_step(step_id, learner)
    _refuse_unless_open(step, session, StepState.OPEN)
    if step.question is None or step.question.qtype != QuestionType.CODE:
        raise ApplicationError(
            "This step is not a code exercise.", fields={"code": "Not a code step."}
        )
    step.confidence = _confidence_required(confidence)
    submission = submission_create(
        learner=learner, exercise=step.question.exercise, code=code, now=now
    )
    step.submission = submission
    step.answered_at = now
    step.state = StepState.GRADING
    step.save(update_fields=["confidence", "submission", "answered_at", "state"])
    return step


@transaction.atomic
def step_code_verdict_apply(*, submission_id: int) -> None:
    """Apply a graded submission's verdict to the practice step it answers, if any."""
    step = (
        PracticeStep.objects.select_related("question")
        .filter(submission_id=submission_id, state=StepState.GRADING)
        .first()
    )
    if step is None:
        return
    session = PracticeSession.objects.select_for_update().get(id=step.session_id)
    step = (
        PracticeStep.objects.select_related("question", "submission")
        .filter(id=step.id, state=StepState.GRADING)
        .first()
    )
    if step is None or step.submission is None:
        return  # another worker applied it while we waited for the lock
    submission = step.submission
    named = set(submission.misconceptions.values_list("code", flat=True))
    outcome = code_outcome(
        status=submission.status, score=submission.score, misconception_ids=frozenset()
    )
    correct = bool(outcome.is_correct)
    probes = list(step.prompt.probes.values_list("code", flat=True))
    # A failure that names no misconception (a crash, a timeout) is a defect, not evidence.
    observations = observations_of(correct=correct, probes=probes, revealed=named)
    _finish_step(
        step,
        session,
        correct=correct,
        revealed=set() if correct else named,
        observations=observations,
        now=timezone.now(),
    )


@transaction.atomic
def step_code_verdict_lost(*, submission_id: int) -> None:
    """Give a code step whose verdict could not be applied back to the learner: it takes
    code again, and what was sent counts for nothing (the step page says so)."""
    PracticeStep.objects.filter(submission_id=submission_id, state=StepState.GRADING).update(
        state=StepState.OPEN
    )


@transaction.atomic
def step_self_check(
    *, step_id: int, learner: User, ideas: Sequence[int], now: datetime | None = None
) -> PracticeStep:
    """Record which key ideas the learner finds in their explanation; the ideas it is not
    credited with (see `explain_credit`) send them back to the matching items."""
    now = now or timezone.now()
    step, session = _locked_step(step_id, learner)
    _refuse_unless_open(step, session, StepState.CHECKING)
    question = step.prompt
    ticked = ideas_validate(ideas, len(question.key_ideas))
    credit = explain_credit(question, ticked, step.reading)
    missing = [i for i in range(len(question.key_ideas)) if i not in credit.credited]
    step.self_assessed_ideas = ticked
    step.save(update_fields=["self_assessed_ideas"])
    gaps = [
        code
        for code in dict.fromkeys(c for i in missing for c in credit.idea_codes(question, i))
        if code != ILLUSION
    ]
    # A complete explanation is the evidence against an illusion of understanding.
    observations = [(code, False) for code in gaps] + [(ILLUSION, not missing)]
    extra = [code for code in gaps if code not in session.agenda]
    if extra:
        session.agenda = [*session.agenda, *extra]
        session.save(update_fields=["agenda", "updated_at"])
    revealed = set(gaps) | ({ILLUSION} if missing else set())
    _finish_step(
        step, session, correct=not missing, revealed=revealed, observations=observations, now=now
    )
    return step


@transaction.atomic
def session_stop(*, session_id: int, learner: User, now: datetime | None = None) -> PracticeSession:
    """End the learner's session; mastery so far is kept for the next visit."""
    now = now or timezone.now()
    session = (
        PracticeSession.objects.select_for_update().filter(id=session_id, learner=learner).first()
    )
    if session is None:
        raise NotFoundError("No such practice session.")
    if session.is_active:
        session.state = PracticeSession.State.STOPPED
        session.ended_at = now
        session.save(update_fields=["state", "ended_at", "updated_at"])
    return session


# Reviews


@transaction.atomic
def explanation_review(
    *,
    step_id: int,
    course: Course,
    reviewer: User,
    ideas: Sequence[int],
    comment: str,
    now: datetime | None = None,
) -> PracticeStep:
    """Mark a learner's explain-back: the key ideas it really has, and a comment.

    The first review is evidence: ideas the learner was credited with (ticked, and found by
    the reading where there is one) but the reviewer did not find count against the
    matching misconceptions, so the next practice visit returns to them. Ideas the learner
    ticked but the reading did not find already counted when the learner checked them.
    """
    now = now or timezone.now()
    step = (
        PracticeStep.objects.select_for_update(of=("self",))
        .select_related("question", "target", "session__learner")
        .filter(
            id=step_id,
            session__course=course,
            kind=Kind.EXPLAIN_BACK,
            state=StepState.DONE,
        )
        .first()
    )
    if step is None:
        raise NotFoundError("No such explanation.", fields={"step": "No such explanation."})
    question = step.prompt
    found = ideas_validate(ideas, len(question.key_ideas))
    comment = comment.strip()
    if len(comment) > MAX_TEXT_LENGTH:
        raise ApplicationError(
            f"Keep the comment under {MAX_TEXT_LENGTH} characters.",
            fields={"comment": f"At most {MAX_TEXT_LENGTH} characters."},
        )
    first_review = step.reviewed_at is None
    step.review_ideas = found
    step.review_comment = comment
    step.reviewed_by = reviewer
    step.reviewed_at = now
    step.save(update_fields=["review_ideas", "review_comment", "reviewed_by", "reviewed_at"])
    if first_review:
        credit = explain_credit(question, step.self_assessed_ideas or [], step.reading)
        overclaimed = [i for i in sorted(credit.credited) if i not in found]
        gaps = missing_idea_codes(question, overclaimed)
        if gaps:
            session = step.session
            mastery_apply(session, [(code, False) for code in gaps], confident=False, now=now)
    return step
