"""Instructor pages: my courses, a course's dashboard, a quiz's statistics, a learner's
profile, and a CSV download of every table on them.

The numbers come from analytics.statistics and analytics.misconceptions; this module only
checks access (a course's instructors and superusers; anyone else gets 404), parses the query
string (a bad value is a 400 that names the parameter), formats numbers for reading and
draws the charts (analytics.charts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from analytics import charts
from analytics.csv_export import csv_response
from analytics.misconceptions import course_gain, course_misconceptions, learner_profile
from analytics.statistics import POLICIES, quiz_statistics
from assessments.diagnosis import CRI_THRESHOLD, Quadrant
from assessments.models import Attempt, Quiz
from assessments.selectors import course_quiz, quiz_blueprint, quiz_for_instructor
from core.errors import ApplicationError, NotFoundError
from core.http import AuthenticatedRequest
from core.inputs import int_field
from courses.models import Course
from courses.selectors import course_for_instructor, courses_taught
from practice.analytics import practice_summary

LEARNERS_PER_PAGE = 50
OPEN_OPTIONS_UP_TO = 20  # items whose option distributions show unfolded
POLICY_LABELS = {
    "first": "First attempt of each learner",
    "last": "Last attempt of each learner",
    "highest": "Highest-graded attempt of each learner",
    "all": "All attempts",
}
BAND_LABELS = {
    "low": "low (g < 0.3)",
    "medium": "medium (0.3 ≤ g < 0.7)",
    "high": "high (g ≥ 0.7)",
}
GAIN_BOUNDS = (0.3, 0.7)
QUADRANTS = [
    {
        "value": q.value,
        "label": q.label,
        "letter": {"misconception": "M", "gap": "G", "lucky_guess": "L", "knowledge": "K"}[q],
        "meaning": {
            "misconception": f"wrong and sure (confidence > {CRI_THRESHOLD})",
            "gap": f"wrong and unsure (confidence ≤ {CRI_THRESHOLD})",
            "lucky_guess": f"right but unsure (confidence ≤ {CRI_THRESHOLD})",
            "knowledge": f"right and sure (confidence > {CRI_THRESHOLD})",
        }[q],
    }
    for q in Quadrant
]
QUADRANT_BY_VALUE = {q["value"]: q for q in QUADRANTS}
FLAG_LABELS = {
    "negative_discrimination": (
        "Negative discrimination",
        "Learners who did well on the rest of the quiz did worse on this item.",
    ),
    "low_discriminative_efficiency": (
        "Low discriminative efficiency",
        "Under 15% of the discrimination this item could have at its facility.",
    ),
    "negative_covariance": (
        "Negative covariance",
        "The item's marks move against the quiz totals; its effective weight is undefined.",
    ),
    "distractor_positive": (
        "Attracts strong learners",
        "A wrong option whose choosers scored above average (positive point-biserial).",
    ),
}
TEST_STATISTICS = [
    ("mean", "Average score", "%", "The mean total, as a percentage of the maximum."),
    ("median", "Median score", "%", "Half the counted attempts scored at most this."),
    ("sd", "Standard deviation", "%", "The spread of totals (sample SD, % of the maximum)."),
    ("skewness", "Skewness", "", "Negative: a long tail of low scores."),
    ("kurtosis", "Kurtosis", "", "Excess kurtosis: above 0, a peakier distribution."),
    ("cic", "Coefficient of internal consistency", "%", "Cronbach's alpha; 64-75% is good."),
    ("error_ratio", "Error ratio", "%", "The share of the SD due to random error."),
    ("standard_error", "Standard error", "%", "The error of one learner's total (% max)."),
]
# Why a test statistic is missing, when the statistics module gives no note of its own:
# the notes it may depend on, the most specific first.
TEST_NOTE_KEYS = {
    "mean": ("all",),
    "median": ("all",),
    "sd": ("sd", "all"),
    "skewness": ("skewness", "sd", "all"),
    "kurtosis": ("kurtosis", "skewness", "sd", "all"),
    "cic": ("cic", "skewness", "sd", "all"),
    "error_ratio": ("cic", "skewness", "sd", "all"),
    "standard_error": ("cic", "skewness", "sd", "all"),
}
TEST_FALLBACK_NOTES = {
    "error_ratio": "Undefined when the CIC is missing or above 100%.",
    "standard_error": "Undefined when the CIC is missing or above 100%.",
}


@dataclass(frozen=True)
class Shown:
    """A number as the page shows it; `why` is set (and `text` is "—") when it is missing."""

    text: str
    why: str = ""
    value: float | None = None


def _shown(value: float | None, why: str, *, digits: int = 1, suffix: str = "") -> Shown:
    if value is None:
        return Shown("—", why or "Not defined for these attempts.")
    return Shown(f"{value:.{digits}f}{suffix}", value=value)


def _gain_shown(gain: float | None, why: str) -> Shown:
    """g with 2 decimals, or more when rounding would lift it onto a band's bound (0.2996
    is "0.2996", low, not "0.30")."""
    digits = 2
    while gain is not None and digits < 6:
        shown = round(gain, digits)
        if not any(shown >= bound > gain for bound in GAIN_BOUNDS):
            break
        digits += 1
    return _shown(gain, why, digits=digits)


class BadParameter(Exception):
    """A query-string value the page cannot use: 400, naming the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _not_found(error: NotFoundError) -> HttpResponse:
    return HttpResponse(error.message, status=404, content_type="text/plain")


def _bad_request_text(error: BadParameter) -> HttpResponse:
    return HttpResponse(
        f"{error.name}: {error.message}", status=400, content_type="text/plain; charset=utf-8"
    )


def _policy(request: HttpRequest) -> str:
    raw = request.GET.get("attempts", "first")
    if raw not in POLICIES:
        raise BadParameter(
            "attempts", f"choose one of {', '.join(POLICIES)}; {raw[:40]!r} is not one of them."
        )
    return raw


def _course_quiz(request: HttpRequest, course: Course) -> Quiz | None:
    """The dashboard's optional `quiz` filter: one of the course's quizzes, by id."""
    raw = request.GET.get("quiz", "").strip()
    if not raw:
        return None
    try:
        return course_quiz(course, raw)
    except ApplicationError as error:
        raise BadParameter("quiz", error.message) from error


# --- My courses ----------------------------------------------------------------------------


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


# --- Course dashboard ----------------------------------------------------------------------


def _gain_context(course: Course, gain: dict[str, Any]) -> dict[str, Any]:
    missing = gain["note"] or "Needs a pre-test and a post-test taken by the same learners."
    band = BAND_LABELS.get(gain["band"] or "", "")
    context: dict[str, Any] = {
        "pre": _shown(gain["pre_percent"], missing, suffix="%"),
        "post": _shown(gain["post_percent"], missing, suffix="%"),
        "g": _gain_shown(gain["gain"], missing),
        "band": gain["band"],
        "band_label": band,
        "note": gain["note"],
        "matched": gain["learners_matched"],
        "pre_quiz": course.quizzes.filter(id=gain["pre_quiz"]).first(),
        "post_quiz": course.quizzes.filter(id=gain["post_quiz"]).first(),
        "per_misconception": [
            {
                **row,
                "before_shown": _shown(row["before"], missing, suffix="%"),
                "after_shown": _shown(row["after"], missing, suffix="%"),
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
                "share": _shown(share, "No learner has evidence on it.", suffix="%"),
                "confident_shown": _shown(
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


def _page_number(raw: str | None) -> int:
    """The heatmap's page (1 when not given); past the last shows the last."""
    if not raw:
        return 1
    try:
        return int_field(raw, field="page", minimum=1)
    except ApplicationError as error:
        raise BadParameter("page", error.fields["page"]) from error


def _matrix_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "answered": row["right"] + row["wrong"],
            "facility": _shown(
                100.0 * row["right"] / (row["right"] + row["wrong"])
                if row["right"] + row["wrong"]
                else None,
                "Nobody answered it.",
                suffix="%",
            ),
            "conf_right": _shown(
                row["mean_confidence_right"], "Nobody answered it right.", digits=2
            ),
            "conf_wrong": _shown(
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


def _query(**params: Any) -> str:
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


@login_required
@require_GET
def course_dashboard(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Gains, prevalence, the misconception x learner heatmap and the question matrix."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    context: dict[str, Any] = {
        "course": course,
        "quizzes": _quizzes(course),
        "quadrants": QUADRANTS,
        "threshold": CRI_THRESHOLD,
        "selected_quiz": None,
        "error": None,
    }
    try:
        quiz = _course_quiz(request, course)
        page_number = _page_number(request.GET.get("page"))
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
            "filter_query": _query(quiz=quiz_id),
            "previous_query": _query(quiz=quiz_id, page=page.number - 1)
            if page.has_previous()
            else "",
            "next_query": _query(quiz=quiz_id, page=page.number + 1) if page.has_next() else "",
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
        return _not_found(error)
    if table not in COURSE_TABLES:
        return _not_found(NotFoundError(f"No table {table!r}."))
    if table == "gain":
        gain = course_gain(course=course)
        return csv_response(
            f"{course.slug}-gain.csv",
            [
                "measure",
                "code",
                "title",
                "before_percent",
                "after_percent",
                "gain",
                "band",
                "learners_matched",
                "note",
            ],
            [
                [
                    "class_average_score",
                    None,
                    None,
                    gain["pre_percent"],
                    gain["post_percent"],
                    gain["gain"],
                    gain["band"],
                    gain["learners_matched"],
                    gain["note"],
                ],
                *(
                    [
                        "learners_holding",
                        r["code"],
                        r["title"],
                        r["before"],
                        r["after"],
                        None,
                        None,
                        gain["learners_matched"],
                        None,
                    ]
                    for r in gain["per_misconception"]
                ),
            ],
        )
    try:
        quiz = _course_quiz(request, course)
    except BadParameter as error:
        return _bad_request_text(error)
    # Every learner on one page: the export holds the whole class.
    data = course_misconceptions(course=course, quiz=quiz, page=1, page_size=2**31)
    suffix = f"-{quiz.slug}" if quiz else ""
    if table == "prevalence":
        return csv_response(
            f"{course.slug}{suffix}-prevalence.csv",
            ["code", "title", "holding", "confident", "confident_share_percent", "evidence"],
            (
                [
                    r["code"],
                    r["title"],
                    r["holding"],
                    r["confident"],
                    r["confident_share"],
                    r["evidence"],
                ]
                for r in data["misconceptions"]
            ),
        )
    if table == "heatmap":
        names = {learner["id"]: learner["username"] for learner in data["learners"]}
        return csv_response(
            f"{course.slug}{suffix}-heatmap.csv",
            ["learner_id", "username", "code", "quadrant", "right", "wrong", "mean_confidence"],
            (
                [
                    c["learner"],
                    names.get(c["learner"], ""),
                    c["code"],
                    c["quadrant"],
                    c["right"],
                    c["wrong"],
                    c["mean_confidence"],
                ]
                for c in data["cells"]
            ),
        )
    return csv_response(
        f"{course.slug}{suffix}-questions.csv",
        [
            "question_slug",
            "stem",
            "right",
            "wrong",
            "mean_confidence_right",
            "mean_confidence_wrong",
            "revealed",
        ],
        (
            [
                q["slug"],
                q["stem"],
                q["right"],
                q["wrong"],
                q["mean_confidence_right"],
                q["mean_confidence_wrong"],
                "; ".join(f"{code}={count}" for code, count in sorted(q["codes"].items())),
            ]
            for q in data["questions"]
        ),
    )


# --- Quiz statistics -----------------------------------------------------------------------


def _item_missing(item: dict[str, Any], name: str) -> str:
    """Why an item statistic is missing."""
    few = item["attempts"] < 2
    if name == "sd":
        return "Needs at least 2 attempts at this item."
    if name == "random_guess_score":
        return "Only single-choice and true/false questions have a random-guess score."
    if name == "effective_weight":
        if "negative_covariance" in item["flags"]:
            return "Undefined: the item's covariance with the total is negative."
        return "Needs at least 2 attempts at this item."
    if name in ("discrimination_index", "discriminative_efficiency"):
        if few:
            return "Needs at least 2 attempts at this item."
        return "Undefined: every attempt got the same mark on this item or on the rest."
    return "Not defined for these attempts."


def _option_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for option in item["options"]:
        share = 100.0 * option["count"] / item["attempts"] if item["attempts"] else None
        rows.append(
            {
                **option,
                "share": _shown(share, "No attempts.", digits=0, suffix="%"),
                "pbis": _shown(
                    option["point_biserial"],
                    "Undefined: chosen by everyone or by no one, or every total is the same.",
                    digits=2,
                ),
                "flag_label": FLAG_LABELS[option["flag"]] if option["flag"] else None,
            }
        )
    return rows


def _item_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        shown = {
            name: _shown(item[name], _item_missing(item, name))
            for name in (
                "facility",
                "sd",
                "random_guess_score",
                "intended_weight",
                "effective_weight",
                "discrimination_index",
                "discriminative_efficiency",
            )
        }
        options = _option_rows(item)
        chart = None
        if options:
            chart = charts.option_bars(
                chart_id=f"options-{item['slot']}-{item['question']}",
                title=f"Slot {item['slot']}: how many attempts chose each option",
                description=(
                    f"{item['question_slug']}: {len(options)} options over {item['attempts']} "
                    "attempts; the right ones are marked with a tick, a wrong one that attracts "
                    "strong learners with an exclamation mark. The table below has the counts."
                ),
                options=[
                    charts.OptionBar(
                        label=(f"Tier {o['tier']}: " if item["qtype"] == "twotier" else "")
                        + o["text"],
                        count=o["count"],
                        is_correct=o["is_correct"],
                        flagged=o["flag"] is not None,
                    )
                    for o in options
                ],
                total=item["attempts"],
            )
        rows.append(
            {
                **item,
                **{f"{name}_shown": value for name, value in shown.items()},
                "flag_labels": [FLAG_LABELS[flag] for flag in item["flags"]],
                "option_rows": options,
                "option_chart": chart,
            }
        )
    return rows


def _test_rows(test: dict[str, Any]) -> list[dict[str, Any]]:
    notes: dict[str, str] = test["notes"]
    rows = []
    for name, label, suffix, meaning in TEST_STATISTICS:
        why = next((notes[key] for key in TEST_NOTE_KEYS[name] if key in notes), "")
        why = why or TEST_FALLBACK_NOTES.get(name, "")
        digits = 1 if suffix else 2
        rows.append(
            {
                "name": name,
                "label": label,
                "meaning": meaning,
                "shown": _shown(test[name], why, digits=digits, suffix=suffix),
            }
        )
    return rows


def _scatter(items: list[dict[str, Any]]) -> tuple[SafeString, list[dict[str, Any]]]:
    points = []
    unplotted = []
    most = max((item["attempts"] for item in items), default=1) or 1
    for item in items:
        if item["facility"] is None or item["discrimination_index"] is None:
            unplotted.append(item)
            continue
        flags = ", ".join(FLAG_LABELS[f][0] for f in item["flags"])
        points.append(
            charts.Point(
                label=str(item["slot"]),
                x=item["facility"],
                y=item["discrimination_index"],
                flagged=bool(item["flags"]),
                size=math.sqrt(item["attempts"] / most),
                detail=(
                    f"Slot {item['slot']} ({item['question_slug']}, {item['attempts']} "
                    f"attempts): facility "
                    f"{item['facility']:.1f}%, discrimination index "
                    f"{item['discrimination_index']:.1f}%"
                    + (f"; flagged: {flags}" if flags else "")
                ),
            )
        )
    flagged = [p.label for p in points if p.flagged]
    description = (
        f"{len(points)} items plotted by facility (0-100%, across) and discrimination index "
        "(-100 to 100%, up); larger points had more attempts. "
        + (
            f"Flagged items (slots {', '.join(flagged)}) are red."
            if flagged
            else "No item is flagged."
        )
        + " The items table has the same numbers."
    )
    chart = charts.scatter(
        chart_id="facility-discrimination",
        title="Facility against discrimination index, by slot",
        description=description,
        points=points,
        x_label="Facility (%): share of the marks earned",
        y_label="Discrimination index (%)",
    )
    return chart, unplotted


@login_required
@require_GET
def quiz_statistics_page(request: AuthenticatedRequest, quiz_id: int) -> HttpResponse:
    """Moodle-style test and item statistics, the facility x discrimination plot and the
    option distributions, for the attempts policy in `?attempts=`."""
    try:
        quiz = quiz_for_instructor(user=request.user, quiz_id=quiz_id)
    except NotFoundError as error:
        return _not_found(error)
    context: dict[str, Any] = {
        "quiz": quiz,
        "course": quiz.course,
        "blueprint": quiz_blueprint(quiz=quiz),
        "policies": [(value, POLICY_LABELS[value]) for value in POLICIES],
        "policy": request.GET.get("attempts", "first"),
        "error": None,
    }
    try:
        policy = _policy(request)
    except BadParameter as error:
        context["error"] = error
        return render(request, "analytics/quiz_statistics.html", context, status=400)
    stats = quiz_statistics(quiz=quiz, attempts=policy)
    items = _item_rows(stats["items"])
    chart, unplotted = _scatter(stats["items"]) if stats["items"] else (None, [])
    context.update(
        {
            "policy": policy,
            "policy_label": POLICY_LABELS[policy],
            "stats": stats,
            "test_rows": _test_rows(stats["test"]),
            "items": items,
            "scatter": chart,
            "unplotted": unplotted,
            "options_open": len(items) <= OPEN_OPTIONS_UP_TO,
            "policy_query": _query(attempts=policy),
        }
    )
    return render(request, "analytics/quiz_statistics.html", context)


QUIZ_TABLES = ("test", "items", "options")


@login_required
@require_GET
def quiz_statistics_csv(
    request: AuthenticatedRequest, quiz_id: int, table: str
) -> HttpResponseBase:
    """One of the statistics page's tables as CSV, for the same `?attempts=` policy."""
    try:
        quiz = quiz_for_instructor(user=request.user, quiz_id=quiz_id)
    except NotFoundError as error:
        return _not_found(error)
    if table not in QUIZ_TABLES:
        return _not_found(NotFoundError(f"No table {table!r}."))
    try:
        policy = _policy(request)
    except BadParameter as error:
        return _bad_request_text(error)
    stats = quiz_statistics(quiz=quiz, attempts=policy)
    filename = f"{quiz.slug}-{table}-{policy}.csv"
    if table == "test":
        return csv_response(
            filename,
            ["statistic", "value", "note"],
            [
                [row["name"], stats["test"][row["name"]], row["shown"].why]
                for row in _test_rows(stats["test"])
            ]
            + [["attempts_counted", stats["attempts_counted"], ""]],
        )
    if table == "items":
        names = [
            "facility",
            "sd",
            "random_guess_score",
            "intended_weight",
            "effective_weight",
            "discrimination_index",
            "discriminative_efficiency",
        ]
        return csv_response(
            filename,
            ["slot", "question_slug", "qtype", "attempts", "max_mark", *names, "flags", "stem"],
            (
                [
                    i["slot"],
                    i["question_slug"],
                    i["qtype"],
                    i["attempts"],
                    i["max_mark"],
                    *(i[name] for name in names),
                    " ".join(i["flags"]),
                    i["stem"],
                ]
                for i in stats["items"]
            ),
        )
    return csv_response(
        filename,
        [
            "slot",
            "question_slug",
            "tier",
            "option",
            "is_correct",
            "count",
            "point_biserial",
            "misconceptions",
            "flag",
        ],
        (
            [
                i["slot"],
                i["question_slug"],
                o["tier"],
                o["text"],
                o["is_correct"],
                o["count"],
                o["point_biserial"],
                " ".join(o["misconceptions"]),
                o["flag"],
            ]
            for i in stats["items"]
            for o in i["options"]
        ),
    )


# --- Learner profile -----------------------------------------------------------------------


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
            {**a, "percent_shown": _shown(a["percent"], "The quiz has no marks.", suffix="%")}
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
        return _not_found(error)
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
        return _not_found(error)
    return csv_response(
        f"{course.slug}-{profile['learner']['username']}-profile.csv",
        [
            "attempt",
            "quiz",
            "submitted_at",
            "percent",
            "code",
            "title",
            "quadrant",
            "right",
            "wrong",
            "mean_confidence",
        ],
        (
            [a["attempt"], a["quiz_title"], a["submitted_at"].isoformat(), a["percent"], *cells]
            for a in profile["attempts"]
            for cells in (
                [
                    [
                        d["code"],
                        d["title"],
                        d["quadrant"],
                        d["right"],
                        d["wrong"],
                        d["mean_confidence"],
                    ]
                    for d in a["diagnoses"]
                ]
                or [[None] * 6]
            )
        ),
    )
