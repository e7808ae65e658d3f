"""The analytics' aggregates (analytics/models.py): kept in step with every submit,
re-score and deletion of an attempt, rebuilt from the raw rows when they drifted; read by
analytics/aggregate_reads.py for the statistics, heatmap and gain.

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
from django.utils import timezone

from analytics.contributions import (
    COURSE_WIDE,
    ClassRows,
    CourseKey,
    QuizKey,
    class_rows,
    counts_difference,
    evidence_counts,
    statistics_counts,
)
from analytics.models import (
    COURSE_VALUES,
    FOLDED,
    QUIZ_VALUES,
    STRIPES,
    UNSTRIPED_KINDS,
    CourseCount,
    PendingContribution,
    QuizCount,
)
from assessments.models import Attempt, Quiz
from courses.models import Course

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


def counts_folded(
    counts: dict[Any, int], kind_at: int, values: tuple[str, ...]
) -> dict[Any, list[int]]:
    """{key: [the row's values]} with each FOLDED sum kind's value moved to its column of
    its count kind's key."""
    rows: dict[Any, list[int]] = {}
    for key, value in counts.items():
        count_kind, column = FOLDED.get(key[kind_at], (key[kind_at], "n"))
        if count_kind != key[kind_at]:
            key = (*key[:kind_at], count_kind, *key[kind_at + 1 :])
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0] * len(values)
        row[values.index(column)] += value
    return rows


def _upsert(
    model: Any,
    owner: str,
    owner_id: int,
    learner: int,
    keys: tuple[str, ...],
    delta: dict[Any, int],
) -> None:
    """Add `delta` to the counts of (owner, key), each in the learner's stripe unless its
    kind is never striped, inserting missing rows, in key order."""
    if not delta:
        return
    values = QUIZ_VALUES if model is QuizCount else COURSE_VALUES
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = [f"{owner}_id", "stripe", *keys, *values]
    names = ", ".join(ops.quote_name(c) for c in columns)
    conflict = ", ".join(ops.quote_name(c) for c in columns[: -len(values)])
    added = ", ".join(f"{v} = {table}.{v} + EXCLUDED.{v}" for v in values)
    update = f"ON CONFLICT ({conflict}) DO UPDATE SET {added}"
    kind_at = keys.index("kind")
    striped = learner % STRIPES
    rows = sorted(
        (0 if key[kind_at] in UNSTRIPED_KINDS else striped, *key, *row)
        for key, row in counts_folded(delta, kind_at, values).items()
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column rather than a placeholder per value: a submit's few
            # hundred rows made psycopg split and PostgreSQL parse thousands of
            # placeholders, most of the cost the aggregates added to a submit.
            fields = ["stripe", *keys, *values]
            arrays = ", ".join(f"%s::{_PG_TYPES.get(f, 'bigint')}[]" for f in fields)
            listed = ", ".join(f"u.{f}" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT %s, {listed} "  # noqa: S608
                f"FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(fields)}, k) "
                f"ORDER BY u.k {update}",
                [owner_id, *map(_array_literal, zip(*rows, strict=True))],
            )
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for first in range(0, len(rows), UPSERT_ROWS):
            batch = rows[first : first + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(batch))} {update}",  # noqa: S608
                [value for row in batch for value in (owner_id, *row)],
            )


def _apply(
    learner: int,
    quizzes: dict[int, dict[QuizKey, int]],
    courses: dict[int, dict[CourseKey, int]],
) -> None:
    """Add the learner's changes to the counts (in their stripe, analytics/models.py)."""
    for quiz_id in sorted(quizzes):
        _upsert(QuizCount, "quiz", quiz_id, learner, _QUIZ_KEYS, quizzes[quiz_id])
    for course_id in sorted(courses):
        _upsert(CourseCount, "course", course_id, learner, _COURSE_KEYS, courses[course_id])


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


def _attempts_difference(
    learner: int, course_id: int | None, quiz_ids: set[int], excluded: tuple[int, ...], sign: int
) -> tuple[dict[int, dict[QuizKey, int]], dict[int, dict[CourseKey, int]]]:
    """The learner's counts with the `excluded` attempts minus without them (times `sign`):
    at each of `quiz_ids` (in the course, or the one quiz without a course) and in the
    course."""
    lone_quiz = None if course_id is not None else next(iter(quiz_ids))
    rows = class_rows(course_id=course_id, quiz_id=lone_quiz, learners=[learner])
    quizzes: dict[int, dict[QuizKey, int]] = {}
    for quiz_id in sorted(quiz_ids):
        with_them = _learner_counts(learner, quiz_id, rows)[0]
        without = _learner_counts(learner, quiz_id, rows, exclude=excluded)[0]
        quizzes[quiz_id] = {k: sign * n for k, n in counts_difference(with_them, without).items()}
    courses: dict[int, dict[CourseKey, int]] = {}
    if course_id is not None:
        evidence = counts_difference(
            evidence_counts(learner, rows), evidence_counts(learner, rows, exclude=excluded)
        )
        courses[course_id] = {k: sign * n for k, n in evidence.items()}
        courses[course_id][_basis_key(rows)] = 0
    return quizzes, courses


@transaction.atomic
def attempt_count(*, attempt_id: int, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) what the attempt changes in its learner's
    contribution: their counts with it minus without it."""
    found = _attempt_lock(attempt_id)
    if found is None:
        return
    learner, quiz_id, course_id = found
    _pending_apply(learner)
    _apply(learner, *_attempts_difference(learner, course_id, {quiz_id}, (attempt_id,), sign))


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
    _pending_apply(learner)
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
    _pending_apply(learner)
    rows = class_rows(course_id=course_id, quiz_id=None, learners=[learner])
    rows.enrolled.add(learner)
    counts = evidence_counts(learner, rows)
    _apply(learner, {}, {course_id: {k: sign * n for k, n in counts.items() if n}})


# ---------------------------------------------------------------- submits, applied later
#
# A submit only records its attempt as pending (one INSERT in its transaction); a worker
# applies it soon after, off the learner's request. The counts then hold every learner's
# contribution over their counted attempts that are not pending, so every change of a
# learner's counts (a re-score, a deletion, an enrolment) first applies that learner's
# pending attempts, under the lock on their user row; and every read first applies the
# pending attempts of what it reads, so what it shows is exact.


def pending_record(*, attempt_id: int) -> None:
    """Record a just-submitted attempt as pending, if it counts (not a preview)."""
    pending = connection.ops.quote_name(PendingContribution._meta.db_table)
    attempt = connection.ops.quote_name(Attempt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {pending} (attempt_id, learner_id, created_at)
                SELECT id, learner_id, %s FROM {attempt}
                 WHERE id = %s AND state = %s AND is_preview = FALSE""",  # noqa: S608
            [timezone.now(), attempt_id, Attempt.State.SUBMITTED],
        )


def _pending_apply(learner: int) -> None:
    """Add the learner's pending attempts to the counts (their counts with them minus
    without) and forget them; the caller holds the learner's lock, in a transaction."""
    # Only the pending rows: the joined attempt may be locked by a verdict being applied.
    pending = list(
        PendingContribution.objects.select_for_update(of=("self",))
        .filter(learner_id=learner)
        .values_list("attempt_id", "attempt__quiz_id", "attempt__quiz__course_id")
    )
    if not pending:
        return
    excluded = tuple(attempt for attempt, _, _ in pending)
    # The learner's rows are read once per course (or per quiz without a course).
    groups: dict[tuple[int, int], set[int]] = {}
    for _, at_quiz, in_course in pending:
        key = (in_course, 0) if in_course is not None else (0, at_quiz)
        groups.setdefault(key, set()).add(at_quiz)
    for (in_course, _), quiz_ids in sorted(groups.items()):
        _apply(learner, *_attempts_difference(learner, in_course or None, quiz_ids, excluded, 1))
    PendingContribution.objects.filter(attempt_id__in=excluded).delete()


def pending_catch_up(
    *, course_id: int | None = None, quiz_id: int | None = None, limit: int | None = None
) -> int:
    """Apply the pending attempts at the quiz, in the course, or (neither) everywhere, one
    learner per transaction, at most `limit` learners; return how many were applied."""
    pending = PendingContribution.objects.all()
    if quiz_id is not None:
        pending = pending.filter(attempt__quiz_id=quiz_id)
    elif course_id is not None:
        pending = pending.filter(attempt__quiz__course_id=course_id)
    learners = sorted(set(pending.values_list("learner_id", flat=True)))[:limit]
    for learner in learners:
        with transaction.atomic():
            _lock_learner(learner)
            _pending_apply(learner)
    return len(learners)


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
        tests = course_tests(course_id)
    return quizzes, course, tests


def course_tests(course_id: int) -> tuple[int, int]:
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
        # The raw rows hold the pending attempts too: the rebuild counts them.
        PendingContribution.objects.filter(attempt__quiz__course=course).delete()
        quizzes, counters, tests = raw_counts(course_id=course.id, quiz_id=None)
        counters[(COURSE_WIDE, "G", *tests)] = 1
        CourseCount.objects.filter(course=course).delete()
        folded = counts_folded(
            {k: n for k, n in counters.items() if n or k[1] == "G"}, 1, COURSE_VALUES
        )
        CourseCount.objects.bulk_create(
            (
                CourseCount(
                    course=course,
                    **dict(zip(_COURSE_KEYS, key, strict=True)),
                    **dict(zip(COURSE_VALUES, row, strict=True)),
                )
                for key, row in folded.items()
            ),
            batch_size=2000,
        )
        written = len(folded)
    elif quiz is not None and quiz.course_id is None:
        quiz_ids = [quiz.id]
        PendingContribution.objects.filter(attempt__quiz=quiz).delete()
        quizzes, _, _ = raw_counts(course_id=None, quiz_id=quiz.id)
        written = 0
    else:
        raise ValueError("Rebuild a course, or a quiz without a course.")
    QuizCount.objects.filter(quiz_id__in=quiz_ids).delete()
    cells = [
        QuizCount(
            quiz_id=quiz_id,
            **dict(zip(_QUIZ_KEYS, key, strict=True)),
            **dict(zip(QUIZ_VALUES, row, strict=True)),
        )
        for quiz_id, counts in quizzes.items()
        for key, row in counts_folded(
            {k: n for k, n in counts.items() if n}, 0, QUIZ_VALUES
        ).items()
    ]
    QuizCount.objects.bulk_create(cells, batch_size=2000)
    return written + len(cells)
