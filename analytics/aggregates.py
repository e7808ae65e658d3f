"""The analytics' aggregates (analytics/models.py): kept in step with every submit,
re-score and deletion of an attempt, read by the statistics, heatmap and gain, rebuilt
from the raw rows when they drifted.

Why receivers of signals and not tables in assessments: assessments may not import
analytics (pyproject.toml's layers), and what is summed here is the analytics' business
(which attempts count, per policy; evidence; gains). assessments sends attempt_scored and
attempt_rescoring (assessments/signals.py) inside the scoring transaction, and Django sends
pre_delete and post_delete for every Attempt and Enrollment a deletion collects, cascades
included; so the counts change in the same transaction as the rows they sum and cannot
drift from them by a crash or a rollback.

Each change recomputes the affected learner's contribution (analytics/contributions.py)
after and before it, and adds the difference with `n = n + excluded.n` upserts (SQLite and
PostgreSQL), rows in key order so that two transactions lock shared rows in one order and
neither loses the other's update. A learner's changes are serialised by a lock on their
user row: their contribution is not additive over attempts.

What is not followed incrementally (rows written by bulk_create or raw SQL, an instructor
added, an enrolment made in bulk, a quiz's role changed, a question's probes edited) shows
as drift: every read compares checksums of the counted attempts (how many, Σ ids, Σ scores)
and the course's pre-/post-test with the stored ones and computes from the raw rows when
they differ; the beat task (analytics.tasks.analytics_warm) and `manage.py
rebuild_analytics` rebuild what drifted.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Min, Q

from analytics.contributions import (
    CHECKSUMS,
    COURSE_WIDE,
    UNIT,
    ClassRows,
    CourseKey,
    QuizKey,
    class_rows,
    counts_difference,
    evidence_counts,
    statistics_counts,
)
from analytics.models import STRIPES, CourseCount, QuizCount
from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment

logger = logging.getLogger(__name__)
CHUNK_LEARNERS = 500
UPSERT_ROWS = 500
_QUIZ_KEYS = ("kind", "mask", "a", "b", "mark", "max_mark", "total", "maximum")
_COURSE_KEYS = ("scope", "kind", "a", "b")


# ---------------------------------------------------------------- writing


# PostgreSQL column types of the keys, for the arrays the upsert unnests.
_PG_TYPES = {"kind": "text", "mask": "smallint"}


def _array_literal(values: tuple[int | str, ...]) -> str:
    """A PostgreSQL array literal of integers or of kinds (letters, never quoted): psycopg's
    adapter searched every element for characters to quote."""
    return "{" + ",".join(map(str, values)) + "}"


# A sum kind stored in the m column of its count kind's row (same key): one row less
# per option chosen and per question answered on each submit.
FOLDED = {"O": "o", "qc": "qn"}
COUNT_KINDS = {count: total for total, count in FOLDED.items()}


def _folded(counts: dict[Any, int], kind_at: int) -> dict[Any, tuple[int, int]]:
    """{key: (n, m)} with each FOLDED sum kind's count moved to m of its count kind's key."""
    rows: dict[Any, tuple[int, int]] = {}
    for key, value in counts.items():
        count_kind = FOLDED.get(key[kind_at])
        if count_kind is None:
            n, m = rows.get(key, (0, 0))
            rows[key] = (n + value, m)
        else:
            key = (*key[:kind_at], count_kind, *key[kind_at + 1 :])
            n, m = rows.get(key, (0, 0))
            rows[key] = (n, m + value)
    return rows


def _upsert(
    model: Any,
    owner: str,
    owner_id: int,
    stripe: int,
    keys: tuple[str, ...],
    delta: dict[Any, int],
) -> None:
    """Add `delta` to the counts of (owner, key) in `stripe`, inserting missing rows, in
    key order."""
    if not delta:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = [f"{owner}_id", "stripe", *keys, "n", "m"]
    names = ", ".join(ops.quote_name(c) for c in columns)
    conflict = ", ".join(ops.quote_name(c) for c in columns[:-2])
    update = (
        f"ON CONFLICT ({conflict}) DO UPDATE "
        f"SET n = {table}.n + EXCLUDED.n, m = {table}.m + EXCLUDED.m"
    )
    rows = sorted(_folded(delta, keys.index("kind")).items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column rather than a placeholder per value: a submit's few
            # hundred rows made psycopg split and PostgreSQL parse thousands of
            # placeholders, most of the cost the aggregates added to a submit.
            fields = [*keys, "n", "m"]
            arrays = ", ".join(f"%s::{_PG_TYPES.get(f, 'bigint')}[]" for f in fields)
            listed = ", ".join(f"u.{f}" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT %s, %s, {listed} "  # noqa: S608
                f"FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(fields)}, k) "
                f"ORDER BY u.k {update}",
                [
                    owner_id,
                    stripe,
                    *map(_array_literal, zip(*((*key, *nm) for key, nm in rows), strict=True)),
                ],
            )
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for first in range(0, len(rows), UPSERT_ROWS):
            batch = rows[first : first + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(batch))} {update}",  # noqa: S608
                [value for key, nm in batch for value in (owner_id, stripe, *key, *nm)],
            )


def _apply(
    learner: int,
    quizzes: dict[int, dict[QuizKey, int]],
    courses: dict[int, dict[CourseKey, int]],
) -> None:
    """Add the learner's changes to their stripe of each key (analytics/models.py)."""
    stripe = learner % STRIPES
    for quiz_id in sorted(quizzes):
        _upsert(QuizCount, "quiz", quiz_id, stripe, _QUIZ_KEYS, quizzes[quiz_id])
    for course_id in sorted(courses):
        _upsert(CourseCount, "course", course_id, stripe, _COURSE_KEYS, courses[course_id])


def _basis_key(rows: ClassRows) -> CourseKey:
    """The key recording which pre- and post-test the course's gain counts are for (a
    second one, if the roles changed since, marks the counts as drifted until a rebuild);
    written with count 0 beside the learner's change."""
    return (COURSE_WIDE, "G", rows.pre, rows.post)


def _lock_learner(learner: int) -> None:
    """Serialise changes to one learner's contribution (it is not additive over attempts)."""
    list(User.objects.select_for_update().filter(id=learner).values_list("id"))


def _attempt_lock(attempt_id: int) -> tuple[int, int, int | None] | None:
    """(learner, quiz, course) of the attempt if it counts, its learner's row locked as
    _lock_learner does: one statement, as it is on every submit's path."""
    attempt, quiz = Attempt._meta.db_table, Quiz._meta.db_table
    user = connection.ops.quote_name(User._meta.db_table)
    lock = " FOR UPDATE OF u" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.learner_id, a.quiz_id, q.course_id
                  FROM {attempt} a JOIN {quiz} q ON q.id = a.quiz_id
                  JOIN {user} u ON u.id = a.learner_id
                 WHERE a.id = %s AND a.state = %s AND a.is_preview = FALSE{lock}""",  # noqa: S608
            [attempt_id, Attempt.State.SUBMITTED],
        )
        found = cursor.fetchone()
    return None if found is None else (found[0], found[1], found[2])


def _learner_counts(
    learner: int, quiz_id: int, rows: ClassRows, exclude: tuple[int, ...] = ()
) -> tuple[Counter[QuizKey], Counter[CourseKey]]:
    attempts = [a for a in rows.counted(learner, exclude=exclude) if a.quiz == quiz_id]
    return statistics_counts(attempts, rows), evidence_counts(learner, rows, exclude=exclude)


@transaction.atomic
def attempt_count(*, attempt_id: int, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) what the attempt changes in its learner's
    contribution: their counts with it minus without it."""
    found = _attempt_lock(attempt_id)
    if found is None:
        return
    learner, quiz_id, course_id = found
    rows = class_rows(
        course_id=course_id, quiz_id=None if course_id else quiz_id, learners=[learner]
    )
    with_it = _learner_counts(learner, quiz_id, rows)
    without = _learner_counts(learner, quiz_id, rows, exclude=(attempt_id,))
    stats = {k: sign * n for k, n in counts_difference(with_it[0], without[0]).items()}
    evidence = {k: sign * n for k, n in counts_difference(with_it[1], without[1]).items()}
    if course_id is not None:
        evidence[_basis_key(rows)] = 0
    _apply(learner, {quiz_id: stats}, {course_id: evidence} if course_id is not None else {})


# Deletions: pre_delete records the learner's counts, post_delete (after the collector
# deleted the rows, cascades included) applies after - before once per learner and quiz
# and once per learner and course, however many of their rows one deletion removes.
_before = threading.local()


def _pending() -> dict[tuple[Any, ...], Counter[Any]]:
    if not hasattr(_before, "counts"):
        _before.counts = {}
    pending: dict[tuple[Any, ...], Counter[Any]] = _before.counts
    return pending


@transaction.atomic
def deletion_prepare(*, learner: int, quiz_id: int | None, course_id: int | None) -> None:
    """Record the learner's counts at the quiz and in the course before a deletion."""
    _lock_learner(learner)
    rows = class_rows(
        course_id=course_id, quiz_id=None if course_id else quiz_id, learners=[learner]
    )
    pending = _pending()
    alias = connection.alias
    if quiz_id is not None:
        attempts = [a for a in rows.counted(learner) if a.quiz == quiz_id]
        pending[(alias, "quiz", quiz_id, learner)] = statistics_counts(attempts, rows)
    if course_id is not None:
        pending[(alias, "course", course_id, learner)] = evidence_counts(learner, rows)


@transaction.atomic
def deletion_finish(*, learner: int, quiz_id: int | None, course_id: int | None) -> None:
    """Apply what the deletion changed in the learner's counts, once."""
    pending = _pending()
    alias = connection.alias
    quiz_before = pending.pop((alias, "quiz", quiz_id, learner), None) if quiz_id else None
    course_before = pending.pop((alias, "course", course_id, learner), None) if course_id else None
    if quiz_before is None and course_before is None:
        return
    rows = class_rows(
        course_id=course_id, quiz_id=None if course_id else quiz_id, learners=[learner]
    )
    quizzes: dict[int, dict[QuizKey, int]] = {}
    courses: dict[int, dict[CourseKey, int]] = {}
    if quiz_before is not None and quiz_id is not None:
        attempts = [a for a in rows.counted(learner) if a.quiz == quiz_id]
        quizzes[quiz_id] = counts_difference(statistics_counts(attempts, rows), quiz_before)
    if course_before is not None and course_id is not None:
        courses[course_id] = counts_difference(evidence_counts(learner, rows), course_before)
    _apply(learner, quizzes, courses)


@transaction.atomic
def enrollment_count(*, learner: int, course_id: int, sign: int) -> None:
    """Add (a new enrolment) or take away (sign -1) the learner's evidence in the course."""
    _lock_learner(learner)
    rows = class_rows(course_id=course_id, quiz_id=None, learners=[learner])
    rows.enrolled.add(learner)
    counts = evidence_counts(learner, rows)
    _apply(learner, {}, {course_id: {k: sign * n for k, n in counts.items() if n}})


# ---------------------------------------------------------------- rebuilding


def _learner_chunks(course_id: int | None, quiz_id: int | None) -> Iterator[list[int]]:
    attempts = Attempt.objects.filter(state=Attempt.State.SUBMITTED, is_preview=False)
    if quiz_id is not None:
        attempts = attempts.filter(quiz_id=quiz_id)
    elif course_id is not None:
        attempts = attempts.filter(quiz__course_id=course_id)
    else:
        return
    learners = sorted(set(attempts.values_list("learner_id", flat=True)))
    for first in range(0, len(learners), CHUNK_LEARNERS):
        yield learners[first : first + CHUNK_LEARNERS]


def raw_counts(
    *, course_id: int | None, quiz_id: int | None, statistics: bool = True, evidence: bool = True
) -> tuple[dict[int, Counter[QuizKey]], Counter[CourseKey], tuple[int, int]]:
    """Sum every learner's contribution from the raw rows: the statistics of the quiz
    (None: of every quiz of the course) and, with a course, its counters; with the course's
    (pre-test, post-test). A drifted read asks for the one part it shows, which halves the
    fallback. Memory: the rows of CHUNK_LEARNERS learners at a time."""
    quizzes: dict[int, Counter[QuizKey]] = {}
    course: Counter[CourseKey] = Counter()
    tests = (0, 0)
    for learners in _learner_chunks(course_id, quiz_id):
        rows = class_rows(course_id=course_id, quiz_id=quiz_id, learners=learners)
        tests = (rows.pre, rows.post)
        for learner in learners:
            by_quiz: dict[int, list[Any]] = {}
            for attempt in rows.counted(learner):
                by_quiz.setdefault(attempt.quiz, []).append(attempt)
            for counted_quiz, attempts in by_quiz.items() if statistics else ():
                counts = quizzes.setdefault(counted_quiz, Counter())
                counts.update(statistics_counts(attempts, rows))
            if course_id is not None and evidence:
                course.update(evidence_counts(learner, rows))
    if course_id is not None and tests == (0, 0):
        tests = _tests_of(course_id)
    return quizzes, course, tests


def _tests_of(course_id: int) -> tuple[int, int]:
    """The ids of the course's first pre-test and first post-test (0: none)."""
    found = Quiz.objects.filter(course_id=course_id).aggregate(
        pre=Min("id", filter=Q(role=Quiz.Role.PRE)), post=Min("id", filter=Q(role=Quiz.Role.POST))
    )
    return found["pre"] or 0, found["post"] or 0


@transaction.atomic
def aggregates_rebuild(*, course: Course | None = None, quiz: Quiz | None = None) -> int:
    """Replace the counts of the course (its own and its quizzes') or of a quiz without a
    course by the sum of its learners' contributions from the raw rows; return the rows."""
    if course is not None:
        quiz_ids = list(course.quizzes.values_list("id", flat=True))
        quizzes, counters, tests = raw_counts(course_id=course.id, quiz_id=None)
        counters[(COURSE_WIDE, "G", *tests)] = 1
        CourseCount.objects.filter(course=course).delete()
        folded = _folded({k: n for k, n in counters.items() if n or k[1] == "G"}, 1)
        CourseCount.objects.bulk_create(
            (
                CourseCount(course=course, **dict(zip(_COURSE_KEYS, key, strict=True)), n=n, m=m)
                for key, (n, m) in folded.items()
            ),
            batch_size=2000,
        )
        written = len(folded)
    elif quiz is not None and quiz.course_id is None:
        quiz_ids = [quiz.id]
        quizzes, _, _ = raw_counts(course_id=None, quiz_id=quiz.id)
        written = 0
    else:
        raise ValueError("Rebuild a course, or a quiz without a course.")
    QuizCount.objects.filter(quiz_id__in=quiz_ids).delete()
    cells = [
        QuizCount(quiz_id=quiz_id, **dict(zip(_QUIZ_KEYS, key, strict=True)), n=n, m=m)
        for quiz_id, counts in quizzes.items()
        for key, (n, m) in _folded({k: n for k, n in counts.items() if n}, 0).items()
    ]
    QuizCount.objects.bulk_create(cells, batch_size=2000)
    return written + len(cells)


# ---------------------------------------------------------------- reading


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


QUIZ_KINDS = ("o", "O", "t", "n")  # and r, read apart


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
    # A sum kind comes back as rows of its own (and, written before the fold, may be one).
    summed: Counter[tuple[Any, ...]] = Counter()
    for row_scope, kind, a, b, n, m in found:
        summed[(row_scope, kind, a, b)] += int(n)
        if kind in COUNT_KINDS:
            summed[(row_scope, COUNT_KINDS[kind], a, b)] += int(m)
    return [(*key, n) for key, n in summed.items()]


def _course_in_step(course: Course, stored: list[tuple[Any, ...]]) -> bool:
    """Whether the course's stored checksums and pre-/post-test match the raw rows'."""
    sums = {kind: n for _, kind, _, _, n in stored if kind in CHECKSUMS}
    tests = {(a, b) for _, kind, a, b, _ in stored if kind == "G"}
    raw = counted_checksums(quiz_id=None, course_id=course.id)
    in_step = tuple(int(sums.get(k, 0)) for k in CHECKSUMS) == raw
    return in_step and tests == {_tests_of(course.id)}


def aggregates_drifted(*, course: Course | None = None, quiz: Quiz | None = None) -> bool:
    """Whether the course's (its own or any of its quizzes') or the quiz's counts differ
    from the raw rows by their checksums."""
    if course is not None:
        quizzes = list(course.quizzes.all())
        stored = _course_stored(course, COURSE_WIDE)
        return not _course_in_step(course, stored) or not all(map(_quiz_in_step, quizzes))
    if quiz is not None:
        return not _quiz_in_step(quiz)
    raise ValueError("Check a course or a quiz.")


def quiz_counts(*, quiz: Quiz, bit: int, from_raw: bool = False) -> list[tuple[int | str, ...]]:
    """The quiz's histogram rows (kind, a, b, mark, max mark, total, maximum, n) over the
    attempts counted under the policy `bit`: from the aggregates, or from the raw rows when
    `from_raw` or when the aggregates drifted from them. The responses' rows r come once
    per mask, not summed over masks: they are nearly one per response (totals are
    fine-grained), so a GROUP BY would cost most of the read and merge almost nothing."""
    if not from_raw:
        if _quiz_in_step(quiz):
            return _quiz_stored(quiz, bit)
        logger.warning("analytics: quiz %s's aggregates drifted; read the raw rows", quiz.id)
    quizzes, _, _ = raw_counts(course_id=quiz.course_id, quiz_id=quiz.id, evidence=False)
    summed: Counter[tuple[int | str, ...]] = Counter()
    responses: list[tuple[int | str, ...]] = []
    for (kind, mask, *key), n in quizzes.get(quiz.id, Counter()).items():
        if not (mask & bit and n):
            continue
        if kind == "r":
            responses.append((kind, *key, n))
        elif kind in QUIZ_KINDS:
            summed[(kind, *key)] += n
    return responses + [(*key, n) for key, n in summed.items() if n]


def _quiz_stored(quiz: Quiz, bit: int) -> list[tuple[int | str, ...]]:
    table = connection.ops.quote_name(QuizCount._meta.db_table)
    kinds = ", ".join(f"'{kind}'" for kind in QUIZ_KINDS)
    where = f"FROM {table} WHERE quiz_id = %s AND (mask & %s) <> 0"
    # Kinds and the key's columns are constants; values are parameters.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT kind, a, b, mark, max_mark, total, maximum, n {where}
                   AND kind = 'r' AND n <> 0
                UNION ALL
                SELECT kind, a, b, mark, max_mark, total, maximum, CAST(SUM(n) AS BIGINT)
                  {where} AND kind IN ({kinds})
                 GROUP BY kind, a, b, mark, max_mark, total, maximum HAVING SUM(n) <> 0
                UNION ALL
                SELECT 'O', a, b, mark, max_mark, total, maximum, CAST(SUM(m) AS BIGINT) {where}
                   AND kind = 'o'
                 GROUP BY a, b, mark, max_mark, total, maximum HAVING SUM(m) <> 0""",
            [quiz.id, bit] * 3,
        )
        return list(cursor.fetchall())


def course_counts(
    *, course: Course, scope: int, from_raw: bool = False
) -> dict[tuple[str, int, int], int]:
    """The course's counters {(kind, a, b): n} of `scope` (COURSE_WIDE or a quiz): from the
    aggregates, or from the raw rows when `from_raw` or when they drifted from them."""
    if not from_raw:
        stored = _course_stored(course, scope)
        if _course_in_step(course, stored):
            return {(kind, a, b): int(n) for s, kind, a, b, n in stored if s == scope and n}
        logger.warning("analytics: course %s's aggregates drifted; read the raw rows", course.id)
    _, counters, _ = raw_counts(course_id=course.id, quiz_id=None, statistics=False)
    return {(kind, a, b): n for (s, kind, a, b), n in counters.items() if s == scope and n}
