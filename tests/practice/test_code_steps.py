"""A code exercise as a practice step, graded by a real Celery worker in the sandbox."""

from __future__ import annotations

import time

import pytest

from assessments.catalog import catalog_load
from courses.models import Course, Enrollment
from grader.exercises import exercise_get
from practice import services
from practice.models import PracticeStep
from tests.practice.scripted import ScriptedLearner

Kind = PracticeStep.Kind


def _wait_done(step: PracticeStep, seconds: float = 60.0) -> PracticeStep:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        step.refresh_from_db()
        if step.state == PracticeStep.State.DONE:
            return step
        time.sleep(0.1)
    raise AssertionError(f"step {step.number} still {step.state} after {seconds} s")


def _to_the_code_step(course: Course, learner) -> tuple[ScriptedLearner, PracticeStep]:
    """Hold DO-TEST through a single-choice probe, then a two-tier and a numeric item from
    other angles; fairly sure (confidence 3), so no explain-back comes between them."""
    Enrollment.objects.create(course=course, learner=learner)
    scripted = ScriptedLearner(course=course, learner=learner)
    scripted.right()
    scripted.right()
    for expected in ("single", "twotier", "numeric"):
        step = scripted.pending()
        assert step.prompt.qtype == expected
        scripted.wrong("DO-TEST", confidence=3)
    return scripted, scripted.pending()


@pytest.mark.django_db(transaction=True)
def test_a_code_exercise_is_the_third_angle_on_a_misconception(celery_worker, learner):
    # given
    catalog_load()
    course = Course.objects.create(slug="code-course", title="Code course")
    scripted, code_step = _to_the_code_step(course, learner)
    # then: after a single-choice, a two-tier and a numeric item, a code exercise
    assert code_step.kind == Kind.REMEDIATION and code_step.target.code == "DO-TEST"
    assert code_step.question.qtype == "code"
    exercise = exercise_get(code_step.question.exercise)
    # when: a solution that forgets the scaling is sent
    unscaled = exercise.reference_source.replace("/ (1.0 - p)", "").replace("/ (1 - p)", "")
    assert unscaled != exercise.reference_source
    services.step_code_submit(step_id=code_step.id, learner=learner, code=unscaled, confidence=3)
    code_step.refresh_from_db()
    assert code_step.state == PracticeStep.State.GRADING
    assert scripted.current().id == code_step.id  # nothing moves until the verdict
    # then: the worker's verdict names the misconception and moves the session on; "no
    # rescaling" now shows beside "test-time dropout", so the pair is told apart
    graded = _wait_done(code_step)
    assert graded.is_correct is False
    assert "DO-NOSCALE" in {m.code for m in graded.revealed.all()}
    assert "DO-NOSCALE" in graded.mastery_after
    following = scripted.current()
    assert following.number == graded.number + 1
    assert following.kind == Kind.SEPARATING


@pytest.mark.django_db(transaction=True)
def test_a_passing_code_step_counts_as_a_right_answer(celery_worker, other_learner):
    catalog_load()
    course = Course.objects.create(slug="code-course", title="Code course")
    scripted, code_step = _to_the_code_step(course, other_learner)
    before = scripted.session.steps.get(number=code_step.number - 1).mastery_after["DO-TEST"]
    reference = exercise_get(code_step.question.exercise).reference_source
    services.step_code_submit(
        step_id=code_step.id, learner=other_learner, code=reference, confidence=4
    )
    graded = _wait_done(code_step)
    assert graded.is_correct is True
    assert graded.mastery_after["DO-TEST"] > before
    assert scripted.current().kind == Kind.PROBE
