"""Factories for the tests: small banks and quizzes built in a few lines."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory import declarations

from assessments.models import (
    BlueprintRule,
    Choice,
    Misconception,
    NumericDistractor,
    Question,
    QuestionBank,
    QuestionType,
    Quiz,
    QuizSection,
)


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = declarations.Sequence(lambda n: f"learner{n}")
    password = factory.django.Password("pass-word-123")


class MisconceptionFactory(factory.django.DjangoModelFactory[Misconception]):
    class Meta:
        model = Misconception
        django_get_or_create = ("code",)

    code = declarations.Sequence(lambda n: f"DO-T{n}")
    title = declarations.LazyAttribute(lambda o: f"Belief {o.code}")
    belief = "A mistaken belief."
    truth = "What is true."
    explain_prompt = declarations.LazyAttribute(lambda o: f"Explain back {o.code}.")


class BankFactory(factory.django.DjangoModelFactory[QuestionBank]):
    class Meta:
        model = QuestionBank

    slug = declarations.Sequence(lambda n: f"bank-{n}")
    title = declarations.LazyAttribute(lambda o: o.slug.title())


class QuestionFactory(factory.django.DjangoModelFactory[Question]):
    class Meta:
        model = Question

    bank = declarations.SubFactory(BankFactory)
    slug = declarations.Sequence(lambda n: f"question-{n}")
    qtype = QuestionType.SINGLE
    stem = declarations.Sequence(lambda n: f"Question stem {n}?")
    feedback = "General feedback."


def code(name: str) -> Misconception:
    """Return the misconception with this code, creating it."""
    return MisconceptionFactory.create(code=name)


def choice(
    question: Question,
    text: str,
    *,
    correct: bool = False,
    tier: int = 1,
    codes: tuple[str, ...] = (),
) -> Choice:
    """Add a choice; a wrong one names its misconceptions."""
    made = Choice.objects.create(
        question=question, text=text, is_correct=correct, tier=tier,
        feedback=f"Feedback for {text}", position=question.choices.count(),
    )  # fmt: skip
    made.misconceptions.set([code(c) for c in codes])
    return made


def single(
    bank: QuestionBank | None = None,
    *,
    probes: tuple[str, ...] = ("DO-SPEED",),
    wrong_codes: tuple[str, ...] = ("DO-SPEED",),
    **kwargs: Any,
) -> Question:
    """Return a single-choice question: one right option, two wrong ones."""
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(), qtype=QuestionType.SINGLE, **kwargs
    )
    question.probes.set([code(c) for c in probes])
    choice(question, "Right", correct=True)
    choice(question, "Wrong A", codes=wrong_codes)
    choice(question, "Wrong B", codes=("DO-DATA",))
    return question


def multiple(bank: QuestionBank | None = None) -> Question:
    """Return a multiple-response question with two right and two wrong options."""
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(), qtype=QuestionType.MULTIPLE
    )
    question.probes.set([code("DO-TEST")])
    choice(question, "Right 1", correct=True)
    choice(question, "Right 2", correct=True)
    choice(question, "Wrong 1", codes=("DO-TEST",))
    choice(question, "Wrong 2", codes=("DO-NOSCALE",))
    return question


def true_false(bank: QuestionBank | None = None) -> Question:
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(), qtype=QuestionType.TRUE_FALSE
    )
    question.probes.set([code("DO-DATA")])
    choice(question, "True", codes=("DO-DATA",))
    choice(question, "False", correct=True)
    return question


def two_tier(bank: QuestionBank | None = None) -> Question:
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(), qtype=QuestionType.TWO_TIER, reason_prompt="Why?"
    )
    question.probes.set([code("DO-TEST")])
    choice(question, "Answer right", correct=True)
    choice(question, "Answer wrong", codes=("DO-TEST",))
    choice(question, "Reason right", correct=True, tier=2)
    choice(question, "Reason wrong", tier=2, codes=("DO-NOSCALE",))
    return question


def numeric(bank: QuestionBank | None = None) -> Question:
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(),
        qtype=QuestionType.NUMERIC,
        stem="With p = {p} and 1000 units, how many stay active?",
        parameters={"p": [0.2, 0.3]},
        answer="(1 - p) * 1000",
        tolerance=0.5,
        unit="units",
    )
    question.probes.set([code("DO-PKEEP")])
    distractor = NumericDistractor.objects.create(
        question=question, answer="p * 1000", feedback="You used p as the keep probability."
    )
    distractor.misconceptions.set([code("DO-PKEEP")])
    return question


def explain(bank: QuestionBank | None = None) -> Question:
    question = QuestionFactory.create(
        bank=bank or BankFactory.create(),
        qtype=QuestionType.EXPLAIN,
        model_answer="Dropout drops units at random during training only.",
        key_ideas=["random", "training only"],
    )
    question.probes.set([code("DO-ILLUSION")])
    return question


def quiz_of(*questions: Question, **kwargs: Any) -> Quiz:
    """Return a quiz that draws exactly these questions, unshuffled, in this order."""
    options = {
        "slug": f"quiz-{Quiz.objects.count() + 1}",
        "title": "A quiz",
        "shuffle_questions": False,
        "shuffle_choices": False,
    }
    quiz = Quiz.objects.create(**{**options, **kwargs})
    for position, question in enumerate(questions):
        bank = BankFactory.create()
        question.bank = bank
        question.save(update_fields=["bank"])
        QuizSection.objects.create(quiz=quiz, bank=bank, draw_count=1, position=position)
    return quiz


def section(quiz: Quiz, bank: QuestionBank, count: int, form: str = "") -> QuizSection:
    """Add a section drawing `count` questions of `form` from `bank`, after the others."""
    return QuizSection.objects.create(
        quiz=quiz, bank=bank, draw_count=count, form=form, position=quiz.sections.count()
    )


def rule(quiz: Quiz, name: str = "", qtype: str = "", minimum: int = 1) -> BlueprintRule:
    """Add a blueprint rule: at least `minimum` items probing `name` and/or of `qtype`."""
    return BlueprintRule.objects.create(
        quiz=quiz, misconception=code(name) if name else None, qtype=qtype, minimum=minimum
    )
