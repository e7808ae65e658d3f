"""Which item comes next: the tutor's rules, as a pure function of the learner's state.

After every answer, in this order:

1. Sure, but wrong: explain it back. An answer given with confidence `SURE_AT` or more
   that points at a misconception (or misses a prerequisite) X first gets its follow-up
   (whatever rules 2 to 6 choose: a fresh check, a separating item, another angle); the
   step after that asks the learner to explain X back in their own words. The prompt is
   the explain item whose key ideas map to X (`key_idea_probes`): one not yet asked in
   the session first, then one other than the closing prompt, then the one most about X.
   Without one, X's own prompt from the catalogue, whose one key idea is what is true
   about X. At most one such explain-back per code and session; it is evidence like any
   explain-back (rule 5 follows up what it leaves out) and does not end the session. It
   interrupts and does not count as an answer: for rules 3 and 4 the latest answer is
   still the one before it.
2. Prerequisites first. Each prerequisite on the agenda that is not mastered gets a check;
   a missed one gets an explanation (shown with the answer) and a fresh check on another
   item, up to `MAX_PREREQUISITE_CHECKS`, before any dropout item.
3. Two ideas being confused. When answers since the pair's last separating item have
   pointed at both misconceptions of a confused pair (in one answer or in several), and the
   latest answer pointed at one of them, an item that tells them apart: it probes both,
   and its wrong options point at each separately where one exists. At most
   `MAX_SEPARATING_PER_PAIR` per pair and session.
4. A wrong answer. Another item on the misconception it pointed at (the least mastered
   one), of a question type not yet used on it in this session where one exists: two-tier,
   numeric, code, then the rest.
5. A gap in an explanation. Key ideas the learner's latest explain-back left out send them
   to items on the misconceptions those ideas answer.
6. Otherwise the next misconception to settle: those already touched and not mastered,
   least mastered first, then the untouched ones in agenda order. The item is the one
   probing it that also probes the most other unsettled misconceptions (code exercises
   last: they take longest), in the instructor's order on ties.
7. A sure wrong answer just given and owed its explain-back (rule 1), when rules 2 to 6
   have nothing to ask.
8. When every agenda misconception is mastered (or has used up its items or its
   `MAX_STEPS_PER_CODE` steps): explain dropout back (the first explain item of the course
   that is not about a prerequisite), until such an explanation has every key idea or
   `MAX_EXPLAIN_ROUNDS` are used; then the session is over.

An item is asked at most once per session, except explain-back prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assessments.models import QuestionType
from practice.models import PracticeStep

Kind = PracticeStep.Kind

MAX_PREREQUISITE_CHECKS = 3
MAX_STEPS_PER_CODE = 6
MAX_EXPLAIN_ROUNDS = 3
MAX_SEPARATING_PER_PAIR = 2
CONFIDENT_ABOVE = 2.5  # the CRI threshold of assessments.diagnosis
SURE_AT = 4  # "almost certain" or "certain": a wrong answer this sure is explained back
# Where a misconception has been met one way, meet it another: most telling types first.
TYPE_PREFERENCE = (
    QuestionType.TWO_TIER,
    QuestionType.NUMERIC,
    QuestionType.CODE,
    QuestionType.SINGLE,
    QuestionType.MULTIPLE,
    QuestionType.TRUE_FALSE,
)


@dataclass(frozen=True)
class Item:
    """A question as practice sees it."""

    question_id: int
    qtype: str
    probes: frozenset[str]
    # Per wrong option (choice or numeric distractor): the codes it points at.
    wrong_options: tuple[frozenset[str], ...] = ()
    is_prerequisite: bool = False
    # Explain-back items: per key idea, the codes a learner who leaves it out may hold.
    idea_codes: tuple[tuple[str, ...], ...] = ()

    @property
    def is_explain(self) -> bool:
        """Return whether this is an explain-back prompt."""
        return self.qtype == QuestionType.EXPLAIN

    def separates(self, first: str, second: str) -> bool:
        """Return whether some wrong option points at each code without the other."""
        return any(first in o and second not in o for o in self.wrong_options) and any(
            second in o and first not in o for o in self.wrong_options
        )


@dataclass(frozen=True)
class Asked:
    """A finished step, as the rules need it."""

    # None: an explain-back on a misconception's own prompt from the catalogue.
    question_id: int | None
    kind: str
    target: str | None
    qtype: str
    probes: frozenset[str]
    is_correct: bool | None
    confidence: int | None = None
    revealed: frozenset[str] = frozenset()
    # Explain-back: the key ideas left out, as (idea text, its codes).
    missing_ideas: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_wrong(self) -> bool:
        """Return whether the answer was judged wrong."""
        return self.is_correct is False


@dataclass(frozen=True)
class State:
    """What the rules know about the learner and the course."""

    agenda: tuple[str, ...]
    mastery: dict[str, float]
    history: tuple[Asked, ...]
    threshold: float
    prerequisites: frozenset[str]
    pairs: tuple[tuple[str, str], ...] = ()
    titles: dict[str, str] = field(default_factory=dict)
    # Codes whose catalogue entry has an explain-back prompt of its own.
    prompts: frozenset[str] = frozenset()

    def mastered(self, code: str) -> bool:
        """Return whether P(known) of `code` has reached the threshold."""
        return self.mastery.get(code, 0.0) >= self.threshold

    def title(self, code: str) -> str:
        """Return the code's title for reasons shown to the learner."""
        return self.titles.get(code, code)


@dataclass(frozen=True)
class Decision:
    """The next step: which item, why, and for which misconception."""

    kind: str
    # None: explain back the target misconception from its own catalogue prompt.
    question_id: int | None
    target: str | None
    reason: str


def _asked_ids(state: State) -> set[int]:
    return {
        step.question_id
        for step in state.history
        if step.kind != Kind.EXPLAIN_BACK and step.question_id is not None
    }


def _steps_on(state: State, code: str) -> list[Asked]:
    return [step for step in state.history if step.target == code]


def _dropout_items(items: Sequence[Item], state: State) -> list[Item]:
    asked = _asked_ids(state)
    return [
        item
        for item in items
        if not item.is_prerequisite and not item.is_explain and item.question_id not in asked
    ]


def _prerequisite_check(items: Sequence[Item], state: State) -> Decision | None:
    asked = _asked_ids(state)
    for code in state.agenda:
        if code not in state.prerequisites or state.mastered(code):
            continue
        checks = [step for step in _steps_on(state, code) if step.kind != Kind.EXPLAIN_BACK]
        if len(checks) >= MAX_PREREQUISITE_CHECKS:
            continue
        last_qtype = checks[-1].qtype if checks else None
        fresh = [
            item
            for item in items
            if item.is_prerequisite
            and not item.is_explain
            and code in item.probes
            and item.question_id not in asked
        ]
        if not fresh:
            continue
        fresh.sort(key=lambda item: item.qtype == last_qtype)  # stable: order kept on ties
        if not checks:
            reason = f"First, a quick check of something dropout builds on: “{state.title(code)}”."
            return Decision(Kind.PREREQUISITE, fresh[0].question_id, code, reason)
        if checks[-1].is_wrong:
            reason = f"A fresh check on “{state.title(code)}”, now you have read the explanation."
        else:
            reason = f"One more check on “{state.title(code)}” before dropout itself."
        return Decision(Kind.RECHECK, fresh[0].question_id, code, reason)
    return None


def _latest_answer(state: State) -> Asked | None:
    """The latest step that is not an explain-back on one misconception (rule 1)."""
    for step in reversed(state.history):
        if step.kind != Kind.EXPLAIN_BACK or step.target is None:
            return step
    return None


def _separating(items: Sequence[Item], state: State) -> Decision | None:
    last = _latest_answer(state)
    if last is None:
        return None
    if last.kind == Kind.EXPLAIN_BACK:
        return None  # ideas left out of an explanation are gaps, not a mix-up
    for first, second in state.pairs:
        pair = {first, second}
        if not last.revealed & pair:
            continue
        # Evidence since the last separating item for this pair: its own answer shows which
        # of the two the learner holds, so only later answers can renew the confusion.
        given = [
            index
            for index, step in enumerate(state.history)
            if step.kind == Kind.SEPARATING and pair <= step.probes
        ]
        if len(given) >= MAX_SEPARATING_PER_PAIR:
            continue
        since = state.history[given[-1] + 1 :] if given else state.history
        answers = [step for step in since if step.kind != Kind.EXPLAIN_BACK]
        if not pair <= {code for step in answers for code in step.revealed}:
            continue
        candidates = [item for item in _dropout_items(items, state) if pair <= item.probes]
        if not candidates:
            continue
        candidates.sort(key=lambda item: not item.separates(first, second))
        reason = (
            f"Your answers have pointed both at “{state.title(first)}” and at "
            f"“{state.title(second)}”. This one tells the two apart."
        )
        return Decision(Kind.SEPARATING, candidates[0].question_id, first, reason)
    return None


def _types_used_on(state: State, code: str) -> set[str]:
    return {step.qtype for step in state.history if code in step.probes}


def _another_angle(items: Sequence[Item], state: State, code: str) -> Item | None:
    candidates = [item for item in _dropout_items(items, state) if code in item.probes]
    if not candidates:
        return None
    used = _types_used_on(state, code)

    def rank(item: Item) -> tuple[bool, int]:
        preference = TYPE_PREFERENCE.index(item.qtype) if item.qtype in TYPE_PREFERENCE else 99
        return (item.qtype in used, preference)

    return min(candidates, key=rank)  # min is stable: the first of equals in course order


def _exhausted(items: Sequence[Item], state: State, code: str) -> bool:
    if len(_steps_on(state, code)) >= MAX_STEPS_PER_CODE:
        return True
    return not any(code in item.probes for item in _dropout_items(items, state))


def _remediation(items: Sequence[Item], state: State) -> Decision | None:
    last = _latest_answer(state)
    if last is None or not last.is_wrong or last.kind == Kind.EXPLAIN_BACK:
        return None
    order = {code: index for index, code in enumerate(state.agenda)}
    held = sorted(
        (c for c in last.revealed if c not in state.prerequisites and not state.mastered(c)),
        key=lambda c: (state.mastery.get(c, 0.0), order.get(c, len(order)), c),
    )
    for code in held:
        if len(_steps_on(state, code)) >= MAX_STEPS_PER_CODE:
            continue
        item = _another_angle(items, state, code)
        if item is None:
            continue
        sure = last.confidence is not None and last.confidence > CONFIDENT_ABOVE
        if sure:
            reason = (
                f"You were sure (confidence {last.confidence} of 5), but that answer pointed "
                f"at “{state.title(code)}”. Here is the same idea from another angle."
            )
        else:
            reason = f"That answer pointed at “{state.title(code)}”. Another look at it."
        return Decision(Kind.REMEDIATION, item.question_id, code, reason)
    return None


def _explanation_gap(items: Sequence[Item], state: State) -> Decision | None:
    explains = [step for step in state.history if step.kind == Kind.EXPLAIN_BACK]
    if not explains:
        return None
    for idea, codes in explains[-1].missing_ideas:
        for code in codes:
            if state.mastered(code) or _exhausted(items, state, code):
                continue
            item = _another_angle(items, state, code)
            if item is None:
                continue
            reason = f"Your explanation left out: “{idea}”. This item is about that."
            return Decision(Kind.REMEDIATION, item.question_id, code, reason)
    return None


def _next_probe(items: Sequence[Item], state: State) -> Decision | None:
    unsettled = [
        code
        for code in state.agenda
        if code not in state.prerequisites
        and not state.mastered(code)
        and not _exhausted(items, state, code)
    ]
    if not unsettled:
        return None
    touched = {code for step in state.history for code in step.probes}
    order = {code: index for index, code in enumerate(state.agenda)}
    started = sorted(
        (c for c in unsettled if c in touched),
        key=lambda c: (state.mastery.get(c, 0.0), order[c]),
    )
    fresh = [c for c in unsettled if c not in touched]
    target = (started + fresh)[0]
    unsettled_set = set(unsettled)
    candidates = [item for item in _dropout_items(items, state) if target in item.probes]

    def rank(item: Item) -> tuple[bool, int]:
        return (item.qtype == QuestionType.CODE, -len(item.probes & unsettled_set))

    item = min(candidates, key=rank)
    if target in touched:
        reason = f"More evidence on “{state.title(target)}” until it is settled."
    else:
        reason = f"Next: what you believe about “{state.title(target)}”."
    return Decision(Kind.PROBE, item.question_id, target, reason)


def _closing_prompts(items: Sequence[Item]) -> list[Item]:
    """Explain items about dropout itself, in course order (not about a prerequisite)."""
    return [
        item for item in items if item.is_explain and item.idea_codes and not item.is_prerequisite
    ]


def _explain_back(items: Sequence[Item], state: State) -> Decision | None:
    # The closing explain-backs only: those on one misconception (rule 1) have a target.
    explains = [
        step for step in state.history if step.kind == Kind.EXPLAIN_BACK and step.target is None
    ]
    if explains and not explains[-1].missing_ideas:
        return None
    if len(explains) >= MAX_EXPLAIN_ROUNDS:
        return None
    prompts = _closing_prompts(items)
    if not prompts:
        return None
    if explains:
        reason = "Now explain it back again, with what you have just practised."
    else:
        reason = (
            "Last step: saying you understand is not evidence; explaining it is. "
            "Write the explanation, then check it against the key ideas."
        )
    return Decision(Kind.EXPLAIN_BACK, prompts[0].question_id, None, reason)


def _explain_item(items: Sequence[Item], state: State, code: str) -> Item | None:
    """The explain item with key ideas on `code`: one not asked yet in the session first,
    then one other than the closing prompt, then the one most about it (an idea counts for
    its share of the codes it maps to)."""
    candidates = [
        item for item in items if item.is_explain and any(code in c for c in item.idea_codes)
    ]
    if not candidates:
        return None
    asked = {step.question_id for step in state.history if step.kind == Kind.EXPLAIN_BACK}
    closing = {item.question_id for item in _closing_prompts(items)[:1]}

    def rank(item: Item) -> tuple[bool, bool, float]:
        on_code = sum(1 / len(codes) for codes in item.idea_codes if code in codes)
        return (item.question_id in asked, item.question_id in closing, -on_code)

    return min(candidates, key=rank)  # min is stable: the first of equals in course order


def _sure_explain_back(items: Sequence[Item], state: State, *, ago: int) -> Decision | None:
    """Explain back what the answer `ago` steps back was sure of, if it was wrong (rule 1)."""
    if len(state.history) < ago:
        return None
    answer = state.history[-ago]
    if answer.kind == Kind.EXPLAIN_BACK or not answer.is_wrong:
        return None
    if answer.confidence is None or answer.confidence < SURE_AT:
        return None
    since = state.history[len(state.history) - ago + 1 :]
    if any(step.kind == Kind.EXPLAIN_BACK and step.target in answer.revealed for step in since):
        return None  # this answer has had its explain-back
    explained = {
        step.target for step in state.history if step.kind == Kind.EXPLAIN_BACK and step.target
    }
    order = {code: index for index, code in enumerate(state.agenda)}
    held = sorted(
        (code for code in answer.revealed if code not in explained),
        key=lambda c: (state.mastery.get(c, 0.0), order.get(c, len(order)), c),
    )
    for code in held:
        item = _explain_item(items, state, code)
        if item is None and code not in state.prompts:
            continue
        when = "Just now you were" if ago == 1 else "Two steps ago you were"
        verb = "missed" if code in state.prerequisites else "pointed at"
        reason = (
            f"{when} sure (confidence {answer.confidence} of 5) of an answer that {verb} "
            f"“{state.title(code)}”. Explain that idea back in your own words."
        )
        question_id = item.question_id if item is not None else None
        return Decision(Kind.EXPLAIN_BACK, question_id, code, reason)
    return None


def _sure_explain_back_due(items: Sequence[Item], state: State) -> Decision | None:
    return _sure_explain_back(items, state, ago=2)


def _sure_explain_back_now(items: Sequence[Item], state: State) -> Decision | None:
    return _sure_explain_back(items, state, ago=1)


def next_decision(items: Sequence[Item], state: State) -> Decision | None:
    """Return the next step of the session, or None when the session is over."""
    for rule in (
        _sure_explain_back_due,
        _prerequisite_check,
        _separating,
        _remediation,
        _explanation_gap,
        _next_probe,
        _sure_explain_back_now,
        _explain_back,
    ):
        decision = rule(items, state)
        if decision is not None:
            return decision
    return None
