"""What the class believes: misconception x learner (and x question) by CRI quadrant,
class prevalence, Hake's gain from pre- to post-test, and one learner's history.

Evidence follows the learner's own results page (assessments.results.response_evidence
and assessments.diagnosis): a right, rated answer counts for every misconception its
question probes; a wrong, rated answer counts against the misconceptions it revealed.
The quadrant follows assessments.diagnosis.quadrant_from_tally (a belief is held when
sure wrong answers on it outnumber sure right ones; CRI 0-5, threshold 2.5). Code counts
too: a quiz's code question carries its grader verdict on the response, and for practice
submissions outside quizzes the learner's latest submission per exercise counts as one
wrong answer per misconception its failing checks named, rated CODE_CONFIDENCE
(submitting code is asserting it works).

The class-wide numbers come from counters kept as attempts change (analytics/aggregates.py,
per learner from analytics/contributions.py); a page of learners' cells from their rows.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

from analytics.aggregate_reads import course_counts
from analytics.cache import cached, course_fingerprint
from analytics.contributions import (
    COURSE_WIDE,
    Tally,
    class_rows,
    heatmap_responses,
    tallies,
)
from analytics.counted import query_rows
from assessments.diagnosis import CRI_THRESHOLD, diagnose, quadrant_from_tally
from assessments.models import Attempt, Misconception, Question, Quiz
from assessments.results import response_evidence
from core.errors import NotFoundError
from core.inputs import MAX_ID
from courses.models import Course, Enrollment
from grader.models import Submission

CODE_CONFIDENCE = 3
HAKE_BANDS = ((0.7, "high"), (0.3, "medium"), (float("-inf"), "low"))


def _code_rows(course: Course) -> list[tuple[Any, ...]]:
    """(learner, code, 1) for each misconception named by a learner's latest practice
    submission per exercise (quiz code questions are already in the responses)."""
    submission = Submission._meta.db_table
    named = Submission.misconceptions.through._meta.db_table
    misconception = Misconception._meta.db_table
    enrollment = Enrollment._meta.db_table
    return query_rows(
        f"""WITH latest AS (
            SELECT s.id, s.learner_id, s.status,
                   ROW_NUMBER() OVER (
                       PARTITION BY s.learner_id, s.exercise ORDER BY s.queued_at DESC, s.id DESC
                   ) AS pick
              FROM {submission} s
             WHERE s.response_id IS NULL
               AND s.learner_id IN (SELECT learner_id FROM {enrollment} WHERE course_id = %s)
               AND s.status IN (%s, %s, %s, %s)
        )
        SELECT l.learner_id, m.code, COUNT(*)
          FROM latest l
          JOIN {named} sm ON sm.submission_id = l.id
          JOIN {misconception} m ON m.id = sm.misconception_id
         WHERE l.pick = 1 AND l.status = %s
         GROUP BY l.learner_id, m.code""",
        [
            course.id,
            Submission.Status.PASSED,
            Submission.Status.FAILED,
            Submission.Status.ERROR,
            Submission.Status.TIMEOUT,
            Submission.Status.FAILED,
        ],
    )


def course_misconceptions(
    *,
    course: Course,
    quiz: Quiz | None = None,
    page: int = 1,
    page_size: int = 100,
    fresh: bool = False,
    from_raw: bool = False,
) -> dict[str, Any]:
    """The heatmap's data, from each enrolled learner's latest finished attempt at each of
    the course's quizzes (or at `quiz`) and their latest practice code submissions.

    Prevalence and the per-question matrix cover the whole class, from the course's
    counters (analytics/aggregates.py; cached while the course's data is unchanged, unless
    `fresh`; summed from the raw rows when `from_raw`); learners and cells come one page of
    learners (by username) at a time, from their own rows."""
    scope = quiz.id if quiz else COURSE_WIDE

    def compute() -> dict[tuple[str, int, int], int]:
        return course_counts(course=course, scope=scope, from_raw=from_raw)

    counters = (
        compute()
        if fresh or from_raw
        else cached(f"counters:{course.id}:{scope}", course_fingerprint(course), compute)
    )
    enrolled = Enrollment.objects.filter(course=course).order_by("learner__username", "id")
    total = enrolled.count()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    learners = list(
        enrolled.values_list("learner_id", "learner__username")[
            (page - 1) * page_size : page * page_size
        ]
    )
    shown = {learner for learner, _ in learners}
    catalogue = list(Misconception.objects.values_list("id", "code", "title"))
    code_of = {m_id: code for m_id, code, _ in catalogue}
    id_of = {code: m_id for m_id, code, _ in catalogue}
    titles = {code: title for _, code, title in catalogue}
    per_code: dict[str, dict[str, int]] = {}
    names = {"e": "evidence", "h": "holding", "k": "confident"}
    for (kind, code_id, _), n in counters.items():
        if kind in names:
            counts = per_code.setdefault(code_of[code_id], dict.fromkeys(names.values(), 0))
            counts[names[kind]] += n
    # Practice code is live, not in the counters: merged here for the learners it names,
    # whose counts move from what their quiz answers say to what both say.
    code_rows = (
        [(int(lr), id_of[str(c)], int(n)) for lr, c, n in _code_rows(course)]
        if quiz is None
        else []
    )
    readers = sorted(shown | {learner for learner, _, _ in code_rows})
    rows = class_rows(course_id=course.id, quiz_id=None, learners=readers)
    found = {
        learner: tallies(heatmap_responses(learner, rows, scope=scope), rows) for learner in readers
    }
    for learner, code_id, count in code_rows:
        tally = found[learner].get(code_id)
        merged = Tally() if tally is None else replace(tally)
        merged.wrong += count
        merged.wrong_confidence += CODE_CONFIDENCE * count
        merged.sure_wrong += count
        counts = per_code.setdefault(code_of[code_id], dict.fromkeys(names.values(), 0))
        counts["evidence"] += tally is None
        counts["holding"] += tally is None or tally.wrong == 0
        counts["confident"] += merged.held - (tally is not None and tally.held)
        found[learner][code_id] = merged
    cells = []
    for learner in sorted(shown):
        for code_id, tally in found[learner].items():
            mean = _mean_confidence(tally)
            quadrant = quadrant_from_tally(
                wrong=tally.wrong,
                sure_wrong=tally.sure_wrong,
                right=tally.right,
                sure_right=tally.sure_right,
                mean_right_confidence=mean,
            )
            cells.append(
                {
                    "learner": learner,
                    "code": code_of[code_id],
                    "quadrant": quadrant.value,
                    "right": tally.right,
                    "wrong": tally.wrong,
                    "mean_confidence": round(mean, 2),
                }
            )
    cells.sort(key=lambda cell: (cell["learner"], cell["code"]))
    ordered = sorted(per_code.items(), key=lambda item: (-item[1]["holding"], item[0]))
    return {
        "course": course.id,
        "quiz": quiz.id if quiz else None,
        "threshold": CRI_THRESHOLD,
        "learners_total": total,
        "page": page,
        "pages": pages,
        "page_size": page_size,
        "learners": [{"id": learner, "username": name} for learner, name in learners],
        "misconceptions": [
            {
                "code": code,
                "title": titles.get(code, code),
                "holding": counts["holding"],
                "confident": counts["confident"],
                "confident_share": (
                    100.0 * counts["confident"] / counts["holding"] if counts["holding"] else None
                ),
                "evidence": counts["evidence"],
            }
            for code, counts in ordered
            if counts["evidence"]
        ],
        "cells": cells,
        "questions": _question_matrix(counters, code_of),
    }


def _mean_confidence(tally: Tally) -> float:
    """The confidence that decides the quadrant: of wrong answers when there are any."""
    if tally.wrong:
        return tally.wrong_confidence / tally.wrong
    return tally.right_confidence / max(tally.right, 1)


def _question_matrix(
    counters: dict[tuple[str, int, int], int], code_of: dict[int, str]
) -> list[dict[str, Any]]:
    by_question: dict[int, dict[str, Any]] = {}
    for (kind, question_id, is_correct), count in sorted(counters.items()):
        if kind != "qn":
            continue
        confidence = counters.get(("qc", question_id, is_correct), 0)
        row = by_question.setdefault(
            question_id,
            {
                "question": question_id,
                "right": 0,
                "wrong": 0,
                "mean_confidence_right": None,
                "mean_confidence_wrong": None,
                "codes": {},
            },
        )
        key = "right" if is_correct else "wrong"
        row[key] = count
        row[f"mean_confidence_{key}"] = round(confidence / count, 2)
    for (kind, question_id, code_id), learners in sorted(counters.items()):
        if kind == "x" and question_id in by_question:
            by_question[question_id]["codes"][code_of[code_id]] = learners
    questions = dict(Question.objects.filter(id__in=by_question).values_list("id", "slug"))
    stems = dict(Question.objects.filter(id__in=by_question).values_list("id", "stem"))
    rows = []
    for question_id, row in sorted(by_question.items(), key=lambda item: questions[item[0]]):
        rows.append({**row, "slug": questions[question_id], "stem": stems[question_id][:200]})
    return rows


def _band(gain: float) -> str:
    return next(name for bound, name in HAKE_BANDS if gain >= bound)


def course_gain(*, course: Course, fresh: bool = False, from_raw: bool = False) -> dict[str, Any]:
    """Hake's normalised gain g = (post% - pre%) / (100 - pre%) on the class averages of
    learners who took both tests (first attempts), overall and per misconception (the
    share of those learners holding it before and after); from the course's counters,
    cached like the heatmap, or summed from the raw rows when `from_raw`."""
    if fresh or from_raw:
        return _course_gain(course, from_raw=from_raw)
    return cached(
        f"gain:{course.id}",
        course_fingerprint(course),
        lambda: _course_gain(course, from_raw=False),
    )


def _mean_percent(totals: dict[tuple[int, int], int], matched: int) -> float:
    """The exact mean of 100 total / maximum over the matched learners, rounded once."""
    exact = sum(
        (Fraction(100 * n * total, maximum) for (total, maximum), n in totals.items()), Fraction(0)
    )
    return float(exact / matched)


def _course_gain(course: Course, *, from_raw: bool) -> dict[str, Any]:
    pre = course.quizzes.filter(role=Quiz.Role.PRE).order_by("id").first()
    post = course.quizzes.filter(role=Quiz.Role.POST).order_by("id").first()
    result: dict[str, Any] = {
        "pre_quiz": pre.id if pre else None,
        "post_quiz": post.id if post else None,
        "learners_matched": 0,
        "pre_percent": None,
        "post_percent": None,
        "gain": None,
        "band": None,
        "note": "",
        "per_misconception": [],
    }
    if pre is None or post is None:
        result["note"] = "The course needs a pre-test and a post-test to measure gains."
        return result
    counters = course_counts(course=course, scope=COURSE_WIDE, from_raw=from_raw)
    totals: dict[str, dict[tuple[int, int], int]] = {"gp": {}, "gq": {}}
    holding: dict[str, dict[int, int]] = {"gb": {}, "ga": {}}
    for (kind, a, b), n in counters.items():
        if kind in totals:
            totals[kind][(a, b)] = n
        elif kind in holding:
            holding[kind][a] = n
    matched = sum(totals["gp"].values())
    result["learners_matched"] = matched
    if not matched:
        result["note"] = "No learner has finished both the pre-test and the post-test yet."
        return result
    pre_percent = _mean_percent(totals["gp"], matched)
    post_percent = _mean_percent(totals["gq"], matched)
    result["pre_percent"] = pre_percent
    result["post_percent"] = post_percent
    if pre_percent >= 100:
        result["note"] = "The class averaged 100% on the pre-test: there was nothing to gain."
    else:
        gain = (post_percent - pre_percent) / (100.0 - pre_percent)
        result["gain"] = gain
        result["band"] = _band(gain)
    catalogue = {
        m_id: (code, title)
        for m_id, code, title in Misconception.objects.values_list("id", "code", "title")
    }
    codes = sorted((catalogue[m_id][0], m_id) for m_id in set(holding["gb"]) | set(holding["ga"]))
    result["per_misconception"] = [
        {
            "code": code,
            "title": catalogue[m_id][1],
            "before": 100.0 * holding["gb"].get(m_id, 0) / matched,
            "after": 100.0 * holding["ga"].get(m_id, 0) / matched,
        }
        for code, m_id in codes
    ]
    return result


def learner_profile(*, course: Course, learner_id: int) -> dict[str, Any]:
    """One enrolled learner's finished attempts at the course's quizzes, oldest first,
    each with its diagnosis per misconception."""
    enrollment = (
        Enrollment.objects.select_related("learner")
        .filter(course=course, learner_id=learner_id)
        .first()
        if learner_id <= MAX_ID
        else None
    )
    if enrollment is None:
        raise NotFoundError("No such learner in this course.")
    attempts = (
        Attempt.objects.filter(
            quiz__course=course,
            learner_id=learner_id,
            state=Attempt.State.SUBMITTED,
            is_preview=False,
        )
        .select_related("quiz")
        .prefetch_related("responses__question__probes", "responses__misconceptions")
        .order_by("submitted_at", "id")
    )
    titles = dict(Misconception.objects.values_list("code", "title"))
    history = []
    for attempt in attempts:
        evidence = [e for r in attempt.responses.all() for e in response_evidence(r)]
        history.append(
            {
                "attempt": attempt.id,
                "quiz": attempt.quiz_id,
                "quiz_title": attempt.quiz.title,
                "submitted_at": attempt.submitted_at,
                "percent": (
                    100.0 * float(attempt.score or 0) / float(attempt.max_score)
                    if attempt.max_score
                    else None
                ),
                "diagnoses": [
                    {
                        "code": d.code,
                        "title": titles.get(d.code, d.code),
                        "quadrant": d.quadrant.value,
                        "right": d.right,
                        "wrong": d.wrong,
                        "mean_confidence": d.mean_confidence,
                    }
                    for d in diagnose(evidence)
                ],
            }
        )
    learner = enrollment.learner
    return {"learner": {"id": learner.id, "username": learner.get_username()}, "attempts": history}
