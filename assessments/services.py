"""Writes of the quiz flow: start an attempt, save answers (code goes to the grader),
submit, self-assess, explain back."""

from __future__ import annotations

import json
import random
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from assessments.answers import AnswerInput, answer_validate
from assessments.draws import choice_order_draw, display_order_draw, questions_draw
from assessments.models import (
    Attempt,
    BlueprintRule,
    Misconception,
    QuestionType,
    Quiz,
    QuizSection,
    Response,
)
from assessments.numeric import parameters_draw
from assessments.question_cache import question_choices, questions_for_scoring
from assessments.scores import score_deliveries_record
from assessments.scoring import (
    ILLUSION,
    code_outcome,
    explanation_outcome,
    explanation_reading,
    response_outcome,
)
from assessments.signals import attempt_rescoring, attempt_scored
from core.errors import ApplicationError, ConflictError, NotFoundError
from courses.selectors import takes_part_as_preview
from grader.models import Submission
from grader.services import submission_create


def _deadline(quiz: Quiz, started_at: datetime) -> datetime | None:
    ends = [started_at + quiz.time_limit] if quiz.time_limit else []
    if quiz.closes_at is not None:
        ends.append(quiz.closes_at)
    return min(ends) if ends else None


def _is_preview(quiz: Quiz, user: User) -> bool:
    """Whether `user` takes `quiz` as a preview (never counted); refuse, as if the quiz did
    not exist, anyone outside the quiz's course."""
    if quiz.course is None:
        return False
    preview = takes_part_as_preview(course=quiz.course, user=user)
    if preview is None:
        raise NotFoundError("No such quiz.")
    return preview


@transaction.atomic
def attempt_start(
    *, quiz: Quiz, learner: User, now: datetime | None = None, seed: int | None = None
) -> Attempt:
    """Start an attempt at `quiz` (or return the unfinished one) and draw its questions.

    `seed` fixes the draw (simulations replay a class); learners get a secret random one."""
    now = now or timezone.now()
    preview = _is_preview(quiz, learner)
    unfinished = Attempt.objects.filter(
        quiz=quiz, learner=learner, state=Attempt.State.IN_PROGRESS
    ).first()
    if unfinished is not None:
        return unfinished
    if not quiz.is_open_at(now):
        if quiz.opens_at is not None and now < quiz.opens_at:
            raise ConflictError(
                f"This quiz opens at {quiz.opens_at:%Y-%m-%d %H:%M} UTC.", code="quiz_not_open"
            )
        raise ConflictError("This quiz is closed.", code="quiz_closed")
    used = Attempt.objects.filter(quiz=quiz, learner=learner).count()
    if quiz.attempts_allowed is not None and used >= quiz.attempts_allowed:
        raise ConflictError(
            f"You have used all {quiz.attempts_allowed} attempt(s) allowed for this quiz.",
            code="no_attempts_left",
        )
    seed = secrets.randbits(62) if seed is None else seed
    # Drawing questions is not security-sensitive; a stored seed makes each draw reproducible.
    rng = random.Random(seed)  # noqa: S311
    questions = questions_draw(quiz, rng)
    prefetch_related_objects(questions, "choices")
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                quiz=quiz,
                learner=learner,
                number=used + 1,
                seed=seed,
                is_preview=preview,
                started_at=now,
                deadline=_deadline(quiz, now),
                max_score=sum((q.mark for q in questions if q.is_scored), Decimal(0)),
            )
    except IntegrityError:
        # A concurrent request started one first: hand back that one.
        existing = Attempt.objects.filter(
            quiz=quiz, learner=learner, state=Attempt.State.IN_PROGRESS
        ).first()
        if existing is None:
            raise ConflictError(
                "Another attempt was started at the same moment; reload the page.",
                code="attempt_conflict",
            ) from None
        return existing
    Response.objects.bulk_create(
        Response(
            attempt=attempt,
            slot=slot,
            structural_slot=index + 1,
            question=questions[index],
            choice_order=choice_order_draw(questions[index], rng, quiz.shuffle_choices),
            parameters=(
                parameters_draw(questions[index].parameters, rng)
                if questions[index].parameters
                else {}
            ),
            max_mark=questions[index].mark if questions[index].is_scored else Decimal(0),
        )
        for slot, index in enumerate(display_order_draw(quiz, len(questions), rng), start=1)
    )
    return attempt


def quiz_structure_copy(*, source: Quiz, target: Quiz) -> None:
    """Give `target` the sections and the blueprint of `source` (what its attempts draw)."""
    QuizSection.objects.bulk_create(
        QuizSection(
            quiz=target,
            bank_id=section.bank_id,
            draw_count=section.draw_count,
            form=section.form,
            position=section.position,
        )
        for section in source.sections.order_by("position", "id")
    )
    BlueprintRule.objects.bulk_create(
        BlueprintRule(
            quiz=target,
            misconception_id=rule.misconception_id,
            qtype=rule.qtype,
            minimum=rule.minimum,
        )
        for rule in source.blueprint_rules.order_by("id")
    )


def _locked_attempt(attempt_id: int, learner: User) -> Attempt:
    attempt = (
        # of=self: lock the attempt only, not the quiz row every learner shares.
        Attempt.objects.select_for_update(of=("self",))
        .filter(id=attempt_id, learner=learner)
        .select_related("quiz")
        .first()
    )
    if attempt is None:
        raise NotFoundError("No such attempt.", code="not_found")
    return attempt


def attempt_refuse_late(attempt: Attempt, now: datetime) -> None:
    """Raise unless the attempt still accepts answers at `now`."""
    if attempt.is_submitted:
        raise ConflictError(
            "This attempt has already been submitted; answers can no longer change.",
            code="already_submitted",
        )
    grace = timedelta(seconds=settings.ATTEMPT_GRACE_SECONDS)
    closes_at = attempt.quiz.closes_at
    if closes_at is not None and now > closes_at + grace:
        # Checked live, so closing a quiz early also stops attempts already under way.
        raise ConflictError(
            f"This quiz closed at {closes_at:%Y-%m-%d %H:%M} UTC, so the answer was not saved. "
            "Submit the attempt to see your results.",
            code="quiz_closed",
        )
    if attempt.deadline is not None and now > attempt.deadline + grace:
        raise ConflictError(
            f"Time is up: this attempt's deadline was {attempt.deadline:%H:%M:%S} UTC, so the "
            "answer was not saved. Submit the attempt to see your results.",
            code="time_limit_passed",
        )


# What saving an answer reads: the stems, feedback and criteria of the question stay in the
# database (an autosave is the hottest request; reading and decoding them was most of its cost).
ANSWER_SAVE_COLUMNS = (
    "attempt__state",
    "attempt__deadline",
    "attempt__quiz__closes_at",
    "question__qtype",
    "question__updated_at",
    "numeric_value",
    "text",
    "confidence",
    "seconds_spent",
    "answered_at",
)


@transaction.atomic
def response_save(
    *,
    attempt_id: int,
    learner: User,
    slot: int,
    answer: AnswerInput,
    now: datetime | None = None,
) -> Response:
    """Save (or clear) the learner's answer in one slot of their unfinished attempt."""
    now = now or timezone.now()
    response = (
        # One statement for the answer's row, its question and its attempt, locked (of=attempt:
        # not the quiz row every learner shares): submit locks the attempt too, so an answer
        # and a submit of the same attempt never interleave.
        Response.objects.select_for_update(of=("attempt",))
        .select_related("attempt__quiz", "question")
        .only(*ANSWER_SAVE_COLUMNS)
        .filter(attempt_id=attempt_id, attempt__learner=learner, slot=slot)
        .order_by()  # (attempt, slot) is unique
        .first()
    )
    if response is None:
        attempt = _locked_attempt(attempt_id, learner)
        attempt_refuse_late(attempt, now)
        count = attempt.responses.count()
        raise NotFoundError(
            f"This attempt has no question {slot}; it has questions 1 to {count}.",
            code="not_found",
            fields={"slot": f"Choose a question from 1 to {count}."},
        )
    attempt_refuse_late(response.attempt, now)
    choices = question_choices(question=response.question)
    chosen, answered = answer_validate(response.question, answer, choices=choices)
    response.numeric_value = answer.numeric_value
    response.text = answer.text
    response.confidence = answer.confidence
    response.seconds_spent += answer.seconds_spent
    if response.question.qtype != QuestionType.CODE:  # a code answer is its submission
        response.answered_at = now if answered else None
    response.save(
        update_fields=["numeric_value", "text", "confidence", "seconds_spent", "answered_at"]
    )
    if choices:  # a question without options has no selection to keep
        response.selected_choices.set(chosen)
    return response


def _code_slot(learner: User, attempt_id: int, slot: int, exercise: str, now: datetime) -> Response:
    """Return the attempt slot a quiz submission answers, refusing any that may not be."""
    attempt = (
        # of=self: lock the attempt only, not the quiz row every learner shares.
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz")
        .filter(id=attempt_id, learner=learner)
        .first()
    )
    if attempt is None:
        raise NotFoundError("No such attempt.", fields={"attempt": "No such attempt."})
    attempt_refuse_late(attempt, now)
    response = attempt.responses.select_related("question").filter(slot=slot).first()
    if response is None or response.question.qtype != QuestionType.CODE:
        raise ApplicationError(
            f"Question {slot} of this attempt is not a code question.",
            fields={"slot": "Not a code question."},
        )
    if response.question.exercise != exercise:
        raise ApplicationError(
            f"Question {slot} takes code for {response.question.exercise!r}.",
            fields={"exercise": f"This question's exercise is {response.question.exercise!r}."},
        )
    return response


@transaction.atomic
def response_code_submit(
    *,
    learner: User,
    attempt_id: int,
    slot: int,
    exercise: str,
    code: str,
    now: datetime | None = None,
) -> Submission:
    """Send the learner's code for a code question of their unfinished attempt to the grader;
    the slot is answered now and scored from the verdict (submission_verdict_apply)."""
    now = now or timezone.now()
    response = _code_slot(learner, attempt_id, slot, exercise, now)
    submission = submission_create(
        learner=learner, exercise=exercise, code=code, response_id=response.id, now=now
    )
    response.answered_at = now
    response.save(update_fields=["answered_at"])
    return submission


def _code_response_outcome(response: Response) -> Any:
    submissions = sorted(response.submissions.all(), key=lambda s: s.queued_at)
    latest = submissions[-1] if submissions else None
    if latest is None:
        return code_outcome(status=None, score=None, misconception_ids=frozenset())
    return code_outcome(
        status=latest.status,
        score=latest.score,
        misconception_ids=frozenset(m.id for m in latest.misconceptions.all()),
    )


def response_code_verdict_apply(*, submission_id: int) -> None:
    """Re-score the code question a graded submission answers, if its attempt is submitted
    (an attempt submitted later is scored from the latest verdict then). Idempotent: the
    slot is scored from its latest submission, whatever this one was."""
    with transaction.atomic():
        slot = (
            Response.objects.filter(submissions=submission_id)
            .values_list("id", "attempt_id")
            .first()
        )
        if slot is None:
            return
        # Lock the attempt before asking whether it is submitted: a submit in progress read
        # the slot before this verdict committed, so wait for it and score after it (an
        # attempt still in progress is scored from this verdict when it is submitted). Then
        # read the slot's submissions: two verdicts of one slot applied at once must not
        # score from what the other saw before it committed.
        attempt = Attempt.objects.select_for_update().get(id=slot[1])
        if attempt.state != Attempt.State.SUBMITTED:
            return
        attempt_rescoring.send(sender=Attempt, attempt_id=attempt.id)
        response = (
            Response.objects.select_related("question")
            .prefetch_related("submissions__misconceptions")
            .get(id=slot[0])
        )
        outcome = _code_response_outcome(response)
        response.mark = None if outcome.fraction is None else outcome.fraction * response.max_mark
        response.is_correct = outcome.is_correct
        response.save(update_fields=["mark", "is_correct"])
        response.misconceptions.set(outcome.misconception_ids)
        marks = attempt.responses.exclude(mark__isnull=True).values_list("mark", flat=True)
        attempt.score = sum((mark for mark in marks if mark is not None), Decimal(0))
        attempt.save(update_fields=["score", "updated_at"])
        score_deliveries_record(attempt_id=attempt.id)
        attempt_scored.send(sender=Attempt, attempt_id=attempt.id, rescored=True)


def _outcomes_write(responses: list[Response]) -> None:
    """Write each response's mark, correctness and reading: one UPDATE per distinct outcome.

    Most of an attempt's responses share an outcome (a full mark, none, unanswered), so a
    handful of plain UPDATEs replace bulk_update's one CASE per field and row, whose
    building and parsing was a quarter of a submit's CPU."""
    groups: dict[str, tuple[Response, list[int]]] = {}
    for response in responses:
        key = json.dumps([str(response.mark), response.is_correct, response.reading])
        groups.setdefault(key, (response, []))[1].append(response.id)
    for first, ids in groups.values():
        Response.objects.filter(id__in=ids).update(
            mark=first.mark, is_correct=first.is_correct, reading=first.reading
        )


def _attempt_score(attempt: Attempt, now: datetime, *, auto: bool) -> Attempt:
    responses = list(
        attempt.responses.select_related("question").prefetch_related(
            "selected_choices", "submissions__misconceptions"
        )
    )
    scoring = questions_for_scoring(questions=[r.question for r in responses])
    for response in responses:
        response.question = scoring[response.question_id]
    revealed: list[Any] = []
    readings = {
        r.id: explanation_reading(r.question, r.text) if r.is_answered else None
        for r in responses
        if r.question.qtype == QuestionType.EXPLAIN
    }
    wrong = {
        code
        for reading in readings.values()
        if reading is not None and not reading.is_right
        for code in (*reading.contradicted_codes, ILLUSION)
    }
    code_ids = (
        dict(Misconception.objects.filter(code__in=wrong).values_list("code", "id"))
        if wrong
        else {}
    )
    for response in responses:
        if response.question.qtype == QuestionType.CODE:
            outcome = _code_response_outcome(response)
        elif response.question.qtype == QuestionType.EXPLAIN:
            reading = readings[response.id]
            response.reading = None if reading is None else reading.as_json()
            outcome = explanation_outcome(reading, code_ids)
        else:
            outcome = response_outcome(
                response.question,
                answered=response.is_answered,
                selected_ids={c.id for c in response.selected_choices.all()},
                numeric_value=response.numeric_value,
                parameters=response.parameters,
            )
        response.mark = None if outcome.fraction is None else outcome.fraction * response.max_mark
        response.is_correct = outcome.is_correct
        revealed.extend(
            Response.misconceptions.through(response_id=response.id, misconception_id=m_id)
            for m_id in sorted(outcome.misconception_ids)
        )
    _outcomes_write(responses)
    Response.misconceptions.through.objects.bulk_create(revealed)
    attempt.score = sum((r.mark for r in responses if r.mark is not None), Decimal(0))
    attempt.state = Attempt.State.SUBMITTED
    attempt.submitted_at = now
    attempt.auto_submitted = auto
    attempt.save(update_fields=["score", "state", "submitted_at", "auto_submitted", "updated_at"])
    score_deliveries_record(attempt_id=attempt.id)
    attempt_scored.send(sender=Attempt, attempt_id=attempt.id, rescored=False)
    return attempt


@transaction.atomic
def attempt_submit(*, attempt_id: int, learner: User, now: datetime | None = None) -> Attempt:
    """Submit the learner's attempt and score it; answers saved in time are what count."""
    now = now or timezone.now()
    attempt = _locked_attempt(attempt_id, learner)
    if attempt.is_submitted:
        raise ConflictError("This attempt has already been submitted.", code="already_submitted")
    return _attempt_score(attempt, now, auto=False)


def attempts_submit_overdue(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Submit unfinished attempts whose deadline (plus grace) has passed; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ATTEMPT_GRACE_SECONDS)
    done = 0
    overdue_ids = list(
        Attempt.objects.filter(state=Attempt.State.IN_PROGRESS, deadline__lt=cutoff)
        .order_by("deadline")
        .values_list("id", flat=True)[:batch_size]
    )
    for attempt_id in overdue_ids:
        with transaction.atomic():
            attempt = (
                Attempt.objects.select_for_update(skip_locked=True)
                .filter(id=attempt_id, state=Attempt.State.IN_PROGRESS)
                .first()
            )
            if attempt is None:
                continue
            _attempt_score(attempt, now, auto=True)
            done += 1
    return done
