"""Which attempts count: the SQL both the item statistics and the misconception analytics
start from.

Only finished (submitted) attempts count, never an instructor's preview nor any attempt
by one of the course's instructors. Per learner (and per quiz when several quizzes are
read) the policy picks the first, the last, the highest graded (ties to the earlier) or
all attempts, as Moodle's "which attempts" setting does.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment

POLICIES = ("first", "last", "highest", "all")
_ORDER = {
    "first": "a.number ASC",
    "last": "a.number DESC",
    # Highest graded: the best percentage, for attempts may be out of different maxima.
    "highest": (
        "CASE WHEN a.max_score > 0 THEN CAST(COALESCE(a.score, 0) AS DOUBLE PRECISION)"
        " / CAST(a.max_score AS DOUBLE PRECISION) ELSE 0 END DESC, a.number ASC"
    ),
    "all": "a.number ASC",
}


def counted_attempts_cte(
    *, course_id: int | None, quiz_id: int | None, policy: str, enrolled_only: bool = False
) -> tuple[str, list[Any]]:
    """Return `WITH ranked AS (...), counted AS (...)` (ids, learner_id, quiz_id, score,
    max_score) and its parameters, for one quiz or every quiz of a course."""
    if policy not in POLICIES:
        raise ValueError(f"attempts must be one of {', '.join(POLICIES)}")
    attempt, quiz = Attempt._meta.db_table, Quiz._meta.db_table
    instructors = Course.instructors.through._meta.db_table
    enrollment = Enrollment._meta.db_table
    where = ["a.state = %s", "a.is_preview = FALSE"]
    params: list[Any] = [Attempt.State.SUBMITTED]
    if quiz_id is not None:
        where.append("a.quiz_id = %s")
        params.append(quiz_id)
    if course_id is not None:
        where.append("q.course_id = %s")
        params.append(course_id)
        where.append(
            f"a.learner_id NOT IN (SELECT user_id FROM {instructors} WHERE course_id = %s)"
        )
        params.append(course_id)
        if enrolled_only:
            where.append(
                f"a.learner_id IN (SELECT learner_id FROM {enrollment} WHERE course_id = %s)"
            )
            params.append(course_id)
    pick = "" if policy == "all" else "WHERE pick = 1"
    sql = f"""
        WITH ranked AS (
            SELECT a.id, a.learner_id, a.quiz_id, a.score, a.max_score,
                   ROW_NUMBER() OVER (
                       PARTITION BY a.learner_id, a.quiz_id ORDER BY {_ORDER[policy]}
                   ) AS pick
              FROM {attempt} a JOIN {quiz} q ON q.id = a.quiz_id
             WHERE {" AND ".join(where)}
        ),
        counted AS (SELECT id, learner_id, quiz_id, score, max_score FROM ranked {pick})
    """
    return sql, params


def query_rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one aggregation statement and return its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
