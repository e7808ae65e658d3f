"""Learner pages of the grader: the exercise list and the code editor with live verdicts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest
from grader.exercises import EXERCISES
from grader.selectors import submission_latest


@login_required
def exercise_list(request: HttpRequest) -> HttpResponse:
    """List the coding exercises."""
    return render(request, "grader/exercise_list.html", {"exercises": list(EXERCISES.values())})


@login_required
def exercise_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Show an exercise with the editor, prefilled with the learner's last submission."""
    exercise = EXERCISES.get(slug)
    if exercise is None:
        raise Http404(f"No exercise {slug!r}.")
    last = submission_latest(learner=request.user, exercise=slug)
    return render(
        request,
        "grader/exercise_detail.html",
        {"exercise": exercise, "code": last.code if last else exercise.starter_code, "last": last},
    )
