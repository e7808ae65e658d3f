import pytest

from assessments.diagnosis import Evidence, Quadrant, diagnose, quadrant_of, strongest_misconception


@pytest.mark.parametrize(
    ("correct", "confidence", "quadrant"),
    [
        (False, 3, Quadrant.MISCONCEPTION),
        (False, 5, Quadrant.MISCONCEPTION),
        (False, 2, Quadrant.GAP),
        (False, 0, Quadrant.GAP),
        (True, 2, Quadrant.LUCKY_GUESS),
        (True, 0, Quadrant.LUCKY_GUESS),
        (True, 3, Quadrant.KNOWLEDGE),
        (True, 5, Quadrant.KNOWLEDGE),
    ],
)
def test_each_answer_falls_in_its_cri_quadrant(correct, confidence, quadrant):
    assert quadrant_of(correct=correct, confidence=confidence) is quadrant


def test_a_belief_is_held_when_sure_wrong_answers_outnumber_sure_right_ones():
    # given: DO-TEST wrong and sure (4), wrong and unsure (2), right but unsure (2);
    # DO-NOSCALE wrong and sure once, right and sure once; DO-SCHEME sure wrong twice
    # against one sure right
    evidence = [
        Evidence("DO-TEST", False, 4),
        Evidence("DO-TEST", False, 2),
        Evidence("DO-TEST", True, 2),
        Evidence("DO-NOSCALE", False, 5),
        Evidence("DO-NOSCALE", True, 4),
        Evidence("DO-SCHEME", False, 3),
        Evidence("DO-SCHEME", False, 5),
        Evidence("DO-SCHEME", True, 5),
        Evidence("DO-SPEED", False, 1),
        Evidence("DO-DATA", True, 1),
        Evidence("DO-PKEEP", True, 4),
    ]
    # when
    verdicts = {v.code: v for v in diagnose(evidence)}
    # then: an unsure right answer does not outweigh a sure wrong one
    assert verdicts["DO-TEST"].quadrant is Quadrant.MISCONCEPTION
    assert (verdicts["DO-TEST"].right, verdicts["DO-TEST"].wrong) == (1, 2)
    assert verdicts["DO-TEST"].mean_confidence == 3
    # sure both ways once each: a gap, not a held belief
    assert verdicts["DO-NOSCALE"].quadrant is Quadrant.GAP
    assert verdicts["DO-SCHEME"].quadrant is Quadrant.MISCONCEPTION
    assert verdicts["DO-SPEED"].quadrant is Quadrant.GAP
    assert verdicts["DO-DATA"].quadrant is Quadrant.LUCKY_GUESS
    assert verdicts["DO-PKEEP"].quadrant is Quadrant.KNOWLEDGE


def test_the_explain_back_target_is_the_most_firmly_held_belief():
    verdicts = diagnose(
        [
            Evidence("DO-SPEED", False, 3),
            Evidence("DO-TEST", False, 5),
            Evidence("DO-TEST", False, 4),
            Evidence("DO-DATA", False, 1),
        ]
    )
    strongest = strongest_misconception(verdicts)
    assert strongest is not None
    assert strongest.code == "DO-TEST"


def test_gaps_are_the_target_when_nothing_is_held_confidently():
    strongest = strongest_misconception(
        diagnose([Evidence("DO-DATA", False, 1), Evidence("DO-TEST", True, 5)])
    )
    assert strongest is not None
    assert strongest.code == "DO-DATA"


def test_no_target_when_everything_was_right():
    assert strongest_misconception(diagnose([Evidence("DO-DATA", True, 1)])) is None
