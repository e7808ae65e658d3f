"""Score one response: the mark, whether it is right, and the misconceptions it reveals.

Works on a question whose choices, distractors and probes are prefetched, so scoring an
attempt costs no query per question.

A wrong answer reveals exactly the codes of what the learner chose: the wrong options, the
numeric distractor matched, the failing checks (for a two-tier item, the wrong reason's
codes when the reason is wrong, else the wrong answer's). One that names none (a right
option left unticked, a number no distractor predicts) is a gap, not evidence of any
belief: a correct action, or the absence of one, is never tagged.

An explain-back has no marks (it is not an item for the statistics), but once the service
has read it against the key ideas (assessments.explanation_reading) it is evidence: wrong
when the reading finds any idea contradicted or fewer than half of the ideas. A wrong
reading reveals the codes of the claims it contradicts, or, when it contradicts nothing
(an empty, vague or circular text), DO-ILLUSION: the learner could not explain it back.
The learner's confidence rating on the item then tells a held belief from a gap, as for
any answer. A right reading counts for every code the item probes. Ideas that are only
missing say nothing about their codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from assessments.explanation_reading import Reading, criteria_of, explanation_read
from assessments.models import Choice, Question, QuestionType
from assessments.numeric import ExpressionError, expression_evaluate, within_tolerance


@dataclass(frozen=True)
class Outcome:
    """What scoring decided about one answer."""

    fraction: Decimal | None  # of the question's mark; None when the item is not scored
    is_correct: bool | None
    misconception_ids: frozenset[int]


ILLUSION = "DO-ILLUSION"
UNSCORED = Outcome(fraction=None, is_correct=None, misconception_ids=frozenset())
UNANSWERED = Outcome(fraction=Decimal(0), is_correct=False, misconception_ids=frozenset())


def _misconceptions_of(choices: list[Choice]) -> frozenset[int]:
    return frozenset(m.id for choice in choices for m in choice.misconceptions.all())


def _right() -> Outcome:
    return Outcome(fraction=Decimal(1), is_correct=True, misconception_ids=frozenset())


def _score_choices(question: Question, selected_ids: set[int]) -> Outcome:
    choices = list(question.choices.all())
    chosen = [c for c in choices if c.id in selected_ids]
    wrong_chosen = [c for c in chosen if not c.is_correct]
    if question.qtype == QuestionType.MULTIPLE:
        correct = [c for c in choices if c.is_correct]
        incorrect = [c for c in choices if not c.is_correct]
        hits = sum(1 for c in chosen if c.is_correct)
        # Each right option earns 1/|right|; each wrong pick costs 1/|wrong|; never below 0.
        earned = Decimal(hits) / len(correct)
        penalty = Decimal(len(wrong_chosen)) / len(incorrect) if incorrect else Decimal(0)
        fraction = max(Decimal(0), earned - penalty)
        is_correct = {c.id for c in chosen} == {c.id for c in correct}
        # A missed right option names nothing: not ticking is not a belief.
        revealed = _misconceptions_of(wrong_chosen)
        return Outcome(
            fraction=fraction.quantize(Decimal("0.0001")),
            is_correct=is_correct,
            misconception_ids=revealed,
        )
    if question.qtype == QuestionType.TWO_TIER:
        tiers_right = all(any(c.tier == tier and c.is_correct for c in chosen) for tier in (1, 2))
        if tiers_right:
            return _right()
        # The reason tier says why the answer was chosen (Treagust, 1988): a wrong reason
        # names the belief, whatever the answer; a wrong answer given for the right reason
        # names its own. A wrong "yes" chosen because of a wrong reason is that reason's
        # belief, not also the belief that would make someone answer "yes" on its own.
        reasons = _misconceptions_of([c for c in wrong_chosen if c.tier == 2])
        return Outcome(
            Decimal(0),
            False,
            reasons or _misconceptions_of([c for c in wrong_chosen if c.tier == 1]),
        )
    # Single choice and true/false.
    if chosen and chosen[0].is_correct:
        return _right()
    return Outcome(Decimal(0), False, _misconceptions_of(wrong_chosen))


def _score_numeric(question: Question, value: float, parameters: dict[str, float]) -> Outcome:
    target = expression_evaluate(question.answer, parameters)
    relative = question.tolerance_is_relative
    if within_tolerance(value, target, tolerance=question.tolerance, relative=relative):
        return _right()
    named: set[int] = set()
    for distractor in question.distractors.all():
        try:
            predicted = expression_evaluate(distractor.answer, parameters)
        except ExpressionError:
            continue
        if within_tolerance(value, predicted, tolerance=question.tolerance, relative=relative):
            named.update(m.id for m in distractor.misconceptions.all())
    # A wrong number no distractor predicts is a gap, not evidence of any belief.
    return Outcome(Decimal(0), False, frozenset(named))


def response_outcome(
    question: Question,
    *,
    answered: bool,
    selected_ids: set[int],
    numeric_value: float | None,
    parameters: dict[str, float],
) -> Outcome:
    """Return the outcome of one answer to `question`."""
    if not question.is_scored:
        return UNSCORED
    if not answered:
        return UNANSWERED
    if question.qtype == QuestionType.NUMERIC:
        if numeric_value is None:
            return UNANSWERED
        return _score_numeric(question, numeric_value, parameters)
    return _score_choices(question, selected_ids)


def code_outcome(
    *, status: str | None, score: float | None, misconception_ids: frozenset[int]
) -> Outcome:
    """Return the outcome of a code question from its latest submission's verdict.

    No submission scores zero; one still being graded has no mark yet (None), and gets
    it when the grader finishes. Failing checks name their own misconceptions; a check
    that only found a defect (a crash, a mutated input) names none.
    """
    if status is None:
        return UNANSWERED
    if status in ("queued", "running"):
        return Outcome(fraction=None, is_correct=None, misconception_ids=frozenset())
    fraction = Decimal(str(score or 0)).quantize(Decimal("0.0001"))
    return Outcome(
        fraction=fraction, is_correct=status == "passed", misconception_ids=misconception_ids
    )


def explanation_reading(question: Question, text: str) -> Reading | None:
    """Return the reading of an explain-back's text, or None when there is nothing to read
    (no text) or nothing to read it against (the item has no criteria)."""
    if question.qtype != QuestionType.EXPLAIN or not text.strip():
        return None
    ideas = criteria_of(question.key_ideas, question.key_idea_criteria)
    if not ideas:
        return None
    return explanation_read(text, ideas)


def explanation_outcome(reading: Reading | None, code_ids: Mapping[str, int]) -> Outcome:
    """Return an explain-back's outcome from its reading (see the module's docstring); no
    marks either way, and no verdict at all without a reading."""
    if reading is None:
        return UNSCORED
    if reading.is_right:
        return Outcome(fraction=None, is_correct=True, misconception_ids=frozenset())
    # A stated misconception is evidence of that belief; an explanation that states
    # nothing true or false is the illusion of understanding's evidence.
    codes = list(reading.contradicted_codes) or [ILLUSION]
    return Outcome(
        fraction=None,
        is_correct=False,
        misconception_ids=frozenset(code_ids[code] for code in codes if code in code_ids),
    )
