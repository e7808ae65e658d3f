"""Benchmark the instructor analytics: item statistics and the misconception heatmap.

    make bench-analytics                                   # SQLite file var/bench-analytics.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make bench-analytics
    make bench-analytics BENCH_ARGS="--learners 2000 --questions 40 --keep-database"

It is a benchmark, not a test: pytest never collects it. What it does:

1. Prepares a database of its own: with DATABASE_URL pointing at PostgreSQL it creates
   `<name>_bench_analytics` on that server (dropped again at the end unless
   --keep-database; DATABASE_URL's own database is never touched); otherwise a fresh SQLite
   file, var/bench-analytics.sqlite3. Runs `migrate` and loads the catalogue.
2. Creates a course with a --questions-item quiz (default 40; sections over the catalogue's
   scored banks, proportional to their sizes; when they hold too few questions, copies of
   the banks are added) and the course's pre- and post-test (`simulate_class`'s copies).
3. Generates the class with bulk inserts: --learners (default 10,000) enrolled learners,
   each with a submitted pre-test, a submitted attempt at the big quiz (a --retake-share of
   them, 10 %, with a second one) and a submitted post-test; every response with its
   confidence, seconds, selected choices, numeric value, mark, max mark, correctness and
   the misconceptions scoring names (both many-to-many tables bulk-inserted). The answers
   follow the model of `analytics/simulation.py` (its functions, not a copy), and marks and
   misconceptions come from `assessments.scoring.response_outcome`, as on submission.
   `manage.py simulate_class` answers through the services one save at a time (about 0.2 s
   per attempt): ~20,000 attempts would take over an hour that way, so the benchmark writes
   the same rows directly. Bulk inserts send no signals, so the aggregates
   (analytics/aggregates.py) are then rebuilt from the raw rows, timed, as
   `manage.py rebuild_analytics` does for an existing database.
4. Times `analytics.statistics.quiz_statistics(quiz=<big quiz>, attempts="first")`,
   `analytics.misconceptions.course_misconceptions(course=<course>)` (its first page of
   100 learners; prevalence over all) and `course_gain`, each computed afresh and from the
   cache (see analytics/cache.py); "computed" reads the aggregates, no cache: one warm-up
   call, then
   the median and maximum of --runs (5) calls (time.perf_counter); then one call under
   tracemalloc (peak of Python allocations, numpy's included) and one counting queries. The
   RSS growth is the peak resident set during a call (Linux: /proc/self VmHWM, reset
   through clear_refs before each call) minus the RSS before it; the largest over every
   call is shown. The aim is under 0.25 s and under 200 MB for each.
5. Times attempt_submit on the big quiz for 2 x SUBMIT_SAMPLES new learners' prepared
   attempts, alternately with the analytics' receiver connected (the attempt recorded as
   pending in the submit's transaction, the worker's task enqueued on commit) and
   disconnected: the medians and their difference, the cost the aggregates add to a
   submit (aim under 5 ms); then the median time of applying one learner's pending
   attempt to the aggregates, what the worker spends per submit off the request.

Prints a table and, last, one line of JSON. Exit status: 0 when it ran, 2 when it could
not (the analytics functions are missing, or the database could not be prepared).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a file: make `quizsite` importable
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

SQLITE_PATH = ROOT / "var" / "bench-analytics.sqlite3"
AIM_SECONDS = 0.25
AIM_SUBMIT_MS = 5.0
SUBMIT_SAMPLES = 30  # submits timed with the aggregates kept, and as many without
AIM_MEGABYTES = 200.0
CHUNK_LEARNERS = 500
BATCH = 2000
UNNEST_ROWS = 5000
MB = 1024 * 1024


class BenchError(Exception):
    """The benchmark could not be set up or run."""


# ---------------------------------------------------------------- database


@dataclass
class Database:
    url: str
    description: str
    drop: Callable[[], None]


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def prepare_database() -> Database:
    """Create an empty database for the run."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if not configured:
        SQLITE_PATH.parent.mkdir(exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        import sqlite3

        return Database(
            url=f"sqlite:///{SQLITE_PATH}",
            description=f"SQLite {sqlite3.sqlite_version} ({SQLITE_PATH})",
            drop=lambda: SQLITE_PATH.unlink(missing_ok=True),
        )
    if not _is_postgres(configured):
        raise BenchError("DATABASE_URL must be PostgreSQL or unset (SQLite).")
    import psycopg
    from psycopg import sql

    parts = urlsplit(configured)
    named = parts.path.lstrip("/") or "postgres"
    bench_name = f"{named}_bench_analytics"
    maintenance_url = urlunsplit(parts._replace(scheme="postgresql", query=""))
    name = sql.Identifier(bench_name)
    try:
        with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
            row = admin.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        raise BenchError(f"Cannot create the database {bench_name}: {error}") from error

    def drop() -> None:
        with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))

    return Database(
        url=urlunsplit(parts._replace(path="/" + bench_name)),
        description=(
            f"PostgreSQL {row[0] if row else '?'} at {parts.hostname}:{parts.port or 5432}, "
            f"database {bench_name} (DATABASE_URL's {named!r} is not touched)"
        ),
        drop=drop,
    )


def django_setup(url: str) -> None:
    """Configure Django for the bench database, production-style (no query log), migrate."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "quizsite.settings",
            "DATABASE_URL": url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# ---------------------------------------------------------------- course and quizzes


def _scored_banks() -> list[Any]:
    """Return the catalogue's banks whose every question is scored and not code."""
    from django.db.models import Count, Q

    from assessments.models import QuestionBank, QuestionType

    unscored = Q(questions__qtype__in=[QuestionType.EXPLAIN, QuestionType.CODE])
    banks = QuestionBank.objects.annotate(
        total=Count("questions"), unscored=Count("questions", filter=unscored)
    ).filter(total__gt=0, unscored=0)
    return list(banks.order_by("slug"))


def _bank_copy(bank: Any, number: int) -> Any:
    """Copy a bank with its questions, choices, distractors and their misconceptions."""
    from assessments.models import QuestionBank

    copy = QuestionBank.objects.create(
        slug=f"{bank.slug}-copy{number}",
        title=f"{bank.title} (copy {number})",
        is_prerequisite=bank.is_prerequisite,
    )
    questions = bank.questions.prefetch_related(
        "probes", "choices__misconceptions", "distractors__misconceptions"
    )
    for question in list(questions):
        probes = list(question.probes.all())
        choices = [(c, list(c.misconceptions.all())) for c in question.choices.all()]
        distractors = [(d, list(d.misconceptions.all())) for d in question.distractors.all()]
        question.pk = None
        question.bank = copy
        question.slug = f"{question.slug}-copy{number}"
        question.save()
        question.probes.set(probes)
        for related, codes in (*choices, *distractors):
            related.pk = None
            related.question = question
            related.save()
            related.misconceptions.set(codes)
    return copy


def _allocate(sizes: list[int], total: int) -> list[int]:
    """Split `total` over banks in proportion to their sizes (largest remainders)."""
    whole = sum(sizes)
    shares = [total * size / whole for size in sizes]
    counts = [min(size, int(share)) for size, share in zip(sizes, shares, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    while sum(counts) < total:
        for i in order:
            if sum(counts) < total and counts[i] < sizes[i]:
                counts[i] += 1
    return counts


def quizzes_create(questions: int) -> tuple[Any, Any, Any, Any]:
    """Create the course, its big quiz and its pre/post-test; return all four."""
    from analytics.simulated_class import course_ensure, course_quizzes_ensure
    from assessments.models import Quiz, QuizSection

    banks = _scored_banks()
    if not banks:
        raise BenchError("The catalogue has no scored banks.")
    copies = list(banks)
    number = 0
    while sum(b.total for b in copies) < questions:
        number += 1
        for bank in banks:
            copied = _bank_copy(bank, number)
            copied.total = bank.total
            copies.append(copied)
    course = course_ensure("bench-analytics", "Benchmark class")
    quiz = Quiz.objects.create(
        slug="bench-analytics-quiz",
        title=f"Benchmark quiz: {questions} questions",
        course=course,
        role=Quiz.Role.OTHER,
        attempts_allowed=None,
    )
    counts = _allocate([b.total for b in copies], questions)
    QuizSection.objects.bulk_create(
        QuizSection(quiz=quiz, bank=bank, draw_count=count, position=position)
        for position, (bank, count) in enumerate(zip(copies, counts, strict=True))
        if count
    )
    pre, post = course_quizzes_ensure(course)
    return course, quiz, pre, post


# ---------------------------------------------------------------- data generation


@dataclass
class QuizPlan:
    """How attempts at one quiz draw their questions."""

    quiz: Any
    label: str
    sections: list[tuple[list[Any], int]]


@dataclass
class Counters:
    learners: int = 0
    attempts: int = 0
    responses: int = 0
    selected: int = 0
    revealed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start


def _questions() -> dict[int, Any]:
    """Every question, with what scoring reads prefetched."""
    from django.db.models import Prefetch

    from assessments.models import Choice, NumericDistractor, Question

    queryset = Question.objects.prefetch_related(
        "probes",
        Prefetch("choices", queryset=Choice.objects.prefetch_related("misconceptions")),
        Prefetch(
            "distractors", queryset=NumericDistractor.objects.prefetch_related("misconceptions")
        ),
    )
    return {q.id: q for q in queryset}


def _plan(quiz: Any, label: str, questions: dict[int, Any]) -> QuizPlan:
    sections = []
    for section in quiz.sections.order_by("position", "id"):
        pool = [
            q
            for q in sorted(questions.values(), key=lambda q: q.id)
            if q.bank_id == section.bank_id and (not section.form or q.form == section.form)
        ]
        if len(pool) < section.draw_count:
            raise BenchError(f"{quiz.slug}: bank {section.bank_id} has too few questions")
        sections.append((pool, section.draw_count))
    return QuizPlan(quiz=quiz, label=label, sections=sections)


class Generator:
    """Writes a simulated class with bulk inserts, following analytics/simulation.py."""

    def __init__(self, *, seed: int, questions: dict[int, Any], counters: Counters) -> None:
        from analytics.simulated_class import item_from_question, misconception_codes
        from analytics.simulation import ClassModel, difficulty_of, prevalences_draw

        self.seed = seed
        self.model = ClassModel()
        self.questions = questions
        self.counters = counters
        self.prevalences = prevalences_draw(seed, misconception_codes(), self.model)
        self.items = {qid: item_from_question(q) for qid, q in questions.items()}
        self.difficulty = {
            qid: difficulty_of(seed, q.slug, self.model) for qid, q in questions.items()
        }
        self.tiers = {
            qid: [[c.id for c in q.choices.all() if c.tier == tier] for tier in (1, 2)]
            for qid, q in questions.items()
        }
        self.outcomes: dict[tuple[Any, ...], Any] = {}

    def _draw(self, plan: QuizPlan, rng: Any) -> list[tuple[int, Any]]:
        """Return (structural slot, question) pairs in display order, as `attempt_start`
        records them: slots number the sections' draws in order, the shuffle moves only
        where each is shown."""
        drawn: list[Any] = []
        taken: set[int] = set()
        for pool, count in plan.sections:
            candidates = [q for q in pool if q.id not in taken]
            picked = [candidates[int(i)] for i in rng.choice(len(candidates), count, replace=False)]
            taken.update(q.id for q in picked)
            drawn.extend(picked)
        order = list(range(len(drawn)))
        if plan.quiz.shuffle_questions:
            order = [int(i) for i in rng.permutation(len(drawn))]
        return [(index + 1, drawn[index]) for index in order]

    def _outcome(self, question: Any, answer: Any, parameters: dict[str, float]) -> Any:
        from assessments.scoring import response_outcome

        answered = answer is not None and (
            bool(answer.choice_ids) or answer.numeric_value is not None or bool(answer.text.strip())
        )
        key = (
            question.id,
            answered,
            frozenset(answer.choice_ids) if answer else frozenset(),
            answer.numeric_value if answer else None,
            tuple(sorted(parameters.items())),
        )
        found = self.outcomes.get(key)
        if found is None:
            found = response_outcome(
                question,
                answered=answered,
                selected_ids=set(key[2]),
                numeric_value=key[3],
                parameters=parameters,
            )
            self.outcomes[key] = found
        return found

    def attempt(
        self, plan: QuizPlan, learner_id: int, index: int, number: int, state: Any, start: datetime
    ) -> tuple[dict[str, Any], list[Planned]]:
        """Return a submitted attempt's values and its responses (with choices and codes)."""
        from analytics.simulation import answer_draw, rng_for
        from assessments.models import QuestionType

        rng = rng_for(self.seed, "bench", index, plan.label, number)
        drawn = self._draw(plan, rng)
        clock = start
        planned: list[Planned] = []
        score = Decimal(0)
        max_score = Decimal(0)
        for slot, (structural_slot, question) in enumerate(drawn, start=1):
            first, second = self.tiers[question.id]
            if plan.quiz.shuffle_choices and question.qtype != QuestionType.TRUE_FALSE:
                first = [first[int(i)] for i in rng.permutation(len(first))]
                second = [second[int(i)] for i in rng.permutation(len(second))]
            parameters = {
                name: values[min(len(values) - 1, int(rng.random() * len(values)))]
                for name, values in sorted(question.parameters.items())
            }
            answer = answer_draw(
                rng,
                state,
                self.items[question.id],
                difficulty=self.difficulty[question.id],
                parameters=parameters,
                model=self.model,
            )
            outcome = self._outcome(question, answer, parameters)
            max_mark = question.mark if question.is_scored else Decimal(0)
            mark = None if outcome.fraction is None else outcome.fraction * max_mark
            score += mark or 0
            max_score += max_mark
            if answer is not None:
                clock += timedelta(seconds=answer.seconds_spent)
            values = {
                "slot": slot,
                "structural_slot": structural_slot,
                "question_id": question.id,
                "choice_order": first + second,
                "parameters": parameters,
                "numeric_value": answer.numeric_value if answer else None,
                "text": answer.text if answer else "",
                "confidence": answer.confidence if answer else None,
                "seconds_spent": answer.seconds_spent if answer else 0,
                "answered_at": clock if answer else None,
                "mark": mark,
                "max_mark": max_mark,
                "is_correct": outcome.is_correct,
            }
            choices = answer.choice_ids if answer else ()
            planned.append(Planned(values, choices, sorted(outcome.misconception_ids)))
        attempt = {
            "quiz_id": plan.quiz.id,
            "learner_id": learner_id,
            "number": number,
            "seed": int(rng.integers(2**62)),
            "state": "submitted",
            "is_preview": False,
            "started_at": start,
            "deadline": None,
            "submitted_at": clock,
            "auto_submitted": False,
            "score": score,
            "max_score": max_score,
            "updated_at": clock,
        }
        return attempt, planned

    def learners_write(
        self,
        chunk: list[tuple[int, int]],
        plans: dict[str, QuizPlan],
        retake_share: float,
        base: datetime,
    ) -> None:
        """Write every attempt of these (index, user id) learners."""
        from django.db import transaction

        from analytics.simulation import learner_draw, rng_for
        from assessments.models import Attempt, Response

        counters = self.counters
        with counters.timed("simulate + score"):
            attempts: list[dict[str, Any]] = []
            planned: list[list[Planned]] = []
            for index, user_id in chunk:
                before, after = learner_draw(self.seed, index, self.prevalences, self.model)
                schedule = rng_for(self.seed, "schedule", index)
                offset = timedelta(seconds=float(schedule.uniform(0, 3 * 86400)))
                takes = [
                    (plans["pre"], 1, before, base + offset),
                    (plans["quiz"], 1, before, base + timedelta(days=7) + offset),
                ]
                if schedule.random() < retake_share:
                    takes.append((plans["quiz"], 2, after, base + timedelta(days=14) + offset))
                takes.append((plans["post"], 1, after, base + timedelta(days=21) + offset))
                for plan, number, state, start in takes:
                    attempt, rows = self.attempt(plan, user_id, index, number, state, start)
                    attempts.append(attempt)
                    planned.append(rows)
        with counters.timed("insert"), transaction.atomic():
            attempt_ids = _ids_reserve(Attempt, len(attempts))
            for attempt, attempt_id in zip(attempts, attempt_ids, strict=True):
                attempt["id"] = attempt_id
            _insert(Attempt, attempts)
            responses = [row.values for rows in planned for row in rows]
            response_ids = _ids_reserve(Response, len(responses))
            position = 0
            for attempt_id, rows in zip(attempt_ids, planned, strict=True):
                for row in rows:
                    row.values["id"] = response_ids[position]
                    row.values["attempt_id"] = attempt_id
                    position += 1
            _insert(Response, responses)
            selected = [
                {"response_id": row.values["id"], "choice_id": choice_id}
                for rows in planned
                for row in rows
                for choice_id in row.choice_ids
            ]
            revealed = [
                {"response_id": row.values["id"], "misconception_id": code_id}
                for rows in planned
                for row in rows
                for code_id in row.code_ids
            ]
            _insert(Response.selected_choices.through, selected)
            _insert(Response.misconceptions.through, revealed)
        counters.learners += len(chunk)
        counters.attempts += len(attempts)
        counters.responses += len(responses)
        counters.selected += len(selected)
        counters.revealed += len(revealed)


@dataclass
class Planned:
    """One response's column values, and the rows of its two many-to-many tables."""

    values: dict[str, Any]
    choice_ids: tuple[int, ...]
    code_ids: list[int]


def _ids_reserve(model: Any, count: int) -> list[int]:
    """Return `count` fresh primary keys for `model` (the benchmark is the only writer)."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Move the sequence past a block of `count` ids in one statement.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            row = cursor.fetchone()
            last = int(row[0]) if row else count
            return list(range(last - count + 1, last + 1))
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608 - a model's table
        row = cursor.fetchone()
        first = int(row[0]) + 1 if row else 1
        return list(range(first, first + count))


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts by field attname, all with the same keys) without model instances.

    Values are adapted per column as the ORM would (JSON, datetimes, decimals). SQLite gets
    one prepared statement (executemany), PostgreSQL `INSERT ... SELECT * FROM unnest(...)`.
    """
    from django.db import connection

    if not rows:
        return
    names = list(rows[0])
    fields = {f.attname: f for f in model._meta.concrete_fields}
    adapters: list[Callable[[Any], Any] | None] = []
    ops = connection.ops
    for name in names:
        kind = fields[name].get_internal_type()
        if kind == "JSONField":
            adapters.append(lambda value: ops.adapt_json_value(value, None))
        elif kind == "DateTimeField":
            adapters.append(ops.adapt_datetimefield_value)
        elif kind == "DecimalField":
            adapters.append(
                lambda value: None if value is None else ops.adapt_decimalfield_value(value)
            )
        else:
            adapters.append(None)
    values = [
        tuple(
            row[name] if adapt is None else adapt(row[name])
            for name, adapt in zip(names, adapters, strict=True)
        )
        for row in rows
    ]
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(fields[name].column) for name in names)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    # Table and column names come from the models' _meta; every value is a parameter.
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}", values)  # noqa: S608
        return
    # PostgreSQL: one array per column, unnested server-side; many times faster than
    # executemany or multi-row VALUES (the statement stays small whatever the batch).
    # (%b: arrays sent in binary, which the server reads about twice as fast as text.)
    arrays = ", ".join(f"%b::{fields[name].db_type(connection)}[]" for name in names)
    sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    import psycopg

    # A plain psycopg cursor on Django's connection (same transaction) binds server-side;
    # Django's own cursors quote every value into the statement in Python (client-side).
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        for first in range(0, len(values), UNNEST_ROWS):
            batch = values[first : first + UNNEST_ROWS]
            cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])


def generate(args: argparse.Namespace) -> tuple[Any, Any, Counters]:
    """Create the course, quizzes and class; return the course, the big quiz and counts."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from assessments.catalog import catalog_load
    from courses.models import Enrollment

    counters = Counters()
    with counters.timed("catalogue + quizzes"):
        catalog_load()
        course, quiz, pre, post = quizzes_create(args.questions)
    with counters.timed("learners + enrollments"):
        password = make_password(None)  # unusable; one value for all, hashing is not measured
        users = User.objects.bulk_create(
            (
                User(username=f"bench-learner-{i}", password=password)
                for i in range(1, args.learners + 1)
            ),
            batch_size=BATCH,
        )
        Enrollment.objects.bulk_create(
            (
                Enrollment(course=course, learner=u, source=Enrollment.Source.SIMULATED)
                for u in users
            ),
            batch_size=BATCH,
        )
    questions = _questions()
    plans = {
        "pre": _plan(pre, "pre", questions),
        "quiz": _plan(quiz, "quiz", questions),
        "post": _plan(post, "post", questions),
    }
    generator = Generator(seed=args.seed, questions=questions, counters=counters)
    base = timezone.now() - timedelta(days=30)
    learners = [(i, u.id) for i, u in enumerate(users, start=1)]
    started = time.perf_counter()
    for first in range(0, len(learners), CHUNK_LEARNERS):
        generator.learners_write(
            learners[first : first + CHUNK_LEARNERS], plans, args.retake_share, base
        )
        done = counters.learners
        elapsed = time.perf_counter() - started
        print(
            f"  {done}/{args.learners} learners, {counters.responses} responses ({elapsed:.0f} s)",
            flush=True,
        )
    with counters.timed("analyze"), connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return course, quiz, counters


# ---------------------------------------------------------------- measurement


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _reset_peak_rss() -> bool:
    """Reset the kernel's resident-set high-water mark of this process (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss(fallback: int) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return fallback


def _materialise(result: Any) -> Any:
    """Evaluate a lazy result (a queryset, a generator) so that its work is timed."""
    from django.db.models.query import QuerySet

    if isinstance(result, QuerySet | Iterator):
        return list(result)
    return result


def measure(name: str, call: Callable[[], Any], runs: int) -> dict[str, Any]:
    """Time `call` (1 warm-up + `runs`), then its traced peak and its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    growth = 0
    times: list[float] = []
    result: Any = None
    for run in range(runs + 1):
        gc.collect()
        before = _rss()
        exact = _reset_peak_rss()
        start = time.perf_counter()
        result = _materialise(call())
        seconds = time.perf_counter() - start
        peak = _peak_rss(_rss()) if exact else _rss()
        growth = max(growth, peak - before)
        if run:  # the first call is the warm-up
            times.append(seconds)
        del result
    gc.collect()
    tracemalloc.start()
    start_traced = tracemalloc.get_traced_memory()[0]
    result = _materialise(call())
    traced_peak = tracemalloc.get_traced_memory()[1] - start_traced
    tracemalloc.stop()
    with CaptureQueriesContext(connection) as queries:
        result = _materialise(call())
    median = statistics.median(times)
    worst = max(times)
    traced_mb = traced_peak / MB
    rss_mb = growth / MB
    return {
        "operation": name,
        "median_s": round(median, 3),
        "max_s": round(worst, 3),
        "traced_peak_mb": round(traced_mb, 1),
        "rss_growth_mb": round(rss_mb, 1),
        "queries": len(queries),
        "meets_aim": worst < AIM_SECONDS and max(traced_mb, rss_mb) < AIM_MEGABYTES,
        "result_size": _size(result),
    }


def _size(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(
            f"{key}: {len(value)}"
            for key, value in result.items()
            if isinstance(value, list | dict)
        )
    if isinstance(result, list | tuple):
        return f"{len(result)} rows"
    return type(result).__name__


def _table(rows: list[dict[str, Any]]) -> str:
    headers = {
        "operation": "operation",
        "median_s": "median s",
        "max_s": "p-max s",
        "traced_peak_mb": "peak traced MB",
        "rss_growth_mb": "RSS growth MB",
        "queries": "queries",
        "meets_aim": "< 0.25 s, < 200 MB",
    }
    cells = [[str(row[key]) for key in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers.values())]
    lines = [" | ".join(h.ljust(w) for h, w in zip(headers.values(), widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _operations(course: Any, quiz: Any) -> list[tuple[str, Callable[[], Any]]]:
    """Each analytics call twice: computed afresh (fresh=True: the database aggregates
    every counted response) and as pages get it (from the Redis cache, after the warm-up
    call or the beat task filled it; only the fingerprint query reaches the database)."""
    try:
        from analytics.misconceptions import course_gain, course_misconceptions
        from analytics.statistics import quiz_statistics
    except ImportError as error:
        raise BenchError(f"The analytics functions are not available yet: {error}") from error
    return [
        (
            "quiz_statistics(attempts='first'), computed",
            lambda: quiz_statistics(quiz=quiz, attempts="first", fresh=True),
        ),
        (
            "quiz_statistics(attempts='first'), cached",
            lambda: quiz_statistics(quiz=quiz, attempts="first"),
        ),
        (
            "course_misconceptions(course), computed",
            lambda: course_misconceptions(course=course, fresh=True),
        ),
        ("course_misconceptions(course), cached", lambda: course_misconceptions(course=course)),
        ("course_gain(course), computed", lambda: course_gain(course=course, fresh=True)),
        ("course_gain(course), cached", lambda: course_gain(course=course)),
    ]


def aggregates_build(course: Any) -> int:
    """Fill the aggregates from the rows the generator wrote (bulk inserts send no
    signals), as `manage.py rebuild_analytics` does for an existing database."""
    from analytics.aggregates import aggregates_rebuild

    return aggregates_rebuild(course=course)


def submit_cost(course: Any, quiz: Any, samples: int) -> dict[str, Any]:
    """Median time of attempt_submit on the big quiz with the aggregates kept and without
    (the analytics' receiver disconnected), alternating, each its own transaction."""
    from django.contrib.auth.models import User

    from analytics.aggregates import pending_catch_up
    from analytics.receivers import SCORED_UID, attempt_scored_receive
    from assessments import services
    from assessments.models import Response
    from assessments.signals import attempt_scored
    from courses.models import Enrollment

    prepared = []
    for i in range(2 * samples):
        learner = User.objects.create(username=f"bench-submitter-{i}")
        Enrollment.objects.create(course=course, learner=learner)
        attempt = services.attempt_start(quiz=quiz, learner=learner, seed=i)
        responses = list(attempt.responses.prefetch_related("question__choices"))
        links = []
        for response in responses:
            response.confidence = (i + response.slot) % 6
            choices = list(response.question.choices.all())
            if choices:
                pick = choices[(i * 7 + response.slot) % len(choices)]
                links.append(Response.selected_choices.through(response=response, choice=pick))
        Response.objects.bulk_update(responses, ["confidence"])
        Response.selected_choices.through.objects.bulk_create(links)
        prepared.append((attempt.id, learner))
    times: dict[bool, list[float]] = {True: [], False: []}
    for i, (attempt_id, learner) in enumerate(prepared):
        kept = i % 2 == 0
        if not kept:
            attempt_scored.disconnect(dispatch_uid=SCORED_UID)
        try:
            start = time.perf_counter()
            services.attempt_submit(attempt_id=attempt_id, learner=learner)
            times[kept].append(time.perf_counter() - start)
        finally:
            attempt_scored.connect(attempt_scored_receive, dispatch_uid=SCORED_UID)
    with_ms = 1000 * statistics.median(times[True])
    without_ms = 1000 * statistics.median(times[False])
    # What the worker then spends per submit, off the request: applying one learner's
    # pending attempt to the counts.
    applied = []
    for _ in range(samples):
        start = time.perf_counter()
        if not pending_catch_up(course_id=course.id, limit=1):
            break
        applied.append(time.perf_counter() - start)
    applied_ms = 1000 * statistics.median(applied) if applied else 0.0
    return {
        "samples": samples,
        "with_ms": round(with_ms, 2),
        "without_ms": round(without_ms, 2),
        "added_ms": round(with_ms - without_ms, 2),
        "applied_ms": round(applied_ms, 2),
        "meets_aim": with_ms - without_ms < AIM_SUBMIT_MS,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=40, help="items of the big quiz")
    parser.add_argument("--runs", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--retake-share", type=float, default=0.1, help="learners with a second attempt"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="generate the data, measure nothing"
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if args.learners < 1 or args.questions < 1 or args.runs < 1 or args.seed < 0:
        parser.error("--learners, --questions and --runs must be positive, --seed non-negative")
    if not 0 <= args.retake_share <= 1:
        parser.error("--retake-share must be between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Prepare, generate, measure; print the table and a JSON line."""
    args = parse_args(argv)
    try:
        database = prepare_database()
    except BenchError as error:
        print(f"bench-analytics: {error}", file=sys.stderr)
        return 2
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    print(f"database: {database.description}")
    summary: dict[str, Any] = {"database": database.description.split(" (")[0]}
    status = 0
    try:
        django_setup(database.url)
        print(f"generating {args.learners} learners x {args.questions} questions (+ pre/post) ...")
        started = time.perf_counter()
        course, quiz, counters = generate(args)
        generated = time.perf_counter() - started
        print(
            f"generated in {generated:.1f} s: {counters.learners} learners, "
            f"{counters.attempts} attempts, {counters.responses} responses, {counters.selected} "
            f"selected choices, {counters.revealed} revealed misconceptions"
        )
        print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in counters.seconds.items()))
        summary.update(
            learners=args.learners,
            questions=args.questions,
            attempts=counters.attempts,
            responses=counters.responses,
            selected_choices=counters.selected,
            revealed_misconceptions=counters.revealed,
            generate_s=round(generated, 1),
        )
        if not args.generate_only:
            started = time.perf_counter()
            aggregate_rows = aggregates_build(course)
            built = time.perf_counter() - started
            print(
                f"rebuilt the aggregates from the raw rows: {aggregate_rows} rows in {built:.1f} s"
            )
            summary["rebuild_s"] = round(built, 1)
            rows = [measure(name, call, args.runs) for name, call in _operations(course, quiz)]
            print(f"\nAnalytics ({args.runs} runs after a warm-up; aim < 0.25 s and < 200 MB each)")
            print(_table(rows))
            for row in rows:
                print(f"  {row['operation']}: {row.pop('result_size')}")
            summary["operations"] = rows
            summary["aim"] = {
                "seconds": AIM_SECONDS,
                "megabytes": AIM_MEGABYTES,
                "submit_ms": AIM_SUBMIT_MS,
            }
            cost = submit_cost(course, quiz, SUBMIT_SAMPLES)
            print(
                f"\nattempt_submit ({args.questions} questions; median of {SUBMIT_SAMPLES} each): "
                f"{cost['with_ms']} ms keeping the aggregates, {cost['without_ms']} ms without; "
                f"added {cost['added_ms']} ms (aim < {AIM_SUBMIT_MS} ms); then applying one "
                f"submit's pending attempt, in the worker: {cost['applied_ms']} ms"
            )
            summary["submit"] = cost
    except BenchError as error:
        print(f"bench-analytics: {error}", file=sys.stderr)
        status = 2
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep_database:
            print(f"kept the database: {database.url}")
        else:
            database.drop()
    print(json.dumps(summary))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
