"""The summary of a finished session: progress, calibration and what was explained back."""

from __future__ import annotations

from dataclasses import dataclass

from assessments.selectors import reading_beliefs
from practice.models import (
    PracticeSession,
    PracticeStep,
)
from practice.selectors.calibration import Calibration, course_calibration, session_calibration
from practice.selectors.feedback import IdeaLine, idea_lines
from practice.selectors.progress import CodeProgress, Progress, session_progress

Kind = PracticeStep.Kind


@dataclass(frozen=True)
class Explained:
    """One explain-back of the session: the text, the ideas ticked and any review."""

    number: int
    stem: str
    text: str
    ideas: list[IdeaLine]
    reviewed: bool
    review_comment: str
    reviewer: str

    @property
    def complete(self) -> bool:
        """Return whether the explanation is credited with every key idea."""
        return all(idea.credited for idea in self.ideas)

    @property
    def is_read(self) -> bool:
        """Return whether the service read the explanation against the key ideas."""
        return any(idea.read is not None for idea in self.ideas)


@dataclass(frozen=True)
class SessionSummary:
    """A finished or stopped session: what is settled, what is not, and how sure they were."""

    session: PracticeSession
    progress: Progress
    settled: list[CodeProgress]
    still_open: list[CodeProgress]
    calibration: Calibration
    course_calibration: Calibration
    explanations: list[Explained]


def session_summary(*, session: PracticeSession) -> SessionSummary:
    """Return the summary of a session (meant for finished and stopped ones)."""
    progress = session_progress(session=session)
    explains = (
        PracticeStep.objects.filter(
            session=session, kind=Kind.EXPLAIN_BACK, self_assessed_ideas__isnull=False
        )
        .select_related("question", "target", "reviewed_by")
        .order_by("number")
    )
    explanations = []
    steps = list(explains)
    beliefs = reading_beliefs(step.reading for step in steps)
    for step in steps:
        question = step.prompt
        reviewed = step.reviewed_at is not None
        reviewer = step.reviewed_by
        explanations.append(
            Explained(
                number=step.number,
                stem=question.stem,
                text=step.text,
                ideas=idea_lines(step, beliefs),
                reviewed=reviewed,
                review_comment=step.review_comment,
                reviewer=(reviewer.get_full_name() or reviewer.username) if reviewer else "",
            )
        )
    return SessionSummary(
        session=session,
        progress=progress,
        settled=[item for item in progress.items if item.mastered],
        still_open=[item for item in progress.items if not item.mastered],
        calibration=session_calibration(session=session),
        course_calibration=course_calibration(
            course_id=session.course_id, learner_id=session.learner_id
        ),
        explanations=explanations,
    )
