"""A learner's profile page: their attempts at a course's quizzes and their diagnosis over
time, with its CSV."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics import charts, exports
from analytics.csv_export import csv_response
from analytics.misconceptions import learner_profile
from analytics.views.parameters import not_found
from analytics.views.shown import QUADRANT_BY_VALUE, QUADRANTS, number_shown
from core.errors import NotFoundError
from core.http import AuthenticatedRequest
from courses.models import Course
from courses.selectors import course_for_instructor


def _profile(course: Course, learner_id: int) -> dict[str, Any]:
    return learner_profile(course=course, learner_id=learner_id)


def _profile_context(course: Course, profile: dict[str, Any]) -> dict[str, Any]:
    attempts = profile["attempts"]
    codes: dict[str, str] = {}
    for attempt in attempts:
        for diagnosis in attempt["diagnoses"]:
            codes.setdefault(diagnosis["code"], diagnosis["title"])
    timeline = []
    for code in sorted(codes):
        cells: list[dict[str, Any]] = []
        for attempt in attempts:
            found = next((d for d in attempt["diagnoses"] if d["code"] == code), None)
            if found is None:
                cells.append({"quadrant": None})
                continue
            quadrant = QUADRANT_BY_VALUE[found["quadrant"]]
            cells.append(
                {
                    **found,
                    "label": quadrant["label"],
                    "letter": quadrant["letter"],
                    "detail": (
                        f"{code} in {attempt['quiz_title']}: {quadrant['label']} — "
                        f"{found['right']} right, {found['wrong']} wrong, mean confidence "
                        f"{found['mean_confidence']:.2f}"
                    ),
                }
            )
        timeline.append({"code": code, "title": codes[code], "cells": cells})
    chart = None
    if attempts:
        chart = charts.bar_chart(
            chart_id="profile-scores",
            title=f"{profile['learner']['username']}'s scores, oldest attempt first",
            description="; ".join(
                f"{a['quiz_title']} ({a['submitted_at']:%Y-%m-%d}): "
                + ("no score" if a["percent"] is None else f"{a['percent']:.1f}%")
                for a in attempts
            ),
            rows=[
                charts.BarRow(
                    f"{index}. {a['quiz_title']} · {a['submitted_at']:%Y-%m-%d}",
                    (a["percent"],),
                )
                for index, a in enumerate(attempts, start=1)
            ],
            series=[charts.Series("Score", charts.ACCENT)],
        )
    return {
        "course": course,
        "learner": profile["learner"],
        "attempts": [
            {**a, "percent_shown": number_shown(a["percent"], "The quiz has no marks.", suffix="%")}
            for a in attempts
        ],
        "timeline": timeline,
        "chart": chart,
        "quadrants": QUADRANTS,
    }


@login_required
@require_GET
def learner_profile_page(
    request: AuthenticatedRequest, course_id: int, learner_id: int
) -> HttpResponse:
    """One learner's attempts at the course's quizzes and their diagnosis over time."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
        profile = _profile(course, learner_id)
    except NotFoundError as error:
        return not_found(error)
    return render(request, "analytics/learner_profile.html", _profile_context(course, profile))


@login_required
@require_GET
def learner_profile_csv(
    request: AuthenticatedRequest, course_id: int, learner_id: int
) -> HttpResponseBase:
    """The learner's diagnoses per attempt as CSV, one row per (attempt, misconception)."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
        profile = _profile(course, learner_id)
    except NotFoundError as error:
        return not_found(error)
    return csv_response(
        f"{course.slug}-{profile['learner']['username']}-profile.csv",
        *exports.learner_profile_table(profile),
    )
