"""A quiz's statistics page: Moodle-style test and item statistics, the facility x
discrimination plot and the option distributions, with their CSVs."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from analytics import charts, exports
from analytics.csv_export import csv_response
from analytics.statistics import POLICIES, quiz_statistics
from analytics.views.parameters import (
    BadParameter,
    attempts_policy,
    bad_request_text,
    not_found,
    query_string,
)
from analytics.views.shown import number_shown
from assessments.selectors import quiz_blueprint, quiz_for_instructor
from core.errors import NotFoundError
from core.http import AuthenticatedRequest

LEARNERS_PER_PAGE = 50
OPEN_OPTIONS_UP_TO = 20  # items whose option distributions show unfolded
POLICY_LABELS = {
    "first": "First attempt of each learner",
    "last": "Last attempt of each learner",
    "highest": "Highest-graded attempt of each learner",
    "all": "All attempts",
}
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
                "share": number_shown(share, "No attempts.", digits=0, suffix="%"),
                "pbis": number_shown(
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
            name: number_shown(item[name], _item_missing(item, name))
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
                "shown": number_shown(test[name], why, digits=digits, suffix=suffix),
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
        return not_found(error)
    context: dict[str, Any] = {
        "quiz": quiz,
        "course": quiz.course,
        "blueprint": quiz_blueprint(quiz=quiz),
        "policies": [(value, POLICY_LABELS[value]) for value in POLICIES],
        "policy": request.GET.get("attempts", "first"),
        "error": None,
    }
    try:
        policy = attempts_policy(request)
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
            "policy_query": query_string(attempts=policy),
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
        return not_found(error)
    if table not in QUIZ_TABLES:
        return not_found(NotFoundError(f"No table {table!r}."))
    try:
        policy = attempts_policy(request)
    except BadParameter as error:
        return bad_request_text(error)
    stats = quiz_statistics(quiz=quiz, attempts=policy)
    filename = f"{quiz.slug}-{table}-{policy}.csv"
    if table == "test":
        notes = {row["name"]: row["shown"].why for row in _test_rows(stats["test"])}
        return csv_response(filename, *exports.quiz_test_table(stats, notes))
    if table == "items":
        return csv_response(filename, *exports.quiz_items_table(stats))
    return csv_response(filename, *exports.quiz_options_table(stats))
