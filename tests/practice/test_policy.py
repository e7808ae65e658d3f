"""The tutor's rules on hand-made states: no database, every branch named in the docstring."""

from __future__ import annotations

from practice.models import PracticeStep
from practice.policy import (
    MAX_EXPLAIN_ROUNDS,
    MAX_STEPS_PER_CODE,
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


def _asked(qid: int, kind: str, target: str | None, *, correct: bool, revealed=(), probes=("A",)):
    return Asked(
        question_id=qid,
        kind=kind,
        target=target,
        qtype="single",
        probes=frozenset(probes),
        is_correct=correct,
        confidence=4,
        revealed=frozenset(revealed),
    )


def test_a_misconception_that_used_its_steps_is_left_and_the_session_moves_on():
    items = [_item(i, "single", "A") for i in range(1, 10)] + [_item(20, "single", "B"), EXPLAIN]
    history = tuple(
        _asked(i, Kind.PROBE, "A", correct=False, revealed=("A",))
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
