"""A session's progress on its agenda: each misconception's P(known) and the code steps."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from assessments.models import (
    Misconception,
)
from practice.mastery import mastery_threshold
from practice.models import (
    Mastery,
    PracticeSession,
    PracticeStep,
)

Kind = PracticeStep.Kind
StepState = PracticeStep.State


@dataclass(frozen=True)
class CodeProgress:
    """One agenda misconception: how likely the learner now holds the right idea."""

    code: str
    title: str
    is_prerequisite: bool
    percent: int
    mastered: bool
    steps: int


@dataclass(frozen=True)
class Progress:
    """The session's agenda, misconception by misconception."""

    items: list[CodeProgress]
    mastered: int
    total: int
    steps_done: int
    threshold_percent: int

    @property
    def percent(self) -> int:
        """Return the share of the agenda mastered, in percent."""
        return round(100 * self.mastered / self.total) if self.total else 100


def session_progress(*, session: PracticeSession) -> Progress:
    """Return P(known) and the answers so far for every code on the session's agenda."""
    codes = list(session.agenda)
    threshold = mastery_threshold()
    catalogue = {
        m.code: m
        for m in Misconception.objects.filter(code__in=codes).only("code", "title", "kind")
    }
    p_known = dict(
        Mastery.objects.filter(
            course_id=session.course_id,
            learner_id=session.learner_id,
            misconception__code__in=codes,
        ).values_list("misconception__code", "p_known")
    )
    answered = list(
        PracticeStep.objects.filter(session=session, state=StepState.DONE).values_list(
            "mastery_after", flat=True
        )
    )
    steps_on: dict[str, int] = defaultdict(int)
    for after in answered:
        for code in after or {}:
            steps_on[code] += 1
    items = []
    for code in codes:
        misconception = catalogue.get(code)
        p = p_known.get(code, 0.0)
        items.append(
            CodeProgress(
                code=code,
                title=misconception.title if misconception else code,
                is_prerequisite=bool(
                    misconception and misconception.kind == Misconception.Kind.PREREQUISITE
                ),
                percent=round(100 * p),
                mastered=p >= threshold,
                steps=steps_on[code],
            )
        )
    return Progress(
        items=items,
        mastered=sum(item.mastered for item in items),
        total=len(items),
        steps_done=len(answered),
        threshold_percent=round(100 * threshold),
    )
