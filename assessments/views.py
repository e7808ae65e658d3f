"""Learner pages: my quizzes, one question per page, review, submit, results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from assessments import reflection, selectors, services
from assessments.answer_form import CONFIDENCE_LABELS, answer_parse
from assessments.models import Attempt, Quiz
from assessments.results import attempt_result
from core.errors import ApplicationError, NotFoundError
from core.http import AuthenticatedRequest
from core.inputs import int_field, int_fields, text_field


def _not_found(error: NotFoundError) -> HttpResponse:
    return HttpResponse(error.message, status=404, content_type="text/plain")


@login_required
def my_quizzes(request: AuthenticatedRequest) -> HttpResponse:
    """List the quizzes open to the learner, with their attempts."""
    cards = selectors.quizzes_for_learner(learner=request.user)
    return render(request, "assessments/my_quizzes.html", {"cards": cards})


@login_required
@require_POST
def quiz_start(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Start (or resume) an attempt and open its first question."""
    quiz = get_object_or_404(Quiz, slug=slug, is_published=True)
    try:
        attempt = services.attempt_start(quiz=quiz, learner=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("assessments:my_quizzes")
    return redirect("assessments:question", attempt_id=attempt.id, slot=1)


def _next_url(attempt: Attempt, slot: int, count: int, action: str) -> str:
    """Where the form's button goes; a `goto-N` past the questions is an ApplicationError."""
    if action == "back" and slot > 1:
        return reverse("assessments:question", args=[attempt.id, slot - 1])
    if action == "next" and slot < count:
        return reverse("assessments:question", args=[attempt.id, slot + 1])
    if action.startswith("goto-"):
        message = f"Go to a question from 1 to {count}."
        target = int_field(action[5:], field="action", minimum=1, maximum=count, message=message)
        return reverse("assessments:question", args=[attempt.id, target])
    return reverse("assessments:review", args=[attempt.id])


@login_required
@require_http_methods(["GET", "POST"])
def question(request: AuthenticatedRequest, attempt_id: int, slot: int) -> HttpResponse:
    """Show one question of an unfinished attempt; POST saves the answer and moves on."""
    try:
        attempt = selectors.attempt_for_learner(attempt_id=attempt_id, learner=request.user)
        if attempt.is_submitted:
            return redirect("assessments:results", attempt_id=attempt.id)
        shown = selectors.attempt_question(attempt=attempt, slot=slot)
    except NotFoundError as error:
        return _not_found(error)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        answer, errors = answer_parse(request)
        next_url = ""
        try:
            next_url = _next_url(attempt, slot, shown.count, request.POST.get("action", "next"))
        except ApplicationError as error:
            errors.update(error.fields)
        if not errors:
            try:
                services.response_save(
                    attempt_id=attempt.id, learner=request.user, slot=slot, answer=answer
                )
            except ApplicationError as error:
                errors = error.fields or {"": error.message}
                status = error.status
            else:
                return HttpResponseRedirect(next_url)
        status = status if status != 200 else 400
        shown = selectors.attempt_question(attempt=attempt, slot=slot)
    code, submission = ("", None)
    if shown.qtype == "code":
        code, submission = selectors.code_question_draft(attempt=attempt, slot=slot)
    return render(
        request,
        "assessments/question.html",
        {
            "attempt": attempt,
            "q": shown,
            "code": code,
            "submission": submission,
            "errors": errors,
            "posted": request.POST if errors else None,
            "confidence_labels": CONFIDENCE_LABELS,
            "slots": range(1, shown.count + 1),
        },
        status=status,
    )


@login_required
def review(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    """List the attempt's questions with what is answered, before submitting."""
    try:
        attempt = selectors.attempt_for_learner(attempt_id=attempt_id, learner=request.user)
    except NotFoundError as error:
        return _not_found(error)
    if attempt.is_submitted:
        return redirect("assessments:results", attempt_id=attempt.id)
    questions = selectors.attempt_questions(attempt=attempt)
    unanswered = [q.slot for q in questions if not q.is_answered]
    return render(
        request,
        "assessments/review.html",
        {"attempt": attempt, "questions": questions, "unanswered": unanswered},
    )


@login_required
@require_POST
def submit(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    """Submit the attempt and show its results."""
    try:
        services.attempt_submit(attempt_id=attempt_id, learner=request.user)
    except NotFoundError as error:
        return _not_found(error)
    except ApplicationError as error:
        messages.info(request, error.message)
    return redirect("assessments:results", attempt_id=attempt_id)


@login_required
def results(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    """Show the score, per-question feedback, the diagnosis and the explain-back prompt."""
    try:
        attempt = selectors.attempt_for_learner(attempt_id=attempt_id, learner=request.user)
    except NotFoundError as error:
        return _not_found(error)
    if not attempt.is_submitted:
        return redirect("assessments:review", attempt_id=attempt.id)
    result = attempt_result(attempt=attempt)
    return render(request, "assessments/results.html", {"result": result, "attempt": attempt})


@login_required
@require_POST
def explanation(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    """Save the learner's explain-back text."""
    try:
        reflection.explanation_save(
            attempt_id=attempt_id,
            learner=request.user,
            code=text_field(request.POST.get("misconception", ""), field="misconception"),
            text=text_field(request.POST.get("text", ""), field="text"),
        )
    except NotFoundError as error:
        return _not_found(error)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your explanation is saved; your instructor can read it.")
    return redirect(reverse("assessments:results", args=[attempt_id]) + "#explain-back")


@login_required
@require_POST
def self_assessment(request: AuthenticatedRequest, attempt_id: int, slot: int) -> HttpResponse:
    """Save which key ideas the learner's written answer contains."""
    try:
        message = "Tick key ideas from the list."
        ideas = int_fields(request.POST.getlist("idea"), field="ideas", message=message)
        reflection.self_assessment_save(
            attempt_id=attempt_id, learner=request.user, slot=slot, ideas=ideas
        )
    except NotFoundError as error:
        return _not_found(error)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Self-assessment saved.")
    return redirect(reverse("assessments:results", args=[attempt_id]) + f"#q{slot}")
