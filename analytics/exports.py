"""The columns of every CSV download on the instructor pages: one function per table,
each returning its header and its rows (analytics.csv_export streams them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Table = tuple[list[str], Iterable[Sequence[Any]]]

ITEM_STATISTICS = [
    "facility",
    "sd",
    "random_guess_score",
    "intended_weight",
    "effective_weight",
    "discrimination_index",
    "discriminative_efficiency",
]


def course_gain_table(gain: dict[str, Any]) -> Table:
    """The class's gain, then the share holding each misconception before and after."""
    header = [
        "measure",
        "code",
        "title",
        "before_percent",
        "after_percent",
        "gain",
        "band",
        "learners_matched",
        "note",
    ]
    rows = [
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
    ]
    return header, rows


def course_prevalence_table(data: dict[str, Any]) -> Table:
    """One row per misconception: who holds it, how confidently, out of how many."""
    return (
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


def course_heatmap_table(data: dict[str, Any]) -> Table:
    """One row per (learner, misconception) cell with evidence."""
    names = {learner["id"]: learner["username"] for learner in data["learners"]}
    return (
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


def course_questions_table(data: dict[str, Any]) -> Table:
    """One row per question: right, wrong, confidence and the misconceptions it revealed."""
    return (
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


def quiz_test_table(stats: dict[str, Any], notes: Mapping[str, str]) -> Table:
    """The test statistics in the page's order, each with why it is missing, then the count."""
    return (
        ["statistic", "value", "note"],
        [[name, stats["test"][name], why] for name, why in notes.items()]
        + [["attempts_counted", stats["attempts_counted"], ""]],
    )


def quiz_items_table(stats: dict[str, Any]) -> Table:
    """One row per slot with its item statistics and flags."""
    return (
        [
            "slot",
            "question_slug",
            "qtype",
            "attempts",
            "max_mark",
            *ITEM_STATISTICS,
            "flags",
            "stem",
        ],
        (
            [
                i["slot"],
                i["question_slug"],
                i["qtype"],
                i["attempts"],
                i["max_mark"],
                *(i[name] for name in ITEM_STATISTICS),
                " ".join(i["flags"]),
                i["stem"],
            ]
            for i in stats["items"]
        ),
    )


def quiz_options_table(stats: dict[str, Any]) -> Table:
    """One row per option of every slot: how often chosen and how it discriminates."""
    return (
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


def learner_profile_table(profile: dict[str, Any]) -> Table:
    """One row per (attempt, misconception diagnosed); an attempt without any gets one."""
    return (
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
