"""Learner pages of guided practice: my courses, one step at a time, feedback and summaries.

The step shown is always the session's pending one, at the course's practice page; answers
post to the step and redirect to its feedback (or back to the course page when the step
needs more: the self-check of an explain-back). Refusals render as pages with the domain
error's status: 400 re-renders the form, 404 and 409 say what happened and where to go.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assessments.answer_form import CONFIDENCE_LABELS, answer_parse
from core.errors import ApplicationError, NotFoundError
from core.http import AuthenticatedRequest
from core.inputs import int_fields, ints_valid, text_field
from courses.models import Course
from practice import services
from practice.models import PracticeSession, PracticeStep
from practice.selectors import feedback
from practice.selectors.calibration import session_calibration
from practice.selectors.courses import practice_course, practice_courses
from practice.selectors.progress import session_progress
from practice.selectors.steps import (
    session_latest,
    step_for_learner,
    step_pending,
    step_refusal,
    step_shown,
)
from practice.selectors.summary import session_summary

StepState = PracticeStep.State
EXPLAIN_LABEL = "Your explanation, in your own words (next, you check it against the key ideas)"
CODE_HINT = "Rate how sure you are that your code is right, then send it for grading."
CHOICE_FIELDS = ("choice", "choice-tier1", "choice-tier2")


def _refusal(
    request: AuthenticatedRequest, error: ApplicationError, *, course_id: int | None = None
) -> HttpResponse:
    """Render a refusal (not found, conflict, rate limit) as a page with its status."""
    return render(
        request,
        "practice/refused.html",
        {"error": error, "course_id": course_id},
        status=error.status,
    )


def _form_errors(error: ApplicationError) -> dict[str, str]:
    return error.fields or {"": error.message}


@login_required
def course_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the learner's courses with a button to practise and their mastery so far."""
    cards = practice_courses(learner=request.user)
    return render(request, "practice/course_list.html", {"cards": cards})


@login_required
@require_POST
def course_start(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Open the learner's session in the course (resuming one in progress)."""
    try:
        course = practice_course(course_id=course_id, user=request.user)
        services.session_open(course=course, learner=request.user)
    except ApplicationError as error:
        return _refusal(request, error)
    return redirect("practice:course", course_id=course.id)


def _step_page(
    request: AuthenticatedRequest,
    step: PracticeStep,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the pending step: its question form, or the self-check of an explain-back."""
    posted = request.POST if errors else None
    selected: list[int] = []
    confidence: int | None = None
    if posted is not None:
        selected = ints_valid(raw for name in CHOICE_FIELDS for raw in posted.getlist(name))
        confidence = next(iter(ints_valid([posted.get("confidence", "")], maximum=5)), None)
    session = step.session
    template = (
        "practice/self_check.html" if step.state == StepState.CHECKING else "practice/step.html"
    )
    return render(
        request,
        template,
        {
            "course": session.course,
            "session": session,
            "q": step_shown(step=step, selected=selected, confidence=confidence),
            "progress": session_progress(session=session),
            "errors": errors or {},
            "posted": posted,
            "ticked": ints_valid(posted.getlist("idea")) if posted is not None else [],
            "confidence_labels": CONFIDENCE_LABELS,
            "explain_label": EXPLAIN_LABEL,
            "code_hint": CODE_HINT,
        },
        status=status,
    )


def _bad_form(
    request: AuthenticatedRequest, step: PracticeStep, errors: dict[str, str], open_state: str
) -> HttpResponse:
    """Answer a malformed post: a step no longer open says so, else the form again (400)."""
    conflict = step_refusal(step=step, session=step.session, states=[open_state])
    if conflict is not None:
        return _refusal(request, conflict, course_id=step.session.course_id)
    return _step_page(request, step, errors=errors, status=400)


def _refused(
    request: AuthenticatedRequest,
    step: PracticeStep,
    error: ApplicationError,
    form_statuses: tuple[int, ...] = (400,),
) -> HttpResponse:
    """Show a service's refusal: field errors on the form again, anything else as a page."""
    if error.status not in form_statuses:
        return _refusal(request, error, course_id=step.session.course_id)
    return _step_page(request, step, errors=_form_errors(error), status=error.status)


def _summary_context(session: PracticeSession) -> dict[str, Any]:
    return {"summary": session_summary(session=session)}


@login_required
@require_GET
def course_practice(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Show the session's pending step, else the last session's summary, else a start button."""
    try:
        course: Course = practice_course(course_id=course_id, user=request.user)
    except NotFoundError as error:
        return _refusal(request, error)
    session = session_latest(course=course, learner=request.user)
    if session is not None and session.is_active:
        step = step_pending(session=session)
        if step is not None and step.state == StepState.GRADING:
            return redirect("practice:step_feedback", step_id=step.id)
        if step is not None:
            return _step_page(request, step)
    context: dict[str, Any] = {"course": course, "session": session}
    if session is not None:
        context.update(_summary_context(session))
    return render(request, "practice/course.html", context)


@login_required
@require_POST
def step_answer(request: AuthenticatedRequest, step_id: int) -> HttpResponse:
    """Score a choice, numeric or explain-back answer; go to its feedback (or self-check)."""
    answer, errors = answer_parse(request)
    if errors:
        try:
            step = step_for_learner(step_id=step_id, learner=request.user)
        except NotFoundError as error:
            return _refusal(request, error)
        return _bad_form(request, step, errors, StepState.OPEN)
    try:
        # The service finds the learner's own step under its lock: no read before it.
        step = services.step_answer(step_id=step_id, learner=request.user, answer=answer)
    except NotFoundError as error:
        return _refusal(request, error)
    except ApplicationError as error:
        try:
            shown = step_for_learner(step_id=step_id, learner=request.user)
        except NotFoundError as missing:
            return _refusal(request, missing)
        return _refused(request, shown, error)
    if step.is_done:
        return redirect("practice:step_feedback", step_id=step.id)
    return redirect("practice:course", course_id=step.session.course_id)


@login_required
@require_POST
def step_code(request: AuthenticatedRequest, step_id: int) -> HttpResponse:
    """Send a code step's code to the grader; its feedback page waits for the verdict."""
    try:
        step = step_for_learner(step_id=step_id, learner=request.user)
    except NotFoundError as error:
        return _refusal(request, error)
    answer, errors = answer_parse(request)
    code = request.POST.get("code", "")
    try:
        text_field(code, field="code")
    except ApplicationError as error:
        errors.update(error.fields)
    if errors:
        return _bad_form(request, step, errors, StepState.OPEN)
    try:
        services.step_code_submit(
            step_id=step.id, learner=request.user, code=code, confidence=answer.confidence
        )
    except ApplicationError as error:
        return _refused(request, step, error, form_statuses=(400, 429))
    return redirect("practice:step_feedback", step_id=step.id)


@login_required
@require_GET
def step_status(request: AuthenticatedRequest, step_id: int) -> JsonResponse:
    """Return {state, finished} of the learner's step, for the grading page to poll."""
    try:
        step = step_for_learner(step_id=step_id, learner=request.user)
    except NotFoundError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse(feedback.step_status(step=step))


@login_required
@require_POST
def step_self_check(request: AuthenticatedRequest, step_id: int) -> HttpResponse:
    """Record the key ideas the learner finds in their explanation; show the feedback."""
    try:
        step = step_for_learner(step_id=step_id, learner=request.user)
    except NotFoundError as error:
        return _refusal(request, error)
    try:
        message = "Tick key ideas from the list."
        ideas = int_fields(request.POST.getlist("idea"), field="ideas", message=message)
    except ApplicationError as error:
        return _bad_form(request, step, error.fields, StepState.CHECKING)
    try:
        services.step_self_check(step_id=step.id, learner=request.user, ideas=ideas)
    except ApplicationError as error:
        return _refused(request, step, error)
    return redirect("practice:step_feedback", step_id=step.id)


@login_required
@require_GET
def step_feedback(request: AuthenticatedRequest, step_id: int) -> HttpResponse:
    """Show a done step's feedback; while its code is graded, a page that waits for it."""
    try:
        step = step_for_learner(step_id=step_id, learner=request.user)
    except NotFoundError as error:
        return _refusal(request, error)
    session = step.session
    if step.state == StepState.GRADING:
        return render(
            request,
            "practice/grading.html",
            {
                "course": session.course,
                "session": session,
                "q": step_shown(step=step),
                "progress": session_progress(session=session),
            },
        )
    if step.state != StepState.DONE:
        return redirect("practice:course", course_id=session.course_id)
    context: dict[str, Any] = {
        "course": session.course,
        "session": session,
        "fb": feedback.step_feedback(step=step),
        "progress": session_progress(session=session),
        "calibration": session_calibration(session=session),
    }
    if not session.is_active:
        context.update(_summary_context(session))
    return render(request, "practice/feedback.html", context)


@login_required
@require_POST
def session_stop(request: AuthenticatedRequest, session_id: int) -> HttpResponse:
    """Stop the learner's session; what they have mastered so far is kept."""
    try:
        session = services.session_stop(session_id=session_id, learner=request.user)
    except ApplicationError as error:
        return _refusal(request, error)
    messages.info(request, "Practice stopped. Your progress is kept for next time.")
    return redirect(reverse("practice:course", args=[session.course_id]))
