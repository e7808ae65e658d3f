"""The random draws of an attempt or a practice step: which questions (honouring the
quiz's blueprint), the order the learner sees them in, and the order of their choices."""

from __future__ import annotations

import random

from assessments.blueprint import BlueprintUnmet, blueprint_draw
from assessments.models import Question, QuestionType, Quiz
from assessments.selectors import draw_rules, pools_read, quiz_blueprint, quiz_sections
from core.errors import ConflictError


def questions_draw(quiz: Quiz, rng: random.Random) -> list[Question]:
    """Return the drawn questions in structural order: sections in order, draws in order.

    Each section gives exactly its draw_count distinct questions from its pool, and every
    rule of the quiz's blueprint holds (see assessments.blueprint for how)."""
    rules = draw_rules(quiz_blueprint(quiz=quiz))
    pools = pools_read(sections=quiz_sections(quiz=quiz), probes=any(rule.code for rule in rules))
    try:
        drawn = blueprint_draw(items=pools.items, sections=pools.sections, rules=rules, rng=rng)
    except BlueprintUnmet as error:
        raise ConflictError(
            f"This quiz cannot start: {error} Tell your instructor.", code="quiz_misconfigured"
        ) from None
    ids = [question_id for section in drawn for question_id in section]
    questions = Question.objects.in_bulk(ids)
    return [questions[question_id] for question_id in ids]


def display_order_draw(quiz: Quiz, count: int, rng: random.Random) -> list[int]:
    """Return the structural indices (0-based) in the order the learner sees them."""
    order = list(range(count))
    if quiz.shuffle_questions:
        rng.shuffle(order)
    return order


def choice_order_draw(question: Question, rng: random.Random, shuffle: bool) -> list[int]:
    """Return the question's choice ids in the order to show them, tier 1 first."""
    order: list[int] = []
    for tier in (1, 2):
        ids = [c.id for c in question.choices.all() if c.tier == tier]
        if shuffle and question.qtype != QuestionType.TRUE_FALSE:
            rng.shuffle(ids)
        order.extend(ids)
    return order
