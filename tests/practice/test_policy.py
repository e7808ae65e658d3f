"""The tutor's rules on hand-made states: no database, every branch named in the docstring."""

from __future__ import annotations

from practice.models import PracticeStep
from practice.policy import (
    MAX_EXPLAIN_ROUNDS,
    MAX_STEPS_PER_CODE,
    SURE_AT,
    Asked,
    Item,
    State,
    next_decision,
)

Kind = PracticeStep.Kind


def _item(qid: int, qtype: str, *probes: str, wrong: tuple[frozenset[str], ...] = ()) -> Item:
    return Item(question_id=qid, qtype=qtype, probes=frozenset(probes), wrong_options=wrong)


EXPLAIN = Item(
    question_id=99, qtype="explain", probes=frozenset({"DO-ILLUSION"}), idea_codes=(("A",), ("B",))
)


def _state(history: tuple[Asked, ...] = (), mastery: dict[str, float] | None = None, **kw) -> State:
    return State(
        agenda=kw.pop("agenda", ("A", "B")),
        mastery=mastery or {"A": 0.5, "B": 0.5},
        history=history,
        threshold=0.95,
        prerequisites=frozenset(),
        **kw,
    )


def _asked(
    qid: int,
    kind: str,
    target: str | None,
    *,
    correct: bool,
    revealed=(),
    probes=("A",),
    confidence: int = 4,
    qtype: str = "single",
):
    return Asked(
        question_id=qid,
        kind=kind,
        target=target,
        qtype=qtype,
        probes=frozenset(probes),
        is_correct=correct,
        confidence=confidence,
        revealed=frozenset(revealed),
    )


def test_a_misconception_that_used_its_steps_is_left_and_the_session_moves_on():
    items = [_item(i, "single", "A") for i in range(1, 10)] + [_item(20, "single", "B"), EXPLAIN]
    # (fairly sure, confidence 3: below what asks for an explain-back on A)
    history = tuple(
        _asked(i, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=3)
        for i in range(1, MAX_STEPS_PER_CODE + 1)
    )
    decision = next_decision(items, _state(history, {"A": 0.1, "B": 0.5}))
    assert decision is not None and decision.target == "B"


def test_the_explain_back_comes_when_all_is_mastered_and_ends_after_its_rounds():
    items = [_item(1, "single", "A", "B"), EXPLAIN]
    mastered = {"A": 0.99, "B": 0.99}
    first = next_decision(items, _state(mastery=mastered))
    assert first is not None and first.kind == Kind.EXPLAIN_BACK and first.question_id == 99
    incomplete = Asked(
        question_id=99,
        kind=Kind.EXPLAIN_BACK,
        target=None,
        qtype="explain",
        probes=frozenset({"DO-ILLUSION"}),
        is_correct=False,
        missing_ideas=(("idea B", ("B",)),),
    )
    again = next_decision(items, _state((incomplete,), mastered))
    assert again is not None and again.kind == Kind.EXPLAIN_BACK and "again" in again.reason
    rounds = (incomplete,) * MAX_EXPLAIN_ROUNDS
    assert next_decision(items, _state(rounds, mastered)) is None


def test_without_an_explain_item_the_session_ends_when_all_is_mastered():
    items = [_item(1, "single", "A", "B")]
    assert next_decision(items, _state(mastery={"A": 0.99, "B": 0.99})) is None


def test_the_answer_to_a_separating_item_shows_which_belief_is_held():
    pair = (("A", "B"),)
    separate = frozenset({"A"}), frozenset({"B"})
    items = [
        _item(1, "single", "A"),
        _item(2, "single", "B"),
        _item(3, "single", "A", "B", wrong=separate),
        _item(4, "single", "A", "B", wrong=separate),
        _item(5, "twotier", "A"),
    ]
    mixed = (
        _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",)),
        _asked(2, Kind.PROBE, "B", correct=False, revealed=("B",), probes=("B",)),
    )
    separating = next_decision(items, _state(mixed, pairs=pair))
    assert separating is not None and separating.kind == Kind.SEPARATING
    assert separating.question_id == 3
    # when the separating item's answer points at A alone, A is remediated, not separated again
    shown = _asked(3, Kind.SEPARATING, "A", correct=False, revealed=("A",), probes=("A", "B"))
    following = next_decision(items, _state((*mixed, shown), pairs=pair))
    assert following is not None and following.kind == Kind.REMEDIATION
    assert following.target == "A" and following.question_id == 5  # another type: two-tier


# Rule 1: a sure wrong answer is explained back, right after the step that follows it.

SCALING = Item(
    question_id=98,
    qtype="explain",
    probes=frozenset({"DO-ILLUSION", "A"}),
    idea_codes=(("A",), ("A", "C"), ("C",)),
)
CLOSING = Item(
    question_id=97, qtype="explain", probes=frozenset({"DO-ILLUSION"}), idea_codes=(("A",), ("B",))
)


def _explained(qid: int | None, target: str | None, *, missing=()) -> Asked:
    return Asked(
        question_id=qid,
        kind=Kind.EXPLAIN_BACK,
        target=target,
        qtype="explain",
        probes=frozenset({"DO-ILLUSION", target or "A"}),
        is_correct=not missing,
        confidence=3,
        missing_ideas=tuple(missing),
    )


def _items() -> list[Item]:
    # the closing prompt comes first in the course's order; SCALING is about A too
    return [
        CLOSING,
        *(_item(i, "single", "A") for i in range(1, 4)),
        _item(4, "twotier", "A"),
        _item(5, "single", "B"),
        _item(6, "single", "C"),
        SCALING,
    ]


def test_a_sure_wrong_answer_gets_its_other_angle_then_an_explain_back_on_its_idea():
    sure = _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=SURE_AT)
    # when: just after it, the other angle (rule 4) comes first
    first = next_decision(_items(), _state((sure,), {"A": 0.2, "B": 0.5}, titles={"A": "Idea A"}))
    assert first is not None and first.kind == Kind.REMEDIATION and first.question_id == 4
    # when: the other angle is answered (right or wrong)
    for correct in (True, False):
        angle = _asked(
            4, Kind.REMEDIATION, "A", correct=correct, revealed=() if correct else ("A",)
        )
        state = _state((sure, angle), {"A": 0.3, "B": 0.5}, titles={"A": "Idea A"})
        decision = next_decision(_items(), state)
        # then: explain A back, on the explain item about A that is not the closing prompt
        assert decision is not None and decision.kind == Kind.EXPLAIN_BACK
        assert (decision.question_id, decision.target) == (98, "A")
        assert decision.reason == (
            "Two steps ago you were sure (confidence 4 of 5) of an answer that pointed at "
            "“Idea A”. Explain that idea back in your own words."
        )


def test_an_answer_not_sure_enough_gets_no_explain_back():
    fairly = _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=SURE_AT - 1)
    angle = _asked(4, Kind.REMEDIATION, "A", correct=True)
    decision = next_decision(_items(), _state((fairly, angle), {"A": 0.3, "B": 0.5}))
    assert decision is not None and decision.kind != Kind.EXPLAIN_BACK


def test_a_sure_right_answer_gets_no_explain_back():
    right = _asked(1, Kind.PROBE, "A", correct=True, confidence=5)
    angle = _asked(2, Kind.PROBE, "A", correct=True, confidence=5)
    decision = next_decision(_items(), _state((right, angle), {"A": 0.9, "B": 0.5}))
    assert decision is not None and decision.kind == Kind.PROBE


def test_the_explain_back_is_not_an_answer_the_follow_ups_go_on_after_it():
    # given: sure and wrong on A, wrong again on the other angle, then A explained back
    sure = _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=5)
    angle = _asked(4, Kind.REMEDIATION, "A", correct=False, revealed=("A",), confidence=5)
    history = (sure, angle, _explained(98, "A"))
    decision = next_decision(_items(), _state(history, {"A": 0.1, "B": 0.5}))
    # then: the other angle's wrong answer is followed up (rule 4), and no second
    # explain-back on A comes for it, although it was sure too
    assert decision is not None and decision.kind == Kind.REMEDIATION
    assert decision.target == "A" and decision.question_id == 2
    following = _asked(2, Kind.REMEDIATION, "A", correct=True)
    after = next_decision(_items(), _state((*history, following), {"A": 0.3, "B": 0.5}))
    assert after is not None and after.kind != Kind.EXPLAIN_BACK


def test_without_an_explain_item_on_the_idea_the_catalogue_prompt_is_used():
    # given: no explain item maps a key idea to D
    sure = _asked(7, Kind.PROBE, "D", correct=False, revealed=("D",), probes=("D",), confidence=5)
    other = _asked(1, Kind.PROBE, "A", correct=True)
    items = [*_items(), _item(7, "single", "D"), _item(8, "single", "D")]
    mastery = {"A": 0.8, "B": 0.5, "D": 0.2}
    # when the catalogue has a prompt for D
    state = _state((sure, other), mastery, agenda=("A", "B", "D"), prompts=frozenset({"D"}))
    decision = next_decision(items, state)
    # then: an explain-back on D with no item (the service makes it from the catalogue)
    assert decision is not None and decision.kind == Kind.EXPLAIN_BACK
    assert (decision.question_id, decision.target) == (None, "D")
    # and without a catalogue prompt, nothing to explain back on: the session moves on
    moved_on = next_decision(items, _state((sure, other), mastery, agenda=("A", "B", "D")))
    assert moved_on is not None and moved_on.kind != Kind.EXPLAIN_BACK


def test_a_missed_prerequisite_is_explained_back_between_its_checks():
    prerequisite = Item(
        question_id=10, qtype="single", probes=frozenset({"P"}), is_prerequisite=True
    )
    recheck = Item(question_id=11, qtype="truefalse", probes=frozenset({"P"}), is_prerequisite=True)
    own = Item(
        question_id=12,
        qtype="explain",
        probes=frozenset({"P", "DO-ILLUSION"}),
        is_prerequisite=True,
        idea_codes=(("P",), ("P",)),
    )
    items = [prerequisite, recheck, own, _item(1, "single", "A"), CLOSING]
    missed = _asked(10, Kind.PREREQUISITE, "P", correct=False, revealed=("P",), confidence=5)
    checked = _asked(11, Kind.RECHECK, "P", correct=True, probes=("P",))
    state = State(
        agenda=("P", "A"),
        mastery={"P": 0.6, "A": 0.5},
        history=(missed, checked),
        threshold=0.95,
        prerequisites=frozenset({"P"}),
        titles={"P": "Idea P"},
    )
    decision = next_decision(items, state)
    # then: the prerequisite's own explain item (never a check, never the closing prompt)
    assert decision is not None and decision.kind == Kind.EXPLAIN_BACK
    assert (decision.question_id, decision.target) == (12, "P")
    assert "of an answer that missed “Idea P”" in decision.reason
    # and the prerequisite's explain item is never a check: with P unsettled and no check
    # item left, the session goes on to dropout
    after = State(
        agenda=("P", "A"),
        mastery={"P": 0.6, "A": 0.5},
        history=(missed, checked, _explained(12, "P")),
        threshold=0.95,
        prerequisites=frozenset({"P"}),
    )
    following = next_decision(items, after)
    assert following is not None and following.question_id == 1


def test_an_idea_is_explained_back_once_per_session():
    earlier = _explained(98, "A")
    sure = _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=5)
    angle = _asked(4, Kind.REMEDIATION, "A", correct=True)
    decision = next_decision(_items(), _state((earlier, sure, angle), {"A": 0.3, "B": 0.5}))
    assert decision is not None and decision.kind != Kind.EXPLAIN_BACK


def test_with_nothing_else_to_ask_the_explain_back_comes_at_once_and_the_closing_one_after():
    # given: A and B settled, but the last answer on item 3 was sure and wrong on A
    mastered = {"A": 0.96, "B": 0.99}
    sure = _asked(3, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=5)
    items = [CLOSING, _item(3, "single", "A"), _item(5, "single", "B"), SCALING]
    decision = next_decision(items, _state((sure,), mastered, titles={"A": "Idea A"}))
    assert decision is not None and decision.kind == Kind.EXPLAIN_BACK
    assert (decision.question_id, decision.target) == (98, "A")
    assert decision.reason.startswith("Just now you were sure (confidence 5 of 5)")
    # when: it is complete, the session is not over: the closing explain-back comes
    closing = next_decision(items, _state((sure, _explained(98, "A")), mastered))
    assert closing is not None and closing.kind == Kind.EXPLAIN_BACK
    assert (closing.question_id, closing.target) == (97, None)
    assert "Last step" in closing.reason
    # and a complete closing one ends it
    done = (sure, _explained(98, "A"), _explained(97, None))
    assert next_decision(items, _state(done, mastered)) is None


def test_an_explain_item_already_asked_is_used_only_when_no_other_covers_the_idea():
    sure = _asked(1, Kind.PROBE, "A", correct=False, revealed=("A",), confidence=5)
    angle = _asked(4, Kind.REMEDIATION, "A", correct=True)
    # SCALING was asked already (for C): the closing prompt, which also covers A, comes first
    asked = _explained(98, "C")
    decision = next_decision(_items(), _state((asked, sure, angle), {"A": 0.3, "B": 0.5}))
    assert decision is not None and (decision.question_id, decision.target) == (97, "A")
