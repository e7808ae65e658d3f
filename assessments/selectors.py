"""Reads of the quiz flow: a learner's quizzes, a question as shown, how an explain-back was
read (an attempt's results are in assessments.results), what a quiz draws from (its
sections' pools and its blueprint), and who may read a quiz's data (a course's
instructors; for a catalogue quiz, its authors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from assessments import blueprint
from assessments.explanation_reading import Reading, Verdict
from assessments.models import (
    Attempt,
    BlueprintRule,
    Choice,
    Misconception,
    Question,
    Quiz,
    QuizSection,
    Response,
)
from assessments.numeric import stem_render
from assessments.question_cache import question_choices
from core.errors import ApplicationError, NotFoundError
from core.inputs import MAX_ID, int_field
from courses.models import Course
from courses.roles import is_bank_author
from courses.selectors import courses_taught
from grader.exercises import EXERCISES
from grader.models import Submission


@dataclass(frozen=True)
class QuizCard:
    """One quiz on the learner's list, with what they can do next."""

    quiz: Quiz
    attempts_used: int
    unfinished_attempt_id: int | None
    last_submitted: Attempt | None
    can_start: bool
    status: str


def quizzes_for_learner(*, learner: User, now: datetime | None = None) -> list[QuizCard]:
    """Return the published quizzes with the learner's progress on each."""
    now = now or timezone.now()
    quizzes = (
        Quiz.objects.filter(is_published=True)
        .filter(
            Q(course__isnull=True)
            | Q(course__in=learner.enrollments.values("course_id"))
            | Q(course__in=learner.courses_taught.values("id"))
        )
        .annotate(used=Count("attempts", filter=Q(attempts__learner=learner)))
    )
    attempts = Attempt.objects.filter(learner=learner).order_by("quiz_id", "-number")
    latest: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        latest.setdefault(attempt.quiz_id, []).append(attempt)
    cards = []
    for quiz in quizzes:
        mine = latest.get(quiz.id, [])
        unfinished = next((a for a in mine if not a.is_submitted), None)
        submitted = next((a for a in mine if a.is_submitted), None)
        left = None if quiz.attempts_allowed is None else quiz.attempts_allowed - quiz.used
        is_open = quiz.is_open_at(now)
        if unfinished is not None:
            status = "In progress"
        elif not is_open:
            status = "Not open yet" if quiz.opens_at and now < quiz.opens_at else "Closed"
        elif left == 0:
            status = "No attempts left"
        else:
            status = "Open"
        cards.append(
            QuizCard(
                quiz=quiz,
                attempts_used=quiz.used,
                unfinished_attempt_id=unfinished.id if unfinished else None,
                last_submitted=submitted,
                can_start=unfinished is None and is_open and left != 0,
                status=status,
            )
        )
    return cards


def attempt_for_learner(*, attempt_id: int, learner: User) -> Attempt:
    """Return the learner's own attempt; anyone else's looks like no attempt at all."""
    attempt = Attempt.objects.select_related("quiz").filter(id=attempt_id, learner=learner).first()
    if attempt is None:
        raise NotFoundError("No such attempt.", code="not_found")
    return attempt


@dataclass(frozen=True)
class ShownChoice:
    id: int
    text: str
    tier: int
    selected: bool


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the learner sees it before submission: no answers, no feedback."""

    slot: int
    count: int
    qtype: str
    stem: str
    reason_prompt: str
    unit: str
    choices: list[ShownChoice]
    numeric_value: float | None
    text: str
    confidence: int | None
    is_answered: bool
    exercise: str = ""


def _shown(
    response: Response, count: int, choices: Iterable[Choice], selected: set[int]
) -> ShownQuestion:
    question = response.question
    options = {c.id: c for c in choices}
    return ShownQuestion(
        slot=response.slot,
        count=count,
        qtype=question.qtype,
        stem=stem_render(question.stem, response.parameters),
        reason_prompt=question.reason_prompt,
        unit=question.unit,
        choices=[
            ShownChoice(id=i, text=options[i].text, tier=options[i].tier, selected=i in selected)
            for i in response.choice_order
            if i in options
        ],
        numeric_value=response.numeric_value,
        text=response.text,
        confidence=response.confidence,
        is_answered=response.is_answered,
        exercise=question.exercise,
    )


def attempt_questions(*, attempt: Attempt) -> list[ShownQuestion]:
    """Return every question of the attempt as shown to the learner, in slot order."""
    responses = list(
        attempt.responses.select_related("question").prefetch_related(
            "selected_choices",
            Prefetch(
                "question__choices",
                queryset=Choice.objects.only("id", "text", "tier", "question_id"),
            ),
        )
    )
    return [
        _shown(
            r,
            len(responses),
            r.question.choices.all(),
            {c.id for c in r.selected_choices.all()},
        )
        for r in responses
    ]


def code_question_draft(*, attempt: Attempt, slot: int) -> tuple[str, Any]:
    """Return the code to show in a code question's editor and its latest submission."""
    latest = (
        Submission.objects.filter(response__attempt=attempt, response__slot=slot)
        .order_by("-queued_at")
        .first()
    )
    if latest is not None:
        return latest.code, latest
    response = attempt.responses.select_related("question").get(slot=slot)
    exercise = EXERCISES.get(response.question.exercise)
    return (exercise.starter_code if exercise else ""), None


def attempt_question(*, attempt: Attempt, slot: int) -> ShownQuestion:
    """Return one question of the attempt as shown to the learner."""
    count = attempt.responses.count()
    response = attempt.responses.filter(slot=slot).select_related("question").first()
    if response is None:
        raise NotFoundError(
            f"This attempt has no question {slot}; it has questions 1 to {count}.",
            fields={"slot": f"Choose a question from 1 to {count}."},
        )
    selected = Response.selected_choices.through.objects.filter(response_id=response.id)
    return _shown(
        response,
        count,
        question_choices(question=response.question),
        set(selected.values_list("choice_id", flat=True)),
    )


@dataclass(frozen=True)
class ReadClaim:
    """A wrong claim the reading found in the learner's text."""

    code: str
    belief: str
    quote: str


@dataclass(frozen=True)
class ReadIdea:
    """One key idea as the service's reading of the learner's text saw it."""

    text: str
    verdict: str | None  # found, missing or contradicts; None: the text was not read
    quote: str = ""
    claims: tuple[ReadClaim, ...] = ()

    @property
    def codes(self) -> list[str]:
        """Return the misconception codes of the claims that contradict the idea."""
        return [claim.code for claim in self.claims]

    @property
    def message(self) -> str:
        """Return the reading's verdict as a sentence to the learner."""
        if self.verdict == Verdict.FOUND:
            return f"found: “{self.quote}”"
        if self.verdict == Verdict.MISSING:
            return f"I could not find: {self.text}"
        if self.verdict == Verdict.CONTRADICTS:
            return "; ".join(
                f"this says “{claim.quote}”, which is the misconception {claim.code}: "
                f"{claim.belief}"
                for claim in self.claims
            )
        return ""


def reading_beliefs(readings: Iterable[Any]) -> dict[str, str]:
    """Return the belief of every code the stored readings name (no query when none)."""
    codes = {
        claim.code
        for stored in readings
        if (reading := Reading.from_json(stored)) is not None
        for idea in reading.ideas
        for claim in idea.claims
    }
    if not codes:
        return {}
    return dict(Misconception.objects.filter(code__in=codes).values_list("code", "belief"))


def reading_ideas(
    *, key_ideas: Sequence[str], reading: Any, beliefs: Mapping[str, str]
) -> list[ReadIdea]:
    """Return each key idea with the stored reading's verdict on it (None: not read)."""
    parsed = Reading.from_json(reading)
    if parsed is None or len(parsed.ideas) != len(key_ideas):
        return [ReadIdea(text=text, verdict=None) for text in key_ideas]
    return [
        ReadIdea(
            text=text,
            verdict=idea.verdict.value,
            quote=idea.quote,
            claims=tuple(
                ReadClaim(code=c.code, belief=beliefs.get(c.code, ""), quote=c.quote)
                for c in idea.claims
            ),
        )
        for text, idea in zip(key_ideas, parsed.ideas, strict=True)
    ]


def attempt_summary(*, attempt: Attempt) -> dict[str, Any]:
    """Return the attempt's state and timing as plain data (no answers)."""
    return {
        "id": attempt.id,
        "quiz": attempt.quiz.slug,
        "number": attempt.number,
        "state": attempt.state,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "submitted_at": attempt.submitted_at,
    }


@dataclass(frozen=True)
class Pools:
    """The sections' pools as the draw sees them: items (id, type, probe codes) and sections."""

    items: list[blueprint.Item]
    sections: list[blueprint.Section]


def pools_read(*, sections: Sequence[QuizSection], probes: bool = True) -> Pools:
    """Return the sections' pools in one query of plain values, with the questions' probe
    codes when `probes` (sections saved or not; their banks loaded)."""
    where = Q(pk__in=[])
    for section in sections:
        where |= Q(bank_id=section.bank_id, **({"form": section.form} if section.form else {}))
    # One row per question and probe (a LEFT OUTER JOIN), not one query per question.
    fields = ("id", "bank_id", "form", "qtype") + (("probes__code",) if probes else ())
    rows = Question.objects.filter(where).order_by("id").values_list(*fields)
    found: dict[int, tuple[int, str, str, set[str]]] = {}
    for row in rows:
        question_id, bank_id, form, qtype = row[:4]
        codes = found.setdefault(question_id, (bank_id, form, qtype, set()))[3]
        if probes and row[4]:
            codes.add(row[4])
    return Pools(
        items=[
            blueprint.Item(id=question_id, qtype=qtype, codes=frozenset(codes))
            for question_id, (_, _, qtype, codes) in found.items()
        ],
        sections=[
            blueprint.Section(
                draw_count=section.draw_count,
                pool=tuple(
                    question_id
                    for question_id, (bank_id, form, _, _) in found.items()
                    if bank_id == section.bank_id and (not section.form or form == section.form)
                ),
                bank=section.bank.slug,
                form=section.form,
            )
            for section in sections
        ],
    )


def draw_rules(rules: Sequence[BlueprintRule]) -> list[blueprint.Rule]:
    """Return the rules as the draw sees them (their misconceptions loaded)."""
    return [
        blueprint.Rule(
            code=rule.misconception.code if rule.misconception is not None else "",
            qtype=rule.qtype,
            minimum=rule.minimum,
        )
        for rule in rules
    ]


def quiz_sections(*, quiz: Quiz) -> list[QuizSection]:
    """Return the quiz's sections in structural order, with their banks."""
    return list(quiz.sections.select_related("bank").order_by("position", "id"))


def quiz_blueprint(*, quiz: Quiz) -> list[BlueprintRule]:
    """Return the quiz's blueprint rules, with their misconceptions, in the order given."""
    return list(quiz.blueprint_rules.select_related("misconception").order_by("id"))


def quiz_blueprint_problem(
    *,
    quiz: Quiz,
    sections: Sequence[QuizSection] | None = None,
    rules: Sequence[BlueprintRule] | None = None,
) -> str | None:
    """Return why no attempt at `quiz` can honour its blueprint, naming the rule, or None.

    `sections` and `rules` stand in for the saved ones (the admin checks a form before
    saving it). Without rules there is nothing to check."""
    rules = quiz_blueprint(quiz=quiz) if rules is None else rules
    if not rules:
        return None
    sections = quiz_sections(quiz=quiz) if sections is None else sections
    wanted = draw_rules(rules)
    pools = pools_read(sections=sections, probes=any(rule.code for rule in wanted))
    return blueprint.blueprint_problem(items=pools.items, sections=pools.sections, rules=wanted)


# Who may read a quiz's data. A catalogue quiz (no course) belongs to no course's
# instructors. Its statistics describe the catalogue's items, with no learner named:
# superusers and bank authors read them, as judging and fixing items is the authors' work.
# Its responses name learners of any course: superusers alone read those. Anything else
# looks absent (404), so an instructor cannot probe other courses' ids.


def quiz_for_instructor(*, user: Any, quiz_id: int, learners: bool = False) -> Quiz:
    """Return the quiz if `user` teaches its course or is a superuser, or, for a catalogue
    quiz's statistics (not `learners`' rows), authors banks; otherwise NotFoundError."""
    quiz = (
        Quiz.objects.select_related("course").filter(id=quiz_id).first()
        if quiz_id <= MAX_ID
        else None
    )
    if quiz is None:
        raise NotFoundError("No such quiz.")
    if quiz.course_id is None:
        allowed = user.is_superuser or (not learners and is_bank_author(user))
    else:
        allowed = courses_taught(user).filter(id=quiz.course_id).exists()
    if not allowed:
        raise NotFoundError("No such quiz.")
    return quiz


def course_quiz(course: Course, raw: str) -> Quiz:
    """One of `course`'s quizzes by the id in `raw` (a query-string value); otherwise an
    ApplicationError naming the `quiz` field."""
    raw = raw.strip()
    try:
        quiz = course.quizzes.filter(id=int_field(raw, field="quiz")).first()
    except ApplicationError:
        quiz = None
    if quiz is None:
        raise ApplicationError(
            f"{raw[:40]!r} is not a quiz of this course.",
            fields={"quiz": "Not a quiz of this course."},
        )
    return quiz
