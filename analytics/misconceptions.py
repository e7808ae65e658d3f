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

Counting happens in the database with a fixed number of queries; Python combines one row
per (learner, misconception).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.cache import cached, course_fingerprint
from analytics.counted import counted_attempts_cte, query_rows
from assessments.diagnosis import CRI_THRESHOLD, Quadrant, diagnose, quadrant_from_tally
from assessments.models import Attempt, Misconception, Question, Quiz, Response
from assessments.results import response_evidence
from core.errors import NotFoundError
from core.inputs import MAX_ID
from courses.models import Course, Enrollment
from grader.models import Submission

CODE_CONFIDENCE = 3
HAKE_BANDS = ((0.7, "high"), (0.3, "medium"), (float("-inf"), "low"))


@dataclass
class _Evidence:
    """One row per (learner, misconception) with evidence: counts, sure counts and
    confidence sums of the right answers that count for it and of the wrong ones that
    revealed it."""

    learner: np.ndarray
    code: np.ndarray  # index into `codes`
    codes: list[str]
    right: np.ndarray
    right_confidence: np.ndarray
    wrong: np.ndarray
    wrong_confidence: np.ndarray
    sure_wrong: np.ndarray
    sure_right: np.ndarray
    questions: list[tuple[Any, ...]] = field(default_factory=list)
    question_codes: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def mean_confidence(self) -> np.ndarray:
        """The confidence that decides the quadrant: of wrong answers when there are any."""
        wrong = self.wrong > 0
        judged = np.where(wrong, self.wrong, np.maximum(self.right, 1))
        return np.where(wrong, self.wrong_confidence, self.right_confidence) / judged

    @property
    def held(self) -> np.ndarray:
        """Rows in the "misconception" quadrant (assessments.diagnosis.quadrant_from_tally)."""
        return (self.wrong > 0) & (self.sure_wrong > self.sure_right)

    def quadrant(self, i: int, means: np.ndarray) -> Quadrant:
        """Row i's quadrant, given `means` = self.mean_confidence (computed once)."""
        return quadrant_from_tally(
            wrong=int(self.wrong[i]),
            sure_wrong=int(self.sure_wrong[i]),
            right=int(self.right[i]),
            sure_right=int(self.sure_right[i]),
            mean_right_confidence=float(means[i]),
        )


def _evidence(
    course: Course, quiz_id: int | None, policy: str, *, with_code: bool, with_questions: bool
) -> _Evidence:
    """Read the evidence in one statement: the counted responses are gathered once and
    aggregated per (learner, misconception), and per question when asked."""
    counted, params = counted_attempts_cte(
        course_id=course.id, quiz_id=quiz_id, policy=policy, enrolled_only=True
    )
    response = Response._meta.db_table
    revealed = Response.misconceptions.through._meta.db_table
    probes = Question.probes.through._meta.db_table
    misconception = Misconception._meta.db_table
    answered = f"""{counted},
        answered AS (
            SELECT r.id, c.learner_id, r.question_id, r.is_correct, r.confidence
              FROM {response} r JOIN counted c ON c.id = r.attempt_id
             WHERE r.is_correct IS NOT NULL AND r.confidence IS NOT NULL
        )
    """
    # Separate statements: on PostgreSQL one statement sharing `answered` between these
    # aggregations was measured twice as slow (its row estimates lead to nested loops).
    tallies = query_rows(
        answered
        + f"""SELECT a.learner_id, m.code, COUNT(*), SUM(a.confidence), 0, 0,
               SUM(CASE WHEN a.confidence > %s THEN 1 ELSE 0 END), 0
          FROM answered a
          JOIN {revealed} rm ON rm.response_id = a.id
          JOIN {misconception} m ON m.id = rm.misconception_id
         WHERE a.is_correct = FALSE
         GROUP BY a.learner_id, m.code
        UNION ALL
        SELECT a.learner_id, m.code, 0, 0, COUNT(*), SUM(a.confidence),
               0, SUM(CASE WHEN a.confidence > %s THEN 1 ELSE 0 END)
          FROM answered a
          JOIN {probes} qp ON qp.question_id = a.question_id
          JOIN {misconception} m ON m.id = qp.misconception_id
         WHERE a.is_correct = TRUE
         GROUP BY a.learner_id, m.code""",
        [*params, CRI_THRESHOLD, CRI_THRESHOLD],
    )
    question_rows: list[tuple[Any, ...]] = []
    code_rows: list[tuple[Any, ...]] = []
    if with_questions:
        question_rows = query_rows(
            answered
            + """SELECT question_id, NULL, CASE WHEN is_correct THEN 1 ELSE 0 END,
                        COUNT(*), SUM(confidence), 0
                   FROM answered GROUP BY question_id, is_correct""",
            params,
        )
        code_rows = query_rows(
            answered
            + f"""SELECT a.question_id, m.code, COUNT(DISTINCT a.learner_id)
              FROM answered a
              JOIN {revealed} rm ON rm.response_id = a.id
              JOIN {misconception} m ON m.id = rm.misconception_id
             WHERE a.is_correct = FALSE
             GROUP BY a.question_id, m.code""",
            params,
        )
    if with_code:
        tallies += [
            (learner, code, count, CODE_CONFIDENCE * count, 0, 0, count, 0)
            for learner, code, count in _code_rows(course)
        ]
    codes = sorted({str(row[1]) for row in tallies})
    index = {code: i for i, code in enumerate(codes)}
    numbers = np.array(
        [(row[0], index[str(row[1])], *row[2:]) for row in tallies], dtype=np.int64
    ).reshape(-1, 8)
    if len(numbers):  # one row per (learner, code): add up wrong, right and code evidence
        keys, inverse = np.unique(numbers[:, :2], axis=0, return_inverse=True)
        summed = np.zeros((len(keys), 6), dtype=np.int64)
        np.add.at(summed, inverse.reshape(-1), numbers[:, 2:])
        numbers = np.hstack([keys, summed])
    return _Evidence(
        learner=numbers[:, 0],
        code=numbers[:, 1],
        codes=codes,
        wrong=numbers[:, 2],
        wrong_confidence=numbers[:, 3],
        right=numbers[:, 4],
        right_confidence=numbers[:, 5],
        sure_wrong=numbers[:, 6],
        sure_right=numbers[:, 7],
        questions=question_rows,
        question_codes=code_rows,
    )


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
) -> dict[str, Any]:
    """The heatmap's data, from each enrolled learner's latest finished attempt at each of
    the course's quizzes (or at `quiz`) and their latest practice code submissions.

    Prevalence and the per-question matrix cover the whole class; learners and cells come
    one page of learners (by username) at a time. The evidence comes from the cache while
    the course's data is unchanged, unless `fresh`."""
    quiz_id = quiz.id if quiz else None

    def compute() -> _Evidence:
        return _evidence(course, quiz_id, "last", with_code=quiz is None, with_questions=True)

    found = (
        compute()
        if fresh
        else cached(f"evidence:{course.id}:{quiz_id}", course_fingerprint(course), compute)
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
    titles = dict(Misconception.objects.values_list("code", "title"))
    per_code: dict[str, dict[str, int]] = {}
    holding = found.wrong > 0
    confident = found.held
    for i, code in enumerate(found.codes):
        mine = found.code == i
        per_code[code] = {
            "holding": int(np.count_nonzero(mine & holding)),
            "confident": int(np.count_nonzero(mine & confident)),
            "evidence": int(np.count_nonzero(mine)),
        }
    cells = []
    means = found.mean_confidence
    for row in np.flatnonzero(np.isin(found.learner, list(shown))).tolist():
        i = int(row)
        cells.append(
            {
                "learner": int(found.learner[i]),
                "code": found.codes[found.code[i]],
                "quadrant": found.quadrant(i, means).value,
                "right": int(found.right[i]),
                "wrong": int(found.wrong[i]),
                "mean_confidence": round(float(means[i]), 2),
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
        ],
        "cells": cells,
        "questions": _question_matrix(found),
    }


def _question_matrix(found: _Evidence) -> list[dict[str, Any]]:
    by_question: dict[int, dict[str, Any]] = {}
    for question_id, _, is_correct, count, confidence, _ in found.questions:
        mean = float(confidence) / int(count)
        row = by_question.setdefault(
            int(question_id),
            {
                "question": int(question_id),
                "right": 0,
                "wrong": 0,
                "mean_confidence_right": None,
                "mean_confidence_wrong": None,
                "codes": {},
            },
        )
        key = "right" if is_correct else "wrong"
        row[key] = int(count)
        row[f"mean_confidence_{key}"] = round(float(mean), 2)
    for question_id, code, learners, *_ in found.question_codes:
        if int(question_id) in by_question:
            by_question[int(question_id)]["codes"][str(code)] = int(learners)
    questions = dict(Question.objects.filter(id__in=by_question).values_list("id", "slug"))
    stems = dict(Question.objects.filter(id__in=by_question).values_list("id", "stem"))
    rows = []
    for question_id, row in sorted(by_question.items(), key=lambda item: questions[item[0]]):
        rows.append({**row, "slug": questions[question_id], "stem": stems[question_id][:200]})
    return rows


def _band(gain: float) -> str:
    return next(name for bound, name in HAKE_BANDS if gain >= bound)


def course_gain(*, course: Course, fresh: bool = False) -> dict[str, Any]:
    """Hake's normalised gain g = (post% - pre%) / (100 - pre%) on the class averages of
    learners who took both tests (first attempts), overall and per misconception (the
    share of those learners holding it before and after); cached like the heatmap."""
    if fresh:
        return _course_gain(course)
    return cached(f"gain:{course.id}", course_fingerprint(course), lambda: _course_gain(course))


def _course_gain(course: Course) -> dict[str, Any]:
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
    percents: dict[int, dict[int, float]] = {}
    for quiz in (pre, post):
        counted, params = counted_attempts_cte(
            course_id=course.id, quiz_id=quiz.id, policy="first", enrolled_only=True
        )
        rows = query_rows(counted + "SELECT learner_id, score, max_score FROM counted", params)
        percents[quiz.id] = {
            int(learner): 100.0 * float(score or 0) / float(maximum)
            for learner, score, maximum in rows
            if maximum
        }
    matched = sorted(set(percents[pre.id]) & set(percents[post.id]))
    result["learners_matched"] = len(matched)
    if not matched:
        result["note"] = "No learner has finished both the pre-test and the post-test yet."
        return result
    pre_percent = sum(percents[pre.id][learner] for learner in matched) / len(matched)
    post_percent = sum(percents[post.id][learner] for learner in matched) / len(matched)
    result["pre_percent"] = pre_percent
    result["post_percent"] = post_percent
    if pre_percent >= 100:
        result["note"] = "The class averaged 100% on the pre-test: there was nothing to gain."
    else:
        gain = (post_percent - pre_percent) / (100.0 - pre_percent)
        result["gain"] = gain
        result["band"] = _band(gain)
    matched_set = set(matched)
    holding: dict[int, dict[str, int]] = {}
    for quiz in (pre, post):
        found = _evidence(course, quiz.id, "first", with_code=False, with_questions=False)
        counted_learners = np.isin(found.learner, list(matched_set)) & (found.wrong > 0)
        per_code = np.bincount(found.code[counted_learners], minlength=len(found.codes))
        holding[quiz.id] = {
            code: int(n) for code, n in zip(found.codes, per_code, strict=True) if n
        }
    titles = dict(Misconception.objects.values_list("code", "title"))
    codes = sorted(set(holding[pre.id]) | set(holding[post.id]))
    result["per_misconception"] = [
        {
            "code": code,
            "title": titles.get(code, code),
            "before": 100.0 * holding[pre.id].get(code, 0) / len(matched),
            "after": 100.0 * holding[post.id].get(code, 0) / len(matched),
        }
        for code in codes
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
