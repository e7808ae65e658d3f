"""Choose and make a session's next step after an answer (or at its start)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from assessments.draws import choice_order_draw
from assessments.models import Misconception
from assessments.numeric import parameters_draw
from practice import policy
from practice.explain_back import explain_credit
from practice.mastery import masteries, mastery_threshold
from practice.models import Mastery, PracticeSession, PracticeStep
from practice.selectors.bank_items import bank_items, question_answerable
from practice.selectors.items import confused_pairs, practice_items

Kind = PracticeStep.Kind
StepState = PracticeStep.State
ILLUSION = "DO-ILLUSION"


@dataclass
class Known:
    """What an answer's request has read already and the next step reuses: the banks'
    fingerprint, the course's items and the learner's mastery rows."""

    version: str
    items: list[policy.Item]
    rows: dict[str, Mastery]

    @classmethod
    def read(cls, session: PracticeSession, version: str, extra_codes: Sequence[str] = ()) -> Known:
        """Read the course's items and the learner's mastery of every code they touch."""
        items = practice_items(course=session.course, version=version)
        codes = [*session.agenda, *(code for item in items for code in item.probes), *extra_codes]
        return cls(version, items, masteries(session.course, session.learner, codes))


def _asked(step: PracticeStep, probes: frozenset[str], revealed: frozenset[str]) -> policy.Asked:
    question = step.prompt
    missing: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if step.kind == Kind.EXPLAIN_BACK and step.self_assessed_ideas is not None:
        credit = explain_credit(question, step.self_assessed_ideas, step.reading)
        missing = tuple(
            (idea, tuple(credit.idea_codes(question, index)))
            for index, idea in enumerate(question.key_ideas)
            if index not in credit.credited
        )
    if step.question is None:  # a catalogue prompt: its target, and whether it is explained
        probes = frozenset(code for codes in question.key_idea_probes for code in codes)
        probes |= {ILLUSION}
    return policy.Asked(
        question_id=step.question_id,
        kind=step.kind,
        target=step.target.code if step.target else None,
        qtype=question.qtype,
        probes=probes,
        is_correct=step.is_correct,
        confidence=step.confidence,
        revealed=revealed,
        missing_ideas=missing,
    )


def _history(session: PracticeSession, version: str) -> tuple[tuple[policy.Asked, ...], int]:
    """Return the session's finished steps as the policy sees them, and the highest step
    number (one query: a row per step and revealed code; probes from the cached banks)."""
    rows = (
        PracticeStep.objects.filter(session=session, state=StepState.DONE)
        .select_related("question", "target")
        .annotate(revealed_code=F("revealed__code"))
        .order_by("number")
    )
    steps: dict[int, tuple[PracticeStep, set[str]]] = {}
    for row in rows:
        codes = steps.setdefault(row.id, (row, set()))[1]
        if row.revealed_code:
            codes.add(row.revealed_code)
    bank = bank_items(version=version)
    history = tuple(
        _asked(
            step,
            bank[step.question_id].item.probes if step.question_id in bank else frozenset(),
            frozenset(codes),
        )
        for step, codes in steps.values()
    )
    return history, max((step.number for step, _ in steps.values()), default=0)


def _state(
    session: PracticeSession, known: Known, history: tuple[policy.Asked, ...]
) -> policy.State:
    # Only the codes the course's items and the agenda name, whatever else the answer moved.
    codes = set(session.agenda) | {code for item in known.items for code in item.probes}
    rows = {code: row for code, row in known.rows.items() if code in codes}
    return policy.State(
        agenda=tuple(session.agenda),
        mastery={code: row.p_known for code, row in rows.items()},
        history=history,
        threshold=mastery_threshold(),
        prerequisites=frozenset(
            code for item in known.items if item.is_prerequisite for code in item.probes
        ),
        pairs=tuple(confused_pairs(course=session.course)),
        titles={code: row.misconception.title for code, row in rows.items()},
        # An illusion of understanding is not a belief to explain back on its own.
        prompts=frozenset(
            code
            for code, row in rows.items()
            if row.misconception.explain_prompt.strip() and code != ILLUSION
        ),
    )


def _step_create(
    session: PracticeSession, decision: policy.Decision, number: int, known: Known
) -> PracticeStep:
    target: Misconception | None = None
    if decision.target:
        row = known.rows.get(decision.target)
        target = (
            row.misconception
            if row is not None
            else Misconception.objects.filter(code=decision.target).first()
        )
    if decision.question_id is None:  # the target's own explain-back prompt
        return PracticeStep.objects.create(
            session=session,
            number=number,
            kind=decision.kind,
            target=target,
            reason=decision.reason[:300],
        )
    question = question_answerable(question_id=decision.question_id, version=known.version)
    # Shuffles and numeric variants are not security-sensitive.
    rng = random.Random(secrets.randbits(62))  # noqa: S311
    return PracticeStep.objects.create(
        session=session,
        number=number,
        kind=decision.kind,
        question=question,
        target=target,
        reason=decision.reason[:300],
        parameters=parameters_draw(question.parameters, rng) if question.parameters else {},
        choice_order=choice_order_draw(question, rng, True),
    )


def session_advance(session: PracticeSession, now: datetime, known: Known) -> PracticeStep | None:
    """Make the session's next step, or finish the session; return the step."""
    history, last_number = _history(session, known.version)
    decision = policy.next_decision(known.items, _state(session, known, history))
    if decision is None:
        session.state = PracticeSession.State.FINISHED
        session.ended_at = now
        session.save(update_fields=["state", "ended_at", "updated_at"])
        return None
    return _step_create(session, decision, last_number + 1, known)
