"""A scripted learner for practice tests: answers each step right, or wrong on purpose."""

from __future__ import annotations

from typing import Any

from assessments.answers import AnswerInput
from assessments.models import QuestionType
from assessments.numeric import expression_evaluate
from practice import services
from practice.models import PracticeSession, PracticeStep


def right_answer(step: PracticeStep, confidence: int = 4) -> AnswerInput:
    """Return the right answer to the step's question."""
    question = step.prompt
    if question.qtype == QuestionType.NUMERIC:
        value = expression_evaluate(question.answer, step.parameters)
        return AnswerInput(numeric_value=value, confidence=confidence)
    correct = [c.id for c in question.choices.all() if c.is_correct]
    return AnswerInput(choice_ids=correct, confidence=confidence)


def wrong_answer(step: PracticeStep, code: str, confidence: int) -> AnswerInput:
    """Return a wrong answer pointing at `code` (and as few other codes as possible)."""
    question = step.prompt
    if question.qtype == QuestionType.NUMERIC:
        for distractor in question.distractors.all():
            if code in {m.code for m in distractor.misconceptions.all()}:
                value = expression_evaluate(distractor.answer, step.parameters)
                return AnswerInput(numeric_value=value, confidence=confidence)
        raise AssertionError(f"{question.slug} has no distractor for {code}")
    chosen = []
    tiers = (1, 2) if question.qtype == QuestionType.TWO_TIER else (1,)
    for tier in tiers:
        options = [c for c in question.choices.all() if c.tier == tier]
        pointing = [c for c in options if code in {m.code for m in c.misconceptions.all()}]
        if pointing:
            chosen.append(min(pointing, key=lambda c: c.misconceptions.count()).id)
        else:
            chosen.append(next(c.id for c in options if c.is_correct))
    return AnswerInput(choice_ids=chosen, confidence=confidence)


class ScriptedLearner:
    """Drives one learner's practice session through the services, step by step."""

    def __init__(self, *, course: Any, learner: Any) -> None:
        self.course = course
        self.learner = learner
        self.session: PracticeSession = services.session_open(course=course, learner=learner)

    def current(self) -> PracticeStep | None:
        """Return the session's pending step (None when the session is over)."""
        self.session.refresh_from_db()
        return self.session.steps.exclude(state=PracticeStep.State.DONE).first()

    def pending(self) -> PracticeStep:
        """Return the pending step, failing the test when the session is over."""
        step = self.current()
        assert step is not None, "the session has no pending step"
        return step

    def answer(self, answer: AnswerInput) -> PracticeStep:
        """Answer the pending step; return it, done."""
        step = self.current()
        assert step is not None, "the session has no pending step"
        services.step_answer(step_id=step.id, learner=self.learner, answer=answer)
        step.refresh_from_db()
        return step

    def right(self, confidence: int = 4) -> PracticeStep:
        """Answer the pending step right."""
        step = self.current()
        assert step is not None
        return self.answer(right_answer(step, confidence))

    def wrong(self, code: str, confidence: int) -> PracticeStep:
        """Answer the pending step wrongly, pointing at `code`."""
        step = self.current()
        assert step is not None
        return self.answer(wrong_answer(step, code, confidence))

    def explain(self, text: str, ticked: list[int], confidence: int = 4) -> PracticeStep:
        """Write an explanation for the pending explain-back, then tick the ideas it has."""
        step = self.answer(AnswerInput(text=text, confidence=confidence))
        assert step.state == PracticeStep.State.CHECKING
        services.step_self_check(step_id=step.id, learner=self.learner, ideas=ticked)
        step.refresh_from_db()
        return step

    def explain_fully(self, confidence: int = 4) -> PracticeStep:
        """Explain the pending explain-back with its model answer (a text the reading finds
        every key idea in) and tick every idea."""
        step = self.pending()
        ideas = list(range(len(step.prompt.key_ideas)))
        return self.explain(step.prompt.model_answer, ticked=ideas, confidence=confidence)

    def right_until(self, kind: str) -> list[PracticeStep]:
        """Answer right until the pending step is of `kind`; return the steps answered."""
        answered: list[PracticeStep] = []
        for _ in range(60):
            step = self.current()
            assert step is not None, f"the session ended before a {kind} step"
            if step.kind == kind:
                return answered
            answered.append(self.right())
        raise AssertionError(f"no {kind} step within 60 steps")
