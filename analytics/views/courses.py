"""A course's pages: the courses an instructor teaches, and a course's dashboard (gains,
prevalence, the misconception x learner heatmap, the question matrix) with its CSVs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics import charts, exports
from analytics.csv_export import csv_response
from analytics.misconceptions import course_gain, course_misconceptions
from analytics.views.parameters import (
    BadParameter,
    bad_request_text,
    course_quiz_filter,
    heatmap_page,
    not_found,
    query_string,
)
from analytics.views.shown import QUADRANT_BY_VALUE, QUADRANTS, gain_shown, number_shown
from assessments.diagnosis import CRI_THRESHOLD
from assessments.models import Attempt, Quiz
from core.errors import NotFoundError
from core.http import AuthenticatedRequest
from courses.models import Course
from courses.selectors import course_for_instructor, courses_taught
from practice.selectors.course_report import practice_summary

LEARNERS_PER_PAGE = 50
BAND_LABELS = {
    "low": "low (g < 0.3)",
    "medium": "medium (0.3 ≤ g < 0.7)",
    "high": "high (g ≥ 0.7)",
}


@login_required
@require_GET
def course_list(request: AuthenticatedRequest) -> HttpResponse:
    """The courses the user teaches (superusers: every course), with learner and quiz counts."""
    courses: QuerySet[Course] = (
        courses_taught(request.user)
        .annotate(
            learner_count=Count("enrollments", distinct=True),
            quiz_count=Count("quizzes", distinct=True),
        )
        .order_by("title")
    )
    return render(request, "analytics/course_list.html", {"courses": courses})


def _gain_context(course: Course, gain: dict[str, Any]) -> dict[str, Any]:
    missing = gain["note"] or "Needs a pre-test and a post-test taken by the same learners."
    band = BAND_LABELS.get(gain["band"] or "", "")
    context: dict[str, Any] = {
        "pre": number_shown(gain["pre_percent"], missing, suffix="%"),
        "post": number_shown(gain["post_percent"], missing, suffix="%"),
        "g": gain_shown(gain["gain"], missing),
        "band": gain["band"],
        "band_label": band,
        "note": gain["note"],
        "matched": gain["learners_matched"],
        "pre_quiz": course.quizzes.filter(id=gain["pre_quiz"]).first(),
        "post_quiz": course.quizzes.filter(id=gain["post_quiz"]).first(),
        "per_misconception": [
            {
                **row,
                "before_shown": number_shown(row["before"], missing, suffix="%"),
                "after_shown": number_shown(row["after"], missing, suffix="%"),
            }
            for row in gain["per_misconception"]
        ],
        "overall_chart": None,
        "codes_chart": None,
    }
    if gain["pre_percent"] is not None and gain["post_percent"] is not None:
        context["overall_chart"] = charts.bar_chart(
            chart_id="gain-overall",
            title="Class average, pre-test and post-test",
            description=(
                f"Learners who took both tests ({gain['learners_matched']}) averaged "
                f"{gain['pre_percent']:.1f}% on the pre-test and {gain['post_percent']:.1f}% "
                "on the post-test."
            ),
            rows=[
                charts.BarRow("Class average score", (gain["pre_percent"], gain["post_percent"]))
            ],
            series=[
                charts.Series("Pre-test", charts.PRE),
                charts.Series("Post-test", charts.ACCENT),
            ],
        )
    if gain["per_misconception"]:
        context["codes_chart"] = charts.bar_chart(
            chart_id="gain-codes",
            title="Share of learners holding each misconception, before and after",
            description=(
                "For each misconception, the percentage of learners who took both tests and "
                "whose answers revealed it on the pre-test, then on the post-test. Shorter "
                "after-bars are better. The table below has the same numbers."
            ),
            rows=[
                charts.BarRow(f"{row['code']} {row['title']}", (row["before"], row["after"]))
                for row in gain["per_misconception"]
            ],
            series=[
                charts.Series("Before (pre-test)", charts.PRE),
                charts.Series("After (post-test)", charts.ACCENT),
            ],
        )
    return context


def _prevalence_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in data["misconceptions"]:
        evidence = row["evidence"]
        share = 100.0 * row["holding"] / evidence if evidence else None
        label = (
            f"{row['code']}: {row['holding']} of {evidence} learners with evidence hold it, "
            f"{row['confident']} of them confidently"
        )
        rows.append(
            {
                **row,
                "share": number_shown(share, "No learner has evidence on it.", suffix="%"),
                "confident_shown": number_shown(
                    row["confident_share"], "Nobody holds it, so there is no share.", suffix="%"
                ),
                "bar": charts.share_bar(
                    part=row["confident"], whole=row["holding"], total=evidence, label=label
                ),
            }
        )
    return rows


def _heatmap(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per learner of the page `data` holds, one cell per misconception column (None: no
    evidence)."""
    cells = {(cell["learner"], cell["code"]): cell for cell in data["cells"]}
    codes = [row["code"] for row in data["misconceptions"]]
    rows = []
    for learner in data["learners"]:
        row_cells = []
        for code in codes:
            cell = cells.get((learner["id"], code))
            if cell is None:
                row_cells.append({"code": code, "quadrant": None})
                continue
            quadrant = QUADRANT_BY_VALUE[cell["quadrant"]]
            row_cells.append(
                {
                    **cell,
                    "label": quadrant["label"],
                    "letter": quadrant["letter"],
                    "detail": (
                        f"{learner['username']}, {code}: {quadrant['label']} — "
                        f"{cell['right']} right, {cell['wrong']} wrong, "
                        f"mean confidence {cell['mean_confidence']:.2f}"
                    ),
                }
            )
        rows.append({"learner": learner, "cells": row_cells})
    return rows


def _matrix_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "answered": row["right"] + row["wrong"],
            "facility": number_shown(
                100.0 * row["right"] / (row["right"] + row["wrong"])
                if row["right"] + row["wrong"]
                else None,
                "Nobody answered it.",
                suffix="%",
            ),
            "conf_right": number_shown(
                row["mean_confidence_right"], "Nobody answered it right.", digits=2
            ),
            "conf_wrong": number_shown(
                row["mean_confidence_wrong"], "Nobody answered it wrong.", digits=2
            ),
            "code_list": sorted(row["codes"].items(), key=lambda item: (-item[1], item[0])),
        }
        for row in data["questions"]
    ]


def _quizzes(course: Course) -> QuerySet[Quiz]:
    """The course's quizzes, pre-test first, with their learners' finished attempts."""
    counted = Q(attempts__state=Attempt.State.SUBMITTED, attempts__is_preview=False) & ~Q(
        attempts__learner__in=course.instructors.all()
    )
    order = Case(
        When(role=Quiz.Role.PRE, then=Value(0)),
        When(role=Quiz.Role.POST, then=Value(1)),
        default=Value(2),
    )
    return course.quizzes.annotate(finished=Count("attempts", filter=counted)).order_by(
        order, "title"
    )


@login_required
@require_GET
def course_dashboard(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Gains, prevalence, the misconception x learner heatmap and the question matrix."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return not_found(error)
    context: dict[str, Any] = {
        "course": course,
        "quizzes": _quizzes(course),
        "quadrants": QUADRANTS,
        "threshold": CRI_THRESHOLD,
        "selected_quiz": None,
        "error": None,
    }
    try:
        quiz = course_quiz_filter(request, course)
        page_number = heatmap_page(request.GET.get("page"))
    except BadParameter as error:
        context["error"] = error
        return render(request, "analytics/course_dashboard.html", context, status=400)
    data = course_misconceptions(
        course=course, quiz=quiz, page=page_number, page_size=LEARNERS_PER_PAGE
    )
    page = Paginator(range(data["learners_total"]), LEARNERS_PER_PAGE).get_page(data["page"])
    heatmap_rows = _heatmap(data)
    quiz_id = quiz.id if quiz else None
    context.update(
        {
            "selected_quiz": quiz,
            "learner_count": data["learners_total"],
            "gain": _gain_context(course, course_gain(course=course)),
            "prevalence": _prevalence_rows(data),
            "codes": data["misconceptions"],
            "page": page,
            "heatmap_rows": heatmap_rows,
            "matrix": _matrix_rows(data),
            "practice": practice_summary(course=course),
            "filter_query": query_string(quiz=quiz_id),
            "previous_query": query_string(quiz=quiz_id, page=page.number - 1)
            if page.has_previous()
            else "",
            "next_query": query_string(quiz=quiz_id, page=page.number + 1)
            if page.has_next()
            else "",
        }
    )
    return render(request, "analytics/course_dashboard.html", context)


COURSE_TABLES = ("prevalence", "heatmap", "questions", "gain")


@login_required
@require_GET
def course_csv(request: AuthenticatedRequest, course_id: int, table: str) -> HttpResponseBase:
    """One of the dashboard's tables as CSV (every learner, not one page)."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return not_found(error)
    if table not in COURSE_TABLES:
        return not_found(NotFoundError(f"No table {table!r}."))
    if table == "gain":
        return csv_response(
            f"{course.slug}-gain.csv", *exports.course_gain_table(course_gain(course=course))
        )
    try:
        quiz = course_quiz_filter(request, course)
    except BadParameter as error:
        return bad_request_text(error)
    # Every learner on one page: the export holds the whole class.
    data = course_misconceptions(course=course, quiz=quiz, page=1, page_size=2**31)
    suffix = f"-{quiz.slug}" if quiz else ""
    tables = {
        "prevalence": exports.course_prevalence_table,
        "heatmap": exports.course_heatmap_table,
        "questions": exports.course_questions_table,
    }
    return csv_response(f"{course.slug}{suffix}-{table}.csv", *tables[table](data))
