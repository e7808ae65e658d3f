"""Reading the analytics' aggregates (analytics/models.py, kept by analytics/aggregates.py):
the statistics' counts of a quiz and the counters of a course, summed over stripes and
the policies' masks, or summed from the raw rows when the stored ones drifted from them.

Every read first applies the pending submits of what it reads (analytics/aggregates.py,
pending_catch_up), so it is exact whether or not the worker has run. Drift is seen by
checksums of the counted attempts (how many, Σ ids, Σ scores) and, for a course, its pre-
and post-test, compared with the stored ones on every read.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.db import connection

from analytics.aggregates import counts_folded, course_tests, pending_catch_up, raw_counts
from analytics.contributions import CHECKSUMS, COURSE_WIDE, UNIT
from analytics.models import FOLDED, QUIZ_VALUES, CourseCount, QuizCount
from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment

logger = logging.getLogger(__name__)

# The kinds the statistics read: moments q, the distributions of marks X and of the rest
# of the test R, options o (their choosers' Σ totals folded in), attempt totals t and the
# attempts n.
QUIZ_KINDS = ("q", "X", "R", "o", "t", "n")
# A quiz count row as read: kind, a, b, mark, max mark, total, maximum, then QUIZ_VALUES.
QuizRow = tuple[Any, ...]


def counted_checksums(*, quiz_id: int | None, course_id: int | None) -> tuple[int, int, int]:
    """(how many, Σ ids, Σ scores in units) of the attempts that count at the quiz (its
    statistics) or, with quiz_id None, in the course (enrolled learners: the heatmap)."""
    attempts = Attempt.objects.filter(state=Attempt.State.SUBMITTED, is_preview=False)
    if quiz_id is not None:
        attempts = attempts.filter(quiz_id=quiz_id)
    if course_id is not None:
        instructors = Course.instructors.through.objects.filter(course_id=course_id)
        attempts = attempts.filter(quiz__course_id=course_id).exclude(
            learner_id__in=instructors.values("user_id")
        )
        if quiz_id is None:
            enrolled = Enrollment.objects.filter(course_id=course_id).values("learner_id")
            attempts = attempts.filter(learner_id__in=enrolled)
    sql, params = attempts.values_list("id").query.sql_with_params()
    table = connection.ops.quote_name(Attempt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(id), 0), "  # noqa: S608
            f"COALESCE(SUM(CAST(ROUND(COALESCE(score, 0) * {UNIT}) AS BIGINT)), 0) "
            f"FROM {table} WHERE id IN ({sql})",
            params,
        )
        found = cursor.fetchone()
    return int(found[0]), int(found[1]), int(found[2])


def _quiz_in_step(quiz: Quiz) -> bool:
    """Whether the quiz's stored checksums match its counted attempts'."""
    table = connection.ops.quote_name(QuizCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT kind, SUM(n) FROM {table} WHERE quiz_id = %s
                 AND kind IN ('n', 'i', 'z') GROUP BY kind""",  # noqa: S608
            [quiz.id],
        )
        stored = dict(cursor.fetchall())
    raw = counted_checksums(quiz_id=quiz.id, course_id=quiz.course_id)
    return tuple(int(stored.get(k, 0)) for k in ("n", "i", "z")) == raw


def _course_stored(course: Course, scope: int) -> list[tuple[Any, ...]]:
    table = connection.ops.quote_name(CourseCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT scope, kind, a, b, n, m FROM {table} WHERE course_id = %s
                 AND (scope = %s OR (scope = %s AND kind IN ('N', 'I', 'Z', 'G')))""",  # noqa: S608
            [course.id, scope, COURSE_WIDE],
        )
        found = cursor.fetchall()
    # A key's stripes sum; a sum kind folded beside its count kind comes back as its own.
    beside = {count: kind for kind, (count, column) in FOLDED.items() if column == "m"}
    summed: Counter[tuple[Any, ...]] = Counter()
    for row_scope, kind, a, b, n, m in found:
        summed[(row_scope, kind, a, b)] += int(n)
        if kind in beside:
            summed[(row_scope, beside[kind], a, b)] += int(m)
    return [(*key, n) for key, n in summed.items()]


def _course_in_step(course: Course, stored: list[tuple[Any, ...]]) -> bool:
    """Whether the course's stored checksums and pre-/post-test match the raw rows'."""
    sums = {kind: n for _, kind, _, _, n in stored if kind in CHECKSUMS}
    tests = {(a, b) for _, kind, a, b, _ in stored if kind == "G"}
    raw = counted_checksums(quiz_id=None, course_id=course.id)
    in_step = tuple(int(sums.get(k, 0)) for k in CHECKSUMS) == raw
    return in_step and tests == {course_tests(course.id)}


def aggregates_drifted(*, course: Course | None = None, quiz: Quiz | None = None) -> bool:
    """Whether the course's (its own or any of its quizzes') or the quiz's counts differ
    from the raw rows by their checksums."""
    if course is not None:
        pending_catch_up(course_id=course.id)
        quizzes = list(course.quizzes.all())
        stored = _course_stored(course, COURSE_WIDE)
        return not _course_in_step(course, stored) or not all(map(_quiz_in_step, quizzes))
    if quiz is not None:
        pending_catch_up(quiz_id=quiz.id)
        return not _quiz_in_step(quiz)
    raise ValueError("Check a course or a quiz.")


def quiz_counts(*, quiz: Quiz, bit: int, from_raw: bool = False) -> list[QuizRow]:
    """The quiz's count rows (kind, a, b, mark, max mark, total, maximum, then QUIZ_VALUES)
    of QUIZ_KINDS over the attempts counted under the policy `bit`, each key once but R's
    (one row per mask it was counted under, values n only): from the aggregates, or from
    the raw rows when `from_raw` or when the aggregates drifted."""
    if not from_raw:
        pending_catch_up(quiz_id=quiz.id)
        if _quiz_in_step(quiz):
            return _quiz_stored(quiz, bit)
        logger.warning("analytics: quiz %s's aggregates drifted; read the raw rows", quiz.id)
    quizzes, _, _ = raw_counts(course_id=quiz.course_id, quiz_id=quiz.id, evidence=False)
    summed: dict[tuple[Any, ...], list[int]] = {}
    folded = counts_folded(quizzes.get(quiz.id, Counter()), 0, QUIZ_VALUES)
    for (kind, mask, *key), values in folded.items():
        if not mask & bit or kind not in QUIZ_KINDS:
            continue
        row = summed.setdefault((kind, *key), [0] * len(QUIZ_VALUES))
        for index, value in enumerate(values):
            row[index] += value
    return [(*key, *values) for key, values in summed.items() if values[0]]


def _quiz_stored(quiz: Quiz, bit: int) -> list[QuizRow]:
    table = connection.ops.quote_name(QuizCount._meta.db_table)
    kinds = ", ".join(f"'{kind}'" for kind in QUIZ_KINDS if kind != "R")
    sums = ", ".join(f"CAST(SUM({value}) AS BIGINT)" for value in QUIZ_VALUES)
    zeros = ", ".join("0" for _ in QUIZ_VALUES[1:])
    # Kinds and the columns are constants; values are parameters. R is most of the rows,
    # each nearly alone under its key (stripe 0, a mask or two): summing them in a GROUP BY
    # cost a sort of them all, and its reader sums equal values anyway.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT kind, a, b, mark, max_mark, total, maximum, {sums} FROM {table}
                 WHERE quiz_id = %s AND (mask & %s) <> 0 AND kind IN ({kinds})
                 GROUP BY kind, a, b, mark, max_mark, total, maximum
                HAVING SUM(n) <> 0
                UNION ALL
                SELECT kind, a, b, mark, max_mark, total, maximum, n, {zeros} FROM {table}
                 WHERE quiz_id = %s AND (mask & %s) <> 0 AND kind = 'R' AND n <> 0""",  # noqa: S608
            [quiz.id, bit, quiz.id, bit],
        )
        return list(cursor.fetchall())


def course_counts(
    *, course: Course, scope: int, from_raw: bool = False
) -> dict[tuple[str, int, int], int]:
    """The course's counters {(kind, a, b): n} of `scope` (COURSE_WIDE or a quiz): from the
    aggregates, or from the raw rows when `from_raw` or when they drifted from them."""
    if not from_raw:
        pending_catch_up(course_id=course.id)
        stored = _course_stored(course, scope)
        if _course_in_step(course, stored):
            return {(kind, a, b): int(n) for s, kind, a, b, n in stored if s == scope and n}
        logger.warning("analytics: course %s's aggregates drifted; read the raw rows", course.id)
    _, counters, _ = raw_counts(course_id=course.id, quiz_id=None, statistics=False)
    return {(kind, a, b): n for (s, kind, a, b), n in counters.items() if s == scope and n}
