"""A simulated class in the database: its course, quizzes and learners, and their attempts
answered from the model of analytics.simulation through the services real learners use.

The models are imported inside the functions, as they were before this left
analytics.simulation, so that importing the module needs no configured project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from analytics.simulation import (
    ClassModel,
    Distractor,
    Item,
    LearnerState,
    Option,
    SimulatedAnswer,
    SimulationError,
    answer_draw,
    difficulty_of,
    draw_seed,
    rng_for,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from assessments.models import Attempt, Question, Quiz
    from courses.models import Course

PRETEST_FIXTURE = "dropout-pretest"
POSTTEST_FIXTURE = "dropout-posttest"


def item_from_question(question: Question) -> Item:
    """Return the simulation's view of a question.

    Prefetch `probes`, `choices__misconceptions` and `distractors__misconceptions` to avoid
    a query per option.
    """
    options = tuple(
        Option(
            id=choice.id,
            tier=choice.tier,
            is_correct=choice.is_correct,
            codes=frozenset(m.code for m in choice.misconceptions.all()),
        )
        for choice in question.choices.all()
    )
    distractors = tuple(
        Distractor(d.answer, frozenset(m.code for m in d.misconceptions.all()))
        for d in question.distractors.all()
    )
    return Item(
        key=question.slug,
        qtype=str(question.qtype),
        options=options,
        probes=frozenset(m.code for m in question.probes.all()),
        answer=question.answer,
        tolerance=question.tolerance,
        relative=question.tolerance_is_relative,
        distractors=distractors,
    )


def misconception_codes() -> list[str]:
    """Return the codes learners may hold: the catalogue's misconceptions (not prerequisites)."""
    from assessments.models import Misconception

    kind = Misconception.Kind.MISCONCEPTION
    return list(
        Misconception.objects.filter(kind=kind).order_by("code").values_list("code", flat=True)
    )


def course_ensure(slug: str, title: str = "") -> Course:
    """Return the course `slug`, creating it (titled `title`) when it does not exist."""
    from courses.models import Course

    course, _ = Course.objects.get_or_create(
        slug=slug, defaults={"title": title or f"Simulated class {slug}"}
    )
    return course


def _quiz_copy(course: Course, fixture_slug: str, suffix: str, role: str) -> Quiz:
    from assessments.models import Quiz
    from assessments.services import quiz_structure_copy

    slug = f"{course.slug}-{suffix}"
    existing = Quiz.objects.filter(slug=slug).first()
    if existing is not None:
        if existing.course_id != course.id or existing.role != role:
            raise SimulationError(
                f"Quiz {slug!r} already exists and is not this course's {role}-test; "
                "choose another course slug."
            )
        return existing
    fixture = Quiz.objects.filter(slug=fixture_slug).first()
    if fixture is None:
        raise SimulationError(
            f"The catalogue quiz {fixture_slug!r} is missing: run `python manage.py load_catalog` "
            "first."
        )
    title = f"{fixture.title} \N{EM DASH} {course.title}"
    quiz = Quiz.objects.create(
        slug=slug,
        title=title[:200],
        description=fixture.description,
        shuffle_questions=fixture.shuffle_questions,
        shuffle_choices=fixture.shuffle_choices,
        time_limit=None,  # simulated answers carry simulated times; none may run out
        attempts_allowed=1,
        course=course,
        role=role,
    )
    quiz_structure_copy(source=fixture, target=quiz)
    return quiz


def course_quizzes_ensure(course: Course) -> tuple[Quiz, Quiz]:
    """Return the course's pre- and post-test, copied from the catalogue's when missing."""
    from assessments.models import Quiz

    pre = _quiz_copy(course, PRETEST_FIXTURE, "pretest", Quiz.Role.PRE)
    post = _quiz_copy(course, POSTTEST_FIXTURE, "posttest", Quiz.Role.POST)
    return pre, post


def learner_username(course: Course, index: int) -> str:
    """Return the username of the course's simulated learner number `index` (from 1)."""
    return f"{course.slug}-learner-{index}"


def learners_ensure(course: Course, count: int) -> list[User]:
    """Return learners 1..count of the course, creating and enrolling the missing ones."""
    from django.contrib.auth.models import User

    from courses.models import Enrollment

    learners: list[User] = []
    for index in range(1, count + 1):
        learner, created = User.objects.get_or_create(username=learner_username(course, index))
        if created:
            learner.set_unusable_password()
            learner.save(update_fields=["password"])
        Enrollment.objects.get_or_create(
            course=course, learner=learner, defaults={"source": Enrollment.Source.SIMULATED}
        )
        learners.append(learner)
    return learners


@dataclass
class ItemCache:
    """Items and difficulties of the questions met so far, keyed by question id."""

    seed: int
    model: ClassModel
    items: dict[int, tuple[Item, float]] = field(default_factory=dict)

    def get(self, question: Question) -> tuple[Item, float]:
        """Return the question's item and difficulty."""
        found = self.items.get(question.id)
        if found is None:
            found = (
                item_from_question(question),
                difficulty_of(self.seed, question.slug, self.model),
            )
            self.items[question.id] = found
        return found


def attempt_simulate(
    *,
    quiz: Quiz,
    learner: User,
    state: LearnerState,
    stream: tuple[int | str, ...],
    cache: ItemCache,
    started_at: datetime,
    explanation: Callable[[Question, SimulatedAnswer, np.random.Generator], str] | None = None,
) -> Attempt:
    """Start, answer and submit one attempt through the services learners use.

    Each answer is drawn from `rng_for(seed, *stream, question slug)`, so it does not
    depend on which other questions the attempt drew, nor in which order. `explanation`,
    when given, writes the text of explain-it-back answers instead of the stock sentences.
    """
    from django.db.models import Prefetch

    from assessments import services
    from assessments.answers import AnswerInput
    from assessments.models import Choice, NumericDistractor

    attempt = services.attempt_start(
        quiz=quiz, learner=learner, now=started_at, seed=draw_seed(cache.seed, *stream)
    )
    responses = (
        attempt.responses.select_related("question")
        .prefetch_related(
            "question__probes",
            Prefetch(
                "question__choices", queryset=Choice.objects.prefetch_related("misconceptions")
            ),
            Prefetch(
                "question__distractors",
                queryset=NumericDistractor.objects.prefetch_related("misconceptions"),
            ),
        )
        .order_by("slot")
    )
    clock = max(started_at, attempt.started_at)
    for response in responses:
        item, difficulty = cache.get(response.question)
        rng = rng_for(cache.seed, *stream, item.key)
        answer = answer_draw(
            rng,
            state,
            item,
            difficulty=difficulty,
            parameters=response.parameters,
            model=cache.model,
        )
        if answer is None:
            continue
        if explanation is not None and item.qtype == "explain":
            answer = replace(answer, text=explanation(response.question, answer, rng))
        clock += timedelta(seconds=answer.seconds_spent)
        services.response_save(
            attempt_id=attempt.id,
            learner=learner,
            slot=response.slot,
            answer=AnswerInput(
                choice_ids=list(answer.choice_ids),
                numeric_value=answer.numeric_value,
                text=answer.text,
                confidence=answer.confidence,
                seconds_spent=answer.seconds_spent,
            ),
            now=clock,
        )
    return services.attempt_submit(attempt_id=attempt.id, learner=learner, now=clock)
