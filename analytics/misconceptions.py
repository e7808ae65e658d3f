"""What the class believes: misconception x learner (and x question) by CRI quadrant,
class prevalence, Hake's gain from pre- to post-test, and one learner's history.

Evidence follows the learner's own results page (assessments.selectors.response_evidence
and assessments.diagnosis): a right, rated answer counts for every misconception its
question probes; a wrong, rated answer counts against the misconceptions it revealed.
Wrong answers dominate, and the mean confidence (CRI 0-5, threshold 2.5) of the
dominating answers picks the quadrant. Code counts too: a quiz's code question carries
its grader verdict on the response, and for practice submissions outside quizzes the
learner's latest submission per exercise counts as one wrong answer per misconception
its failing checks named, rated CODE_CONFIDENCE (submitting code is asserting it works).

Counting happens in the database with a fixed number of queries; Python combines one row
per (learner, misconception).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from analytics.access import MAX_ID
from analytics.counted import counted_attempts_cte
from assessments.diagnosis import CRI_THRESHOLD, Quadrant, diagnose, quadrant_of
from assessments.errors import NotFoundError
from assessments.models import Attempt, Misconception, Question, Quiz, Response
from assessments.selectors import response_evidence
from courses.models import Course, Enrollment
from grader.models import Submission

CODE_CONFIDENCE = 3
HAKE_BANDS = ((0.7, "high"), (0.3, "medium"), (float("-inf"), "low"))


def _query(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass
class _Tally:
    right: int = 0
    right_confidence: int = 0
    wrong: int = 0
    wrong_confidence: int = 0

    def quadrant(self) -> Quadrant:
        if self.wrong:
            return quadrant_of(correct=False, confidence=self.wrong_confidence / self.wrong)
        return quadrant_of(correct=True, confidence=self.right_confidence / max(self.right, 1))

    def mean_confidence(self) -> float:
        if self.wrong:
            return self.wrong_confidence / self.wrong
        return self.right_confidence / max(self.right, 1)


@dataclass
class _Evidence:
    tallies: dict[tuple[int, str], _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    questions: list[tuple[Any, ...]] = field(default_factory=list)
    question_codes: list[tuple[Any, ...]] = field(default_factory=list)


def _evidence(
    course: Course, quiz_id: int | None, policy: str, *, with_code: bool, with_questions: bool
) -> _Evidence:
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
    found = _Evidence()
    wrong_rows = _query(
        answered
        + f"""SELECT a.learner_id, m.code, COUNT(*), SUM(a.confidence)
          FROM answered a
          JOIN {revealed} rm ON rm.response_id = a.id
          JOIN {misconception} m ON m.id = rm.misconception_id
         WHERE a.is_correct = FALSE
         GROUP BY a.learner_id, m.code""",
        params,
    )
    right_rows = _query(
        answered
        + f"""SELECT a.learner_id, m.code, COUNT(*), SUM(a.confidence)
          FROM answered a
          JOIN {probes} qp ON qp.question_id = a.question_id
          JOIN {misconception} m ON m.id = qp.misconception_id
         WHERE a.is_correct = TRUE
         GROUP BY a.learner_id, m.code""",
        params,
    )
    for learner, code, count, confidence in wrong_rows:
        tally = found.tallies[(int(learner), str(code))]
        tally.wrong += int(count)
        tally.wrong_confidence += int(confidence)
    for learner, code, count, confidence in right_rows:
        tally = found.tallies[(int(learner), str(code))]
        tally.right += int(count)
        tally.right_confidence += int(confidence)
    if with_code:
        for learner, code, count in _code_rows(course):
            tally = found.tallies[(int(learner), str(code))]
            tally.wrong += int(count)
            tally.wrong_confidence += CODE_CONFIDENCE * int(count)
    if with_questions:
        found.questions = _query(
            answered
            + """SELECT question_id, is_correct, COUNT(*), AVG(CAST(confidence AS DOUBLE PRECISION))
              FROM answered GROUP BY question_id, is_correct""",
            params,
        )
        found.question_codes = _query(
            answered
            + f"""SELECT a.question_id, m.code, COUNT(DISTINCT a.learner_id)
              FROM answered a
              JOIN {revealed} rm ON rm.response_id = a.id
              JOIN {misconception} m ON m.id = rm.misconception_id
             WHERE a.is_correct = FALSE
             GROUP BY a.question_id, m.code""",
            params,
        )
    return found


def _code_rows(course: Course) -> list[tuple[Any, ...]]:
    """(learner, code, 1) for each misconception named by a learner's latest practice
    submission per exercise (quiz code questions are already in the responses)."""
    submission = Submission._meta.db_table
    named = Submission.misconceptions.through._meta.db_table
    misconception = Misconception._meta.db_table
    enrollment = Enrollment._meta.db_table
    return _query(
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


def course_misconceptions(*, course: Course, quiz: Quiz | None = None) -> dict[str, Any]:
    """The heatmap's data: every enrolled learner x misconception, by CRI quadrant, from
    each learner's latest finished attempt at each of the course's quizzes (or at `quiz`)
    and their latest practice code submissions."""
    found = _evidence(
        course, quiz.id if quiz else None, "last", with_code=quiz is None, with_questions=True
    )
    learners = list(
        Enrollment.objects.filter(course=course)
        .order_by("learner__username")
        .values_list("learner_id", "learner__username")
    )
    titles = dict(Misconception.objects.values_list("code", "title"))
    per_code: dict[str, dict[str, int]] = defaultdict(
        lambda: {"holding": 0, "confident": 0, "evidence": 0}
    )
    cells = []
    for (learner, code), tally in sorted(found.tallies.items()):
        quadrant = tally.quadrant()
        if tally.wrong:
            per_code[code]["holding"] += 1
            if quadrant == Quadrant.MISCONCEPTION:
                per_code[code]["confident"] += 1
        per_code[code]["evidence"] += 1
        cells.append(
            {
                "learner": learner,
                "code": code,
                "quadrant": quadrant.value,
                "right": tally.right,
                "wrong": tally.wrong,
                "mean_confidence": round(tally.mean_confidence(), 2),
            }
        )
    ordered = sorted(per_code.items(), key=lambda item: (-item[1]["holding"], item[0]))
    misconceptions = [
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
    ]
    return {
        "course": course.id,
        "quiz": quiz.id if quiz else None,
        "threshold": CRI_THRESHOLD,
        "learners": [{"id": learner, "username": name} for learner, name in learners],
        "misconceptions": misconceptions,
        "cells": cells,
        "questions": _question_matrix(found),
    }


def _question_matrix(found: _Evidence) -> list[dict[str, Any]]:
    by_question: dict[int, dict[str, Any]] = {}
    for question_id, is_correct, count, mean in found.questions:
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
    for question_id, code, learners in found.question_codes:
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


def course_gain(*, course: Course) -> dict[str, Any]:
    """Hake's normalised gain g = (post% - pre%) / (100 - pre%) on the class averages of
    learners who took both tests (first attempts), overall and per misconception (the
    share of those learners holding it before and after)."""
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
        rows = _query(counted + "SELECT learner_id, score, max_score FROM counted", params)
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
        counts: dict[str, int] = defaultdict(int)
        for (learner, code), tally in found.tallies.items():
            if tally.wrong and learner in matched_set:
                counts[code] += 1
        holding[quiz.id] = counts
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
