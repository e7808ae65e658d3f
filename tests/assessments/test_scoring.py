from decimal import Decimal

import pytest

from assessments.scoring import response_outcome
from tests.factories import explain, multiple, numeric, single, true_false, two_tier

pytestmark = pytest.mark.django_db


def _ids(question, *texts):
    return {c.id for c in question.choices.all() if c.text in texts}


def _codes(outcome):
    from assessments.models import Misconception

    return set(
        Misconception.objects.filter(id__in=outcome.misconception_ids).values_list(
            "code", flat=True
        )
    )


def _score(question, *, texts=(), value=None, parameters=None, answered=True):
    return response_outcome(
        question,
        answered=answered,
        selected_ids=_ids(question, *texts),
        numeric_value=value,
        parameters=parameters or {},
    )


def test_single_choice_right_and_wrong():
    question = single()
    assert _score(question, texts=["Right"]).fraction == 1
    wrong = _score(question, texts=["Wrong A"])
    assert (wrong.fraction, wrong.is_correct) == (0, False)
    assert _codes(wrong) == {"DO-SPEED"}


def test_true_false():
    question = true_false()
    assert _score(question, texts=["False"]).is_correct is True
    assert _codes(_score(question, texts=["True"])) == {"DO-DATA"}


@pytest.mark.parametrize(
    ("texts", "fraction", "correct", "codes"),
    [
        (["Right 1", "Right 2"], Decimal(1), True, set()),
        (["Right 1"], Decimal("0.5"), False, set()),  # a right option left unticked: a gap
        (["Right 1", "Right 2", "Wrong 2"], Decimal("0.5"), False, {"DO-NOSCALE"}),
        (["Right 1", "Wrong 1", "Wrong 2"], Decimal(0), False, {"DO-TEST", "DO-NOSCALE"}),
        (["Wrong 1"], Decimal(0), False, {"DO-TEST"}),
    ],
)
def test_multiple_response_gives_partial_credit(texts, fraction, correct, codes):
    outcome = _score(multiple(), texts=texts)
    assert outcome.fraction == fraction
    assert outcome.is_correct is correct
    assert _codes(outcome) == codes


@pytest.mark.parametrize(
    ("texts", "correct", "codes"),
    [
        (["Answer right", "Reason right"], True, set()),
        (["Answer right", "Reason wrong"], False, {"DO-NOSCALE"}),
        (["Answer wrong", "Reason right"], False, {"DO-TEST"}),
        (["Answer wrong", "Reason wrong"], False, {"DO-NOSCALE"}),  # the reason says why
        (["Answer right"], False, set()),
    ],
)
def test_two_tier_is_right_only_when_both_tiers_are(texts, correct, codes):
    outcome = _score(two_tier(), texts=texts)
    assert outcome.is_correct is correct
    assert outcome.fraction == (1 if correct else 0)
    assert _codes(outcome) == codes


@pytest.mark.parametrize(
    ("value", "correct", "codes"),
    [
        (800, True, set()),
        (800.4, True, set()),
        (799.4, False, set()),  # outside 0.5 and no distractor there: a gap, no belief
        (200, False, {"DO-PKEEP"}),  # the distractor p * 1000
        (200.3, False, {"DO-PKEEP"}),
    ],
)
def test_numeric_uses_tolerance_and_names_distractors(value, correct, codes):
    outcome = _score(numeric(), value=value, parameters={"p": 0.2})
    assert outcome.is_correct is correct
    assert _codes(outcome) == codes


def test_numeric_answer_follows_the_attempts_parameters():
    question = numeric()
    assert _score(question, value=700, parameters={"p": 0.3}).is_correct is True
    assert _score(question, value=700, parameters={"p": 0.2}).is_correct is False


def test_unanswered_scores_zero_and_reveals_nothing():
    outcome = _score(single(), answered=False)
    assert (outcome.fraction, outcome.is_correct, outcome.misconception_ids) == (
        0,
        False,
        frozenset(),
    )


def test_explain_items_are_not_scored():
    outcome = _score(explain())
    assert (outcome.fraction, outcome.is_correct) == (None, None)
