"""Chaos: learners work while workers, Redis, PostgreSQL connections and the LMS fail.

Run it with `make chaos` (PostgreSQL from DATABASE_URL, by default the local server's
postgres database; options through BENCH_ARGS, see --help). It is a benchmark-like script, not a test: pytest
never collects it, and its figures go in the README. What it does:

1. Makes a database of its own, `quiz_chaos`, on DATABASE_URL's server (dropped and made
   anew; the database in the URL is not touched), migrates it, loads the catalogue, and
   records every state change that matters in an audit table filled by triggers (a
   submission graded, a delivery armed/applied/given up, a practice step moved on, a
   webhook delivery made), so that "exactly once" is counted by the database itself.
2. Starts what production runs: a Redis of its own (no persistence) on a free port,
   gunicorn, two Celery workers (`--hostname chaos-w1@…`, `chaos-w2@…`, 2 prefork
   processes each, queues grader and default) and Celery beat, with short sweeps (the
   settings are printed), plus a fake LMS: an HTTP server on loopback that records every
   webhook it receives.
3. Makes the fixtures through the ORM: a course with the pre-test and the code quiz,
   learners enrolled in it (API tokens for the pre-test's), an API client of the LMS, and
   practice learners walked to a code step (tests/practice/scripted.py). The LMS's webhook
   is registered through the API, and the learners who use pages log in through the
   login page.
4. Offers the load over --window seconds, through gunicorn as learners do: quiz code
   slots submitted through the API (from a logged-in session, as the editor does), then
   their attempt submitted; practice code steps submitted through the step's form; the
   pre-test started, partly answered and submitted through the API with a token. Correct
   and wrong code are mixed, so verdicts differ.
5. Meanwhile: kill -9 a worker at random moments (its main process, with its process
   group, as a lost host, started again a second later; or one pool process, preferably
   one caught grading), and start again a worker that exits of itself; kill -9 Redis once
   and restart it empty; pg_terminate_backend every connection of the workers once; the
   LMS answers 500 or sleeps past the webhook read timeout for one minute.
6. Waits for the sweeps (up to --settle seconds, printing progress), stops everything and
   reports from the database and the LMS's records: a Markdown table and a last line of
   JSON.

The aim: 0 lost, 0 stuck, 0 duplicates. The exit status is 1 when it is not met, 2 when
the run could not be made.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:  # run as a file: make `quizsite` and `tests` importable
    sys.path.insert(0, str(BASE_DIR))

import psutil  # noqa: E402

from quizsite.devstack import _redis_server_binary  # noqa: E402
from tests.benchmarks.quiz_answering import (  # noqa: E402
    HOST,
    PASSWORD,
    BenchError,
    Browser,
    Reply,
    ServerConfig,
    answer_body,
    cpu_model,
    free_port,
    gunicorn,
    is_postgres,
    log_in,
    manage,
    prepare_database,
    server_env,
    tail,
)

CHAOS_DATABASE = "quiz_chaos"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
VAR_DIR = BASE_DIR / "var" / "chaos"
PRETEST = "dropout-pretest"
CODE_QUIZ = "dropout-code"
REQUEST_TIMEOUT = 30.0
OUTAGE_SECONDS = 60.0

# Short sweeps and retries, so that a run heals within minutes; the rest are the defaults.
CHAOS_SETTINGS = {
    "GRADER_SWEEP_SECONDS": "5",
    "GRADER_STUCK_AFTER_SECONDS": "30",
    "GRADER_SUBMISSIONS_PER_MINUTE": "100000",
    "OUTBOX_SWEEP_SECONDS": "5",
    "OUTBOX_RETRY_BASE_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "10",
    "WEBHOOK_SWEEP_SECONDS": "5",
    "WEBHOOK_BACKOFF_BASE_MS": "2000",
    "WEBHOOK_BACKOFF_MAX_SECONDS": "20",
    "WEBHOOK_MAX_TRIES": "12",
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "WEBHOOK_READ_TIMEOUT_SECONDS": "3",
    "WEBHOOK_ALLOW_LOOPBACK": "true",
    "LMS_API_RATE": "100000/minute",
}

# Every state change the report counts, written by the database in the transaction that
# makes it (so a rolled-back change leaves no trace), whichever process made it.
AUDIT_SQL = """
CREATE TABLE chaos_audit (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    row_id bigint NOT NULL,
    detail text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX chaos_audit_kind ON chaos_audit (kind, row_id);

CREATE FUNCTION chaos_submission_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('passed', 'failed', 'error', 'timeout')
       AND OLD.status NOT IN ('passed', 'failed', 'error', 'timeout') THEN
        INSERT INTO chaos_audit (kind, row_id, detail) VALUES ('graded', NEW.id, NEW.status);
    ELSIF NEW.status = 'running' AND OLD.status <> 'running' THEN
        INSERT INTO chaos_audit (kind, row_id, detail) VALUES ('claimed', NEW.id, NEW.worker);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_submission AFTER UPDATE ON {submission}
    FOR EACH ROW EXECUTE FUNCTION chaos_submission_audit();

-- TG_ARGV: the outbox's name, its subject's column.
CREATE FUNCTION chaos_delivery_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    subject bigint := (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
BEGIN
    IF NEW.state = 'pending' AND (TG_OP = 'INSERT' OR OLD.state <> 'pending') THEN
        INSERT INTO chaos_audit (kind, row_id, detail)
            VALUES (TG_ARGV[0] || ':armed', subject, NEW.consumer);
    ELSIF TG_OP = 'UPDATE' AND OLD.state = 'pending' AND NEW.state <> 'pending' THEN
        INSERT INTO chaos_audit (kind, row_id, detail)
            VALUES (TG_ARGV[0] || ':' || NEW.state, subject, NEW.consumer);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_verdict AFTER INSERT OR UPDATE ON {verdict}
    FOR EACH ROW EXECUTE FUNCTION chaos_delivery_audit('verdict', 'submission_id');
CREATE TRIGGER chaos_score AFTER INSERT OR UPDATE ON {score}
    FOR EACH ROW EXECUTE FUNCTION chaos_delivery_audit('score', 'attempt_id');

CREATE FUNCTION chaos_step_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'grading' AND NEW.state <> 'grading' THEN
        INSERT INTO chaos_audit (kind, row_id, detail)
            VALUES ('step:' || NEW.state, NEW.id, coalesce(NEW.submission_id::text, ''));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_step AFTER UPDATE ON {step}
    FOR EACH ROW EXECUTE FUNCTION chaos_step_audit();

CREATE FUNCTION chaos_webhook_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chaos_audit (kind, row_id, detail)
        VALUES ('webhook:created', coalesce(NEW.attempt_id, 0), NEW.event_id::text);
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_webhook AFTER INSERT ON {webhook}
    FOR EACH ROW EXECUTE FUNCTION chaos_webhook_audit();
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def with_application_name(url: str, name: str) -> str:
    """Return the database URL naming its connections `name` in pg_stat_activity."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("application_"))
    query = f"{query}&application_name={name}" if query else f"application_name={name}"
    return urlunsplit(parts._replace(query=query))


def maintenance_connection(url: str) -> Any:
    """Connect to the run's database as a superuser would, outside Django, for the faults."""
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        urlunsplit(parts._replace(scheme="postgresql", query="application_name=chaos-faults")),
        autocommit=True,
        connect_timeout=10,
    )


# ------------------------------------------------------------------------ the processes


class RedisServer:
    """A Redis of the run's own on a fixed port, without persistence: killing it loses
    every queued and unacknowledged message, as a broker that restarts empty does."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                _redis_server_binary(),
                "--bind", HOST,
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--protected-mode", "yes",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"Redis did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker:
    """One Celery worker (its own host name, 2 prefork processes), restartable."""

    def __init__(self, index: int, env: dict[str, str], concurrency: int) -> None:
        self.index = index
        self.env = env
        self.concurrency = concurrency
        self.hostname = f"chaos-w{index}@%h"
        self.log_path = VAR_DIR / f"worker-{index}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.stopped = False
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            out.write(f"\n==== start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "quizsite", "worker",
                    "--hostname", self.hostname,
                    "--queues", "grader,default",
                    "--pool", "prefork",
                    "--concurrency", str(self.concurrency),
                    "--loglevel", "WARNING",
                    "--without-mingle", "--without-gossip", "--without-heartbeat",
                ],
                env=self.env,
                cwd=BASE_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its group is its own: a kill takes the whole host
            )  # fmt: skip
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pool_processes(self) -> list[psutil.Process]:
        """The worker's pool processes that are alive (a killed one is a zombie until the
        main process reaps it)."""
        if not self.alive or self.process is None:
            return []
        living = []
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=False):
                with contextlib.suppress(psutil.NoSuchProcess):
                    if child.status() != psutil.STATUS_ZOMBIE:
                        living.append(child)
        return living

    def kill_main_and_restart(self, delay: float) -> str:
        """kill -9 the main process and, as a lost host would, everything in its group;
        start the worker again `delay` seconds later, as a supervisor would."""
        with self.lock:
            if self.process is None or not self.alive:
                return "not running"
            pid = self.process.pid
            os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            time.sleep(delay)
            self.start()
            return f"main process {pid} and its group; started again {delay:g} s later"

    def kill_pool_process(self, rng: random.Random, pid: int | None = None) -> str:
        """kill -9 one of the worker's pool processes (`pid`, or one at random); Celery
        starts another."""
        with self.lock:
            pool = {process.pid: process for process in self.pool_processes()}
            if not pool:
                return "no pool process yet"
            victim = pool.get(pid) if pid is not None else None
            victim = victim or pool[rng.choice(sorted(pool))]
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.send_signal(signal.SIGKILL)
            return f"pool process {victim.pid}"

    def restart_if_dead(self) -> bool:
        """Start the worker again if it exited on its own (a kill restarts it itself)."""
        if not self.lock.acquire(blocking=False):
            return False
        try:
            if self.alive or self.stopped:
                return False
            self.start()
            return True
        finally:
            self.lock.release()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.process is None or not self.alive:
                return
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            # Pool processes still finishing a task when the main one left.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def beat_start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    schedule = VAR_DIR / "beat-schedule"
    for stale in VAR_DIR.glob("beat-schedule*"):
        stale.unlink()
    with (VAR_DIR / "beat.log").open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "quizsite", "beat",
                "--schedule", str(schedule),
                "--pidfile", str(VAR_DIR / "beat.pid"),
                "--loglevel", "WARNING",
            ],
            env=env,
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


# ------------------------------------------------------------------------------ the LMS


@dataclass
class Receipt:
    at: float
    event_id: str
    answer: str  # "200", "500", or "timeout" (answered after our read timeout)
    attempt: int | None
    score: float | None
    updated_at: str


@dataclass
class FakeLms:
    """An LMS's webhook receiver on loopback that records every request; during its
    outage it answers 500, or sleeps past the sender's read timeout, at random."""

    read_timeout: float
    rng: random.Random
    receipts: list[Receipt] = field(default_factory=list)
    outage: tuple[float, float] = (0.0, 0.0)  # monotonic start and end
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{HOST}:{self.server.server_address[1]}/lms/grades"

    def start(self) -> None:
        lms = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = lms.answer_for(time.monotonic())
                try:
                    data = json.loads(body).get("data", {})
                except ValueError:
                    data = {}
                with lms.lock:
                    lms.receipts.append(
                        Receipt(
                            at=time.monotonic(),
                            event_id=self.headers.get("X-Quiz-Delivery", ""),
                            answer=answer,
                            attempt=data.get("attempt"),
                            score=data.get("score"),
                            updated_at=data.get("updated_at") or "",
                        )
                    )
                if answer == "timeout":
                    time.sleep(lms.read_timeout + 2)
                status = 500 if answer == "500" else 200
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_for(self, now: float) -> str:
        start, end = self.outage
        if start <= now < end:
            with self.lock:
                return "500" if self.rng.random() < 0.5 else "timeout"
        return "200"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


# ----------------------------------------------------------------------------- fixtures


@dataclass
class Fixtures:
    course_id: int
    pretest_tokens: list[tuple[str, str]]  # (username, token)
    code_learners: list[str]
    practice_steps: list[tuple[str, int, str]]  # (username, step id, exercise)
    lms_token: str


def audit_install() -> None:
    """Create the audit table and its triggers in the run's database."""
    from django.db import connection

    from assessments.models import ScoreDelivery
    from grader.models import Submission, VerdictDelivery
    from lms.models import WebhookDelivery
    from practice.models import PracticeStep

    tables = {
        "submission": Submission._meta.db_table,
        "verdict": VerdictDelivery._meta.db_table,
        "score": ScoreDelivery._meta.db_table,
        "step": PracticeStep._meta.db_table,
        "webhook": WebhookDelivery._meta.db_table,
    }
    sql = AUDIT_SQL
    for key, table in tables.items():
        sql = sql.replace("{" + key + "}", connection.ops.quote_name(table))
    with connection.cursor() as cursor:
        cursor.execute(sql)


def fixtures_create(*, pretest: int, code: int, practice: int) -> Fixtures:
    """Make the course, its quizzes and learners, the LMS's API client, and practice
    learners standing at a code step (fixtures: the ORM, as an admin or a test would)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from assessments.models import QuestionType, Quiz
    from courses.models import Course, Enrollment
    from lms.models import ApiClient
    from tests.practice.scripted import ScriptedLearner

    course = Course.objects.create(slug="chaos", title="Chaos course")
    Quiz.objects.filter(slug__in=[PRETEST, CODE_QUIZ]).update(course=course)
    encoded = make_password(PASSWORD)  # hashed once, shared
    names = (
        [f"chaos-pre-{i:03d}" for i in range(pretest)]
        + [f"chaos-code-{i:03d}" for i in range(code)]
        + [f"chaos-practice-{i:03d}" for i in range(practice)]
    )
    users = User.objects.bulk_create(User(username=name, password=encoded) for name in names)
    Enrollment.objects.bulk_create(Enrollment(course=course, learner=user) for user in users)
    by_name = {user.username: user for user in users}
    tokens = Token.objects.bulk_create(
        Token(user=by_name[f"chaos-pre-{i:03d}"], key=Token.generate_key()) for i in range(pretest)
    )
    client, lms_token = ApiClient.issue(name="Fake LMS", scopes=["grades:read", "webhooks:manage"])
    client.courses.set([course])
    steps = []
    for i in range(practice):
        learner = by_name[f"chaos-practice-{i:03d}"]
        # As tests/practice/test_code_steps.py does: DO-TEST held, fairly sure, through a
        # single-choice, a two-tier and a numeric item; a code exercise comes next.
        scripted = ScriptedLearner(course=course, learner=learner)
        scripted.right()
        scripted.right()
        for _ in range(3):
            scripted.wrong("DO-TEST", confidence=3)
        step = scripted.pending()
        if step.question is None or step.question.qtype != QuestionType.CODE:
            raise BenchError(f"practice learner {learner.username} is not at a code step")
        steps.append((learner.username, step.id, step.question.exercise))
    return Fixtures(
        course_id=course.id,
        pretest_tokens=[(token.user.username, token.key) for token in tokens],
        code_learners=[f"chaos-code-{i:03d}" for i in range(code)],
        practice_steps=steps,
        lms_token=lms_token,
    )


def code_variants() -> dict[str, list[tuple[str, str]]]:
    """Per exercise, (name, code) pairs: the reference solution and wrong ones."""
    from grader.exercises import EXERCISES

    variants: dict[str, list[tuple[str, str]]] = {}
    for slug, exercise in EXERCISES.items():
        reference = exercise.reference_source
        stub = "".join(
            f"def {name}(*args, **kwargs):\n    return args[0] if args else None\n\n\n"
            for name in exercise.functions
        )
        found = [("correct", reference), ("returns its input", stub)]
        unscaled = reference.replace("/ (1.0 - p)", "").replace("/ (1 - p)", "")
        if unscaled != reference:
            found.append(("no rescaling", unscaled))
        variants[slug] = found
    return variants


# -------------------------------------------------------------------------------- load


@dataclass
class Offered:
    """What the learners did and what the service answered, shared by the threads."""

    code_quiz: list[dict[str, Any]] = field(default_factory=list)
    code_practice: list[dict[str, Any]] = field(default_factory=list)
    quiz_submits: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, reply: Reply | None, error: str = "") -> None:
        with self.lock:
            key = f"{what} {reply.status if reply is not None else 'no answer'}"
            self.statuses[key] += 1
            if (reply is None or reply.status >= 500) and len(self.errors) < 20:
                detail = error or (reply.body[:200].decode(errors="replace") if reply else "")
                self.errors.append(f"{time.strftime('%H:%M:%S')} {key}: {detail}")


def _json(reply: Reply) -> Any:
    try:
        return reply.json()
    except ValueError:
        return {}


def _call(
    offered: Offered,
    what: str,
    browser: Browser,
    method: str,
    path: str,
    *,
    body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply | None:
    """Make one request and count its answer; None when no answer came."""
    data = None
    content_type = None
    if body is not None:
        data, content_type = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
    try:
        reply = browser.request(method, path, body=data, content_type=content_type, headers=headers)
    except OSError as error:  # refused, reset, timed out
        browser.close()
        offered.note(what, None, f"{type(error).__name__}: {error}")
        return None
    offered.note(what, reply)
    return reply


def pretest_learner(
    port: int, offered: Offered, username: str, token: str, rng: random.Random
) -> None:
    """Start the pre-test with the API, answer a few questions and submit it."""
    browser = Browser(port, REQUEST_TIMEOUT)
    auth = {"Authorization": f"Token {token}"}
    try:
        started = _call(
            offered, "pretest start", browser, "POST", f"/api/v1/quizzes/{PRETEST}/attempts/",
            headers=auth,
        )  # fmt: skip
        if started is None or started.status != 201:
            return
        attempt = _json(started)["id"]
        detail = _call(offered, "pretest read", browser, "GET", f"/api/v1/attempts/{attempt}/",
                       headers=auth)  # fmt: skip
        if detail is None or detail.status != 200:
            return
        questions = _json(detail)["questions"]
        for question in rng.sample(questions, min(len(questions), rng.randint(2, 5))):
            _call(
                offered, "pretest answer", browser, "PUT",
                f"/api/v1/attempts/{attempt}/responses/{question['slot']}/",
                body=answer_body(question, rng), headers=auth,
            )  # fmt: skip
        reply = _call(offered, "pretest submit", browser, "POST",
                      f"/api/v1/attempts/{attempt}/submit/", headers=auth)  # fmt: skip
        with offered.lock:
            offered.quiz_submits.append(
                {"learner": username, "attempt": attempt, "status": _status(reply)}
            )
    finally:
        browser.close()


def _status(reply: Reply | None) -> int | None:
    return None if reply is None else reply.status


EXERCISE_ON_PAGE = re.compile(rb'href="/exercises/([a-z0-9-]+)/"')


def code_quiz_learner(
    offered: Offered,
    browser: Browser,
    username: str,
    submissions: int,
    variants: dict[str, list[tuple[str, str]]],
    rng: random.Random,
) -> None:
    """Start the code quiz, send code to its slots as the editor does, then submit it
    (at once: verdicts arriving after the submit re-score it)."""
    csrf = {"X-CSRFToken": browser.csrf}
    started = _call(offered, "code quiz start", browser, "POST",
                    f"/api/v1/quizzes/{CODE_QUIZ}/attempts/", headers=csrf)  # fmt: skip
    if started is None or started.status != 201:
        return
    attempt = _json(started)["id"]
    detail = _call(offered, "code quiz read", browser, "GET", f"/api/v1/attempts/{attempt}/")
    if detail is None or detail.status != 200:
        return
    slots = [q["slot"] for q in _json(detail)["questions"] if q["type"] == "code"]
    exercises: dict[int, str] = {}
    for slot in rng.sample(slots, min(len(slots), submissions)):
        page = _call(offered, "code quiz page", browser, "GET",
                     f"/attempts/{attempt}/questions/{slot}/")  # fmt: skip
        found = EXERCISE_ON_PAGE.search(page.body) if page is not None else None
        if found is not None:
            exercises[slot] = found[1].decode()
    chosen = list(exercises.items())
    for index in range(submissions):
        if not chosen:
            break
        slot, exercise = chosen[index % len(chosen)]
        variant, code = rng.choice(variants[exercise])
        reply = _call(
            offered, "code quiz submit code", browser, "POST", "/api/v1/submissions/",
            body={"exercise": exercise, "code": code, "attempt": attempt, "slot": slot},
            headers=csrf,
        )  # fmt: skip
        submission = _json(reply).get("id") if reply is not None and reply.status == 202 else None
        with offered.lock:
            offered.code_quiz.append(
                {
                    "learner": username,
                    "attempt": attempt,
                    "slot": slot,
                    "variant": variant,
                    "status": _status(reply),
                    "submission": submission,
                }
            )
        time.sleep(rng.uniform(0.0, 1.0))
    reply = _call(offered, "code quiz submit", browser, "POST",
                  f"/api/v1/attempts/{attempt}/submit/", headers=csrf)  # fmt: skip
    with offered.lock:
        offered.quiz_submits.append(
            {"learner": username, "attempt": attempt, "status": _status(reply)}
        )


def practice_learner(
    offered: Offered,
    browser: Browser,
    username: str,
    step_id: int,
    exercise: str,
    variants: dict[str, list[tuple[str, str]]],
    rng: random.Random,
) -> None:
    """Send code for the learner's practice code step through the step's form."""
    variant, code = rng.choice(variants[exercise])
    form = {"code": code, "confidence": str(rng.randint(1, 5)), "csrfmiddlewaretoken": browser.csrf}
    reply = _call(offered, "practice submit code", browser, "POST",
                  f"/practice/steps/{step_id}/code/", form=form)  # fmt: skip
    acknowledged = reply is not None and reply.status == 302 and "/feedback/" in reply.location
    with offered.lock:
        offered.code_practice.append(
            {
                "learner": username,
                "step": step_id,
                "variant": variant,
                "status": _status(reply),
                "acknowledged": acknowledged,
            }
        )


# ------------------------------------------------------------------------------ faults


@dataclass
class Faults:
    """What was done to the service, and when (seconds into the window)."""

    events: list[str] = field(default_factory=list)
    kills_main: int = 0
    kills_pool: int = 0
    kills_grading: int = 0  # of the pool processes killed, those caught grading
    redis_restarts: int = 0
    backends_terminated: int = 0
    worker_restarts: int = 0
    unexpected_exits: int = 0  # a worker that exited of itself (and was started again)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, offset: float, text: str) -> None:
        line = f"+{offset:6.1f}s {text}"
        with self.lock:
            self.events.append(line)
        log(f"fault {line}")


def fault_plan(rng: random.Random, window: float, kills: int) -> list[tuple[float, str]]:
    """Return (seconds into the window, action) pairs, in order."""
    plan = [(rng.uniform(0.05, 0.95) * window, "kill") for _ in range(kills)]
    plan.append((rng.uniform(0.30, 0.45) * window, "redis"))
    plan.append((rng.uniform(0.55, 0.75) * window, "postgres"))
    return sorted(plan)


def run_faults(
    plan: list[tuple[float, str]],
    started: float,
    workers: list[Worker],
    redis_server: RedisServer,
    database_url: str,
    faults: Faults,
    rng: random.Random,
    stop: threading.Event,
) -> None:
    """Carry out the plan; a killed main process is started again a second later."""
    for offset, action in plan:
        if stop.wait(max(0.0, started + offset - time.monotonic())):
            return
        now = time.monotonic() - started
        if action == "kill":
            worker = rng.choice(workers)
            if rng.random() < 0.5:
                what = worker.kill_main_and_restart(1.0)
                with faults.lock:
                    faults.kills_main += 1
                    faults.worker_restarts += 1
                faults.record(now, f"kill -9 chaos-w{worker.index}: {what}")
            else:
                # Grading takes a few tens of ms: a process chosen blindly is nearly always
                # idle. Wait up to 3 s for one caught grading, else take one at random.
                caught = grading_process(workers, database_url, seconds=3.0)
                if caught is not None:
                    worker, pid, submission_id = caught
                    what = worker.kill_pool_process(rng, pid)
                    what += f", caught grading submission {submission_id}"
                else:
                    what = worker.kill_pool_process(rng)
                with faults.lock:
                    faults.kills_pool += 1
                    faults.kills_grading += int(caught is not None)
                faults.record(time.monotonic() - started, f"kill -9 chaos-w{worker.index}: {what}")
        elif action == "redis":
            redis_server.kill()
            faults.record(now, f"kill -9 Redis (port {redis_server.port}); down for 3 s")
            time.sleep(3.0)
            redis_server.start()
            with faults.lock:
                faults.redis_restarts += 1
            faults.record(time.monotonic() - started, "Redis started again, empty")
        elif action == "postgres":
            # A worker holds a connection only while a task runs (Celery's Django fixup
            # closes them after each task): try until some are held, at most 15 s.
            terminated, deadline = 0, time.monotonic() + 15
            with maintenance_connection(database_url) as connection:
                while not terminated and time.monotonic() < deadline:
                    rows = connection.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name LIKE 'chaos-worker%%'",
                        (CHAOS_DATABASE,),
                    ).fetchall()
                    terminated = sum(1 for (done,) in rows if done)
                    time.sleep(0 if terminated else 0.02)
            with faults.lock:
                faults.backends_terminated += terminated
            faults.record(
                time.monotonic() - started,
                f"pg_terminate_backend: {terminated} worker connections",
            )


def grading_process(
    workers: list[Worker], database_url: str, seconds: float
) -> tuple[Worker, int, int] | None:
    """Return a pool process of ours grading a submission now (the worker, its pid, the
    submission), waiting up to `seconds` for one; None if none was seen."""
    from grader.models import Submission

    table = Submission._meta.db_table
    deadline = time.monotonic() + seconds
    with maintenance_connection(database_url) as connection:
        while time.monotonic() < deadline:
            pools = {p.pid: w for w in workers for p in w.pool_processes()}
            rows = connection.execute(
                f"SELECT id, worker FROM {table} WHERE status = 'running'"  # noqa: S608 - our table
            ).fetchall()
            for submission_id, name in rows:
                pid = name.rpartition(":")[2]
                if pid.isdigit() and int(pid) in pools:
                    return pools[int(pid)], int(pid), submission_id
            time.sleep(0.02)
    return None


def supervise(workers: list[Worker], faults: Faults, started: float, stop: threading.Event) -> None:
    """Start again a worker that died of something else than our kill (none should)."""
    while not stop.wait(2.0):
        for worker in workers:
            if worker.restart_if_dead():
                with faults.lock:
                    faults.worker_restarts += 1
                    faults.unexpected_exits += 1
                faults.record(
                    time.monotonic() - started, f"chaos-w{worker.index} had exited; restarted"
                )


# ----------------------------------------------------------------------------- checking


def outstanding(lms: FakeLms) -> dict[str, int]:
    """What is not finished yet: the run settles when every figure is 0."""
    from assessments.models import ScoreDelivery
    from grader.models import Submission, VerdictDelivery
    from lms.models import WebhookDelivery
    from practice.models import PracticeStep

    pending = "pending"
    delivered = set(
        str(event)
        for event in WebhookDelivery.objects.filter(state="delivered").values_list(
            "event_id", flat=True
        )
    )
    with lms.lock:
        received = {r.event_id for r in lms.receipts}
    return {
        "submissions not graded": Submission.objects.exclude(
            status__in=Submission.FINISHED
        ).count(),
        "verdict deliveries pending": VerdictDelivery.objects.filter(state=pending).count(),
        "practice steps grading": PracticeStep.objects.filter(state="grading").count(),
        "score deliveries pending": ScoreDelivery.objects.filter(state=pending).count(),
        "webhooks pending": WebhookDelivery.objects.filter(state=pending).count(),
        "delivered, not at the LMS": len(delivered - received),
    }


def audit_counts(kind: str) -> Counter[tuple[int, str]]:
    """(row id, detail) -> how often the audit saw `kind` happen to it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT row_id, detail FROM chaos_audit WHERE kind = %s", [kind])
        return Counter((row_id, detail) for row_id, detail in cursor.fetchall())


def audit_rows(kind: str) -> Counter[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT row_id FROM chaos_audit WHERE kind = %s", [kind])
        return Counter(row_id for (row_id,) in cursor.fetchall())


def check(offered: Offered, fixtures: Fixtures, lms: FakeLms) -> dict[str, Any]:
    """Count, from the database and the LMS's records, what became of every offer."""
    from decimal import Decimal

    from assessments.models import Attempt, ScoreDelivery
    from assessments.scoring import code_outcome
    from grader.models import Submission, VerdictDelivery
    from lms.models import WebhookDelivery
    from practice.models import PracticeStep

    figures: dict[str, Any] = {}
    # ---- code submissions
    acknowledged_quiz = [o for o in offered.code_quiz if o["submission"] is not None]
    quiz_ids = {o["submission"] for o in acknowledged_quiz}
    code_learner_attempts = {o["attempt"] for o in offered.code_quiz}
    rows_quiz = set(
        Submission.objects.filter(response__attempt_id__in=code_learner_attempts).values_list(
            "id", flat=True
        )
    )
    step_ids = [o["step"] for o in offered.code_practice]
    acknowledged_steps = [o["step"] for o in offered.code_practice if o["acknowledged"]]
    step_submission = dict(
        PracticeStep.objects.filter(id__in=step_ids).values_list("id", "submission_id")
    )
    rows_practice = {s for s in step_submission.values() if s is not None}
    figures["code offered"] = len(offered.code_quiz) + len(offered.code_practice)
    figures["code offered (quiz slots / practice steps)"] = (
        f"{len(offered.code_quiz)} / {len(offered.code_practice)}"
    )
    figures["code acknowledged"] = len(acknowledged_quiz) + len(acknowledged_steps)
    lost_quiz = quiz_ids - rows_quiz
    lost_practice = [s for s in acknowledged_steps if step_submission.get(s) is None]
    figures["code lost (acknowledged, no row)"] = len(lost_quiz) + len(lost_practice)
    figures["code saved though the learner got no acknowledgement"] = len(
        rows_quiz - quiz_ids
    ) + sum(
        1
        for o in offered.code_practice
        if not o["acknowledged"] and step_submission.get(o["step"]) is not None
    )
    all_rows = rows_quiz | rows_practice
    graded = audit_rows("graded")
    finished = dict(Submission.objects.filter(id__in=all_rows).values_list("id", "status"))
    figures["submissions saved"] = len(all_rows)
    figures["graded exactly once"] = sum(1 for s in all_rows if graded[s] == 1)
    figures["graded twice or more"] = sum(1 for s in all_rows if graded[s] > 1)
    figures["submissions stuck (no verdict)"] = sum(
        1 for s in all_rows if finished.get(s) not in Submission.FINISHED
    )
    figures["verdicts (passed / failed / error / timeout)"] = " / ".join(
        str(sum(1 for s in all_rows if finished.get(s) == status))
        for status in ("passed", "failed", "error", "timeout")
    )
    figures["could not be graded (stopped GRADER_MAX_CLAIMS times)"] = Submission.objects.filter(
        id__in=all_rows, status="error", message__startswith="This submission could not be graded"
    ).count()
    claims = audit_rows("claimed")
    figures["claims beyond the first (redelivered after a fault)"] = sum(
        max(0, claims[s] - 1) for s in all_rows
    )
    # ---- verdict consumers
    armed = audit_counts("verdict:armed")
    applied = audit_counts("verdict:applied")
    given_up = audit_counts("verdict:given_up")
    wanted = {"quiz-slot": rows_quiz, "practice-step": rows_practice}
    for consumer, subjects in wanted.items():
        states = dict(
            VerdictDelivery.objects.filter(
                consumer=consumer, submission_id__in=subjects
            ).values_list("submission_id", "state")
        )
        once = sum(
            1
            for s in subjects
            if applied[(s, consumer)] == armed[(s, consumer)] == 1 and states.get(s) == "applied"
        )
        twice = sum(1 for s in subjects if applied[(s, consumer)] > max(1, armed[(s, consumer)]))
        missing = sum(1 for s in subjects if s not in states)
        figures[f"{consumer}: verdicts applied exactly once"] = f"{once} of {len(subjects)}"
        figures[f"{consumer}: applied twice or more"] = twice
        figures[f"{consumer}: pending / given up / no delivery"] = (
            f"{sum(1 for v in states.values() if v == 'pending')} / "
            f"{sum(given_up[(s, consumer)] for s in subjects)} / {missing}"
        )
        figures[f"{consumer}: lost"] = missing + sum(1 for v in states.values() if v != "applied")
        figures[f"{consumer}: duplicated"] = twice
    moved = audit_rows("step:done")
    reopened = audit_rows("step:open")
    saved_steps = [s for s in step_ids if step_submission.get(s) is not None]
    figures["practice steps moved on exactly once"] = (
        f"{sum(1 for s in saved_steps if moved[s] == 1)} of {len(saved_steps)}"
    )
    figures["practice steps moved on twice or more"] = sum(1 for s in saved_steps if moved[s] > 1)
    figures["practice steps given back (verdict could not be applied)"] = sum(
        1 for s in saved_steps if reopened[s]
    )
    step_states = dict(PracticeStep.objects.filter(id__in=step_ids).values_list("id", "state"))
    figures["practice steps stuck"] = sum(1 for s in saved_steps if step_states.get(s) != "done")
    # A slot of a submitted attempt shows its latest verdict (the consumer's effect).
    disagree = 0
    attempts = Attempt.objects.filter(
        id__in=code_learner_attempts, state="submitted"
    ).prefetch_related("responses__question", "responses__submissions")
    for attempt in attempts:
        for response in attempt.responses.all():
            submissions = sorted(response.submissions.all(), key=lambda s: s.queued_at)
            if not submissions:
                continue
            latest = submissions[-1]
            outcome = code_outcome(
                status=latest.status, score=latest.score, misconception_ids=frozenset()
            )
            expected = None if outcome.fraction is None else outcome.fraction * response.max_mark
            mark = response.mark
            if (mark is None) != (expected is None) or (
                mark is not None
                and expected is not None
                and abs(mark - expected) > Decimal("0.001")
            ):
                disagree += 1
    figures["code slots whose mark is not their latest verdict's"] = disagree
    # ---- quiz submissions and their scores
    acknowledged_attempts = {o["attempt"] for o in offered.quiz_submits if o["status"] == 200}
    submitted = set(
        Attempt.objects.filter(
            learner__username__startswith="chaos-", state="submitted"
        ).values_list("id", flat=True)
    )
    figures["quiz submissions offered"] = len(offered.quiz_submits)
    figures["quiz submissions acknowledged"] = len(acknowledged_attempts)
    figures["quiz submissions lost (acknowledged, not submitted)"] = len(
        acknowledged_attempts - submitted
    )
    score_armed = audit_counts("score:armed")
    score_applied = audit_counts("score:applied")
    consumer = "lms-webhooks"
    score_states = dict(
        ScoreDelivery.objects.filter(consumer=consumer, attempt_id__in=submitted).values_list(
            "attempt_id", "state"
        )
    )
    armings = sum(score_armed[(a, consumer)] for a in submitted)
    handed = sum(score_applied[(a, consumer)] for a in submitted)
    figures["lms-webhooks: scores recorded (armings)"] = armings
    figures["lms-webhooks: handed on"] = handed
    figures["lms-webhooks: pending / given up / no delivery"] = (
        f"{sum(1 for v in score_states.values() if v == 'pending')} / "
        f"{sum(1 for v in score_states.values() if v == 'given_up')} / "
        f"{sum(1 for a in submitted if a not in score_states)}"
    )
    figures["lms-webhooks: lost"] = sum(1 for a in submitted if score_states.get(a) != "applied")
    figures["lms-webhooks: handed on twice for one score"] = sum(
        max(0, score_applied[(a, consumer)] - score_armed[(a, consumer)]) for a in submitted
    )
    figures["lti-passback deliveries (no LTI link in this run)"] = ScoreDelivery.objects.filter(
        consumer="lti-passback"
    ).count()
    # ---- webhooks and the LMS
    created = audit_counts("webhook:created")
    per_attempt = Counter(attempt for (attempt, _event) in created.elements())
    figures["webhook deliveries made"] = sum(created.values())
    figures["webhook deliveries beyond one per score handed on"] = sum(
        max(0, per_attempt[a] - score_applied[(a, consumer)]) for a in submitted
    )
    webhook_states = Counter(WebhookDelivery.objects.values_list("state", flat=True))
    figures["webhooks delivered / failed / pending"] = (
        f"{webhook_states['delivered']} / {webhook_states['failed']} / {webhook_states['pending']}"
    )
    events = {
        str(event): attempt
        for event, attempt in WebhookDelivery.objects.values_list("event_id", "attempt_id")
    }
    with lms.lock:
        receipts = list(lms.receipts)
    by_event = Counter(r.event_id for r in receipts)
    ok_by_event = Counter(r.event_id for r in receipts if r.answer == "200")
    figures["LMS: distinct events received / expected"] = (
        f"{len(set(by_event) & set(events))} / {len(events)}"
    )
    figures["LMS: events never received"] = len(set(events) - set(by_event))
    figures["LMS: events answered 2xx never"] = len(set(events) - set(ok_by_event))
    figures["LMS: unknown events received"] = len(set(by_event) - set(events))
    figures["LMS: requests received in all"] = len(receipts)
    figures["LMS: answered 500 / timed out / 2xx"] = (
        f"{sum(1 for r in receipts if r.answer == '500')} / "
        f"{sum(1 for r in receipts if r.answer == 'timeout')} / "
        f"{sum(1 for r in receipts if r.answer == '200')}"
    )
    figures["LMS: events received more than once (retries, same event id)"] = sum(
        1 for n in by_event.values() if n > 1
    )
    figures["LMS: events answered 2xx more than once"] = sum(
        1 for n in ok_by_event.values() if n > 1
    )
    # The LMS keeps, per attempt, the receipt with the latest updated_at: is it the score?
    kept: dict[int, Receipt] = {}
    for receipt in receipts:
        if receipt.attempt is None or receipt.event_id not in events:
            continue
        before = kept.get(receipt.attempt)
        if before is None or receipt.updated_at >= before.updated_at:
            kept[receipt.attempt] = receipt
    scores = dict(Attempt.objects.filter(id__in=submitted).values_list("id", "score"))
    figures["LMS: attempts whose latest score is not the attempt's"] = sum(
        1
        for attempt in submitted
        if attempt not in kept
        or kept[attempt].score is None
        or abs(float(scores[attempt] or 0) - float(kept[attempt].score or 0)) > 1e-6
    )
    figures["learner requests answered 5xx or not at all"] = sum(
        n for key, n in offered.statuses.items() if key.endswith("no answer") or " 5" in key
    )
    lost = (
        figures["code lost (acknowledged, no row)"]
        + figures["quiz-slot: lost"]
        + figures["practice-step: lost"]
        + figures["quiz submissions lost (acknowledged, not submitted)"]
        + figures["lms-webhooks: lost"]
        + figures["LMS: events never received"]
        + figures["code slots whose mark is not their latest verdict's"]
        + figures["LMS: attempts whose latest score is not the attempt's"]
    )
    stuck = (
        figures["submissions stuck (no verdict)"]
        + figures["practice steps stuck"]
        + sum(outstanding(lms).values())
    )
    duplicates = (
        figures["graded twice or more"]
        + figures["quiz-slot: duplicated"]
        + figures["practice-step: duplicated"]
        + figures["practice steps moved on twice or more"]
        + figures["lms-webhooks: handed on twice for one score"]
        + figures["webhook deliveries beyond one per score handed on"]
        + figures["LMS: unknown events received"]
    )
    figures["LOST"] = lost
    figures["STUCK"] = stuck
    figures["DUPLICATES"] = duplicates
    return figures


# ---------------------------------------------------------------------------------- run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--code", type=int, default=300, help="code submissions (300)")
    parser.add_argument("--quiz", type=int, default=300, help="quiz submissions (300)")
    parser.add_argument(
        "--window", type=float, default=180.0, help="seconds over which the load is offered"
    )
    parser.add_argument("--kills", type=int, default=12, help="kill -9 of a worker (12)")
    parser.add_argument("--settle", type=float, default=420.0, help="seconds to wait after")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (2)")
    parser.add_argument("--threads", type=int, default=16, help="learner threads (16)")
    args = parser.parse_args(argv)
    if args.code < 6 or args.quiz < args.code // 6 + 1 or args.window < 70 or args.kills < 0:
        parser.error("need --code >= 6, --quiz > code/6, --window >= 70 (the LMS's outage + 10)")
    return args


def chaos_env(database_url: str, redis_url: str, name: str) -> dict[str, str]:
    """The environment of one of the service's processes: production-style, short sweeps,
    its database connections named `name`."""
    env = server_env(with_application_name(database_url, name))
    env.update(CHAOS_SETTINGS)
    env["REDIS_URL"] = redis_url
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    begun = time.monotonic()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not is_postgres(os.environ["DATABASE_URL"]):
        raise BenchError("make chaos needs PostgreSQL: set DATABASE_URL=postgres://…")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    for old in VAR_DIR.glob("*.log"):
        old.unlink()
    try:
        database_url, database = prepare_database(name=CHAOS_DATABASE)
    except BenchError as error:
        raise BenchError(
            f"make chaos needs a PostgreSQL server it may create a database on; DATABASE_URL is "
            f"{os.environ['DATABASE_URL']!r}. {error}"
        ) from None
    practice = args.code // 2
    code_learners = (args.code - practice + 2) // 3
    pretest = args.quiz - code_learners
    log(f"seed {seed}; database: {database}")
    offered = Offered()
    faults = Faults()
    stop = threading.Event()
    # Whatever happens, everything started here is stopped, last started first.
    with contextlib.ExitStack() as started:
        scratch = Path(tempfile.mkdtemp(prefix="chaos-redis-"))
        started.callback(shutil.rmtree, scratch, ignore_errors=True)
        redis_server = RedisServer(scratch)
        started.callback(redis_server.stop)
        redis_server.start()
        log(f"Redis {redis_server.url} (its own, no persistence)")
        setup_env = chaos_env(database_url, redis_server.url, "chaos-setup")
        for command in (
            ("migrate", "--no-input"),
            ("collectstatic", "--no-input"),
            ("load_catalog",),
        ):
            manage(setup_env, *command)
        os.environ.update(chaos_env(database_url, redis_server.url, "chaos-observer"))
        import django

        django.setup()
        audit_install()
        fixtures = fixtures_create(pretest=pretest, code=code_learners, practice=practice)
        variants = code_variants()
        log(
            f"fixtures: {pretest} pre-test learners (API tokens), {code_learners} code-quiz "
            f"learners, {practice} practice learners at a code step, an API client of the LMS"
        )
        lms = FakeLms(read_timeout=float(CHAOS_SETTINGS["WEBHOOK_READ_TIMEOUT_SECONDS"]), rng=rng)
        started.callback(lms.stop)
        lms.start()
        web_env = chaos_env(database_url, redis_server.url, "chaos-web")
        config = ServerConfig("sync", 4, 1, 0)
        _server_pid, port = started.enter_context(
            gunicorn(web_env, config, VAR_DIR / "gunicorn.log")
        )
        hook = Browser(port, REQUEST_TIMEOUT).request(
            "POST",
            "/api/v1/webhooks/",
            body=json.dumps({"url": lms.url}).encode(),
            content_type="application/json",
            headers={"Authorization": f"Bearer {fixtures.lms_token}"},
        )
        if hook.status != 201:
            raise BenchError(f"registering the LMS's webhook: HTTP {hook.status} {hook.body!r}")
        browsers = log_in_all(
            port,
            [name for name, _step, _exercise in fixtures.practice_steps] + fixtures.code_learners,
        )
        workers = [
            Worker(
                i, chaos_env(database_url, redis_server.url, f"chaos-worker-{i}"), args.concurrency
            )
            for i in (1, 2)
        ]
        for worker in workers:
            started.callback(worker.stop)
            worker.start()
        beat = beat_start(chaos_env(database_url, redis_server.url, "chaos-beat"))
        started.callback(process_stop, beat)
        started.callback(stop.set)  # first: the fault and watch threads end
        log(
            f"set up in {time.monotonic() - begun:.0f} s: gunicorn on port {port}, the LMS's "
            f"webhook at {lms.url}, {len(browsers)} learners logged in; workers chaos-w1 and "
            f"chaos-w2 ({args.concurrency} processes each) and beat started"
        )
        offer_and_break(
            args, rng, port, fixtures, browsers, variants, offered, faults, lms, workers,
            redis_server, database_url, stop,
        )  # fmt: skip
        settled = settle(args.settle, lms)
    time.sleep(1.0)
    figures = check(offered, fixtures, lms)
    report(args, seed, database, figures, faults, offered, settled, time.monotonic() - begun)
    aim_met = figures["LOST"] == 0 and figures["STUCK"] == 0 and figures["DUPLICATES"] == 0
    return 0 if aim_met else 1


def process_stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started (SIGTERM, then SIGKILL after 30 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def log_in_all(port: int, usernames: list[str]) -> dict[str, Browser]:
    """Log the learners in through the login page, 4 at a time (a password hash each)."""
    browsers: dict[str, Browser] = {}

    def one(username: str) -> None:
        browser = Browser(port, 120.0)
        log_in(browser, username)
        browser.set_timeout(REQUEST_TIMEOUT)
        browsers[username] = browser

    pool = ThreadPoolExecutor(max_workers=4)
    try:
        for future in [pool.submit(one, name) for name in usernames]:
            future.result()
    finally:
        pool.shutdown(cancel_futures=True)  # interrupted: no more logins
    return browsers


def offer_and_break(
    args: argparse.Namespace,
    rng: random.Random,
    port: int,
    fixtures: Fixtures,
    browsers: dict[str, Browser],
    variants: dict[str, list[tuple[str, str]]],
    offered: Offered,
    faults: Faults,
    lms: FakeLms,
    workers: list[Worker],
    redis_server: RedisServer,
    database_url: str,
    stop: threading.Event,
) -> None:
    """Offer every learner's work at a random moment of the window while the faults run."""
    window = args.window
    practice = len(fixtures.practice_steps)
    quiz_code = args.code - practice
    per_learner = [quiz_code // len(fixtures.code_learners)] * len(fixtures.code_learners)
    for i in range(quiz_code - sum(per_learner)):
        per_learner[i] += 1
    jobs: list[Callable[[], None]] = []
    for (username, token), job_seed in zip(
        fixtures.pretest_tokens, rng.sample(range(10**9), len(fixtures.pretest_tokens)), strict=True
    ):
        jobs.append(
            partial(pretest_learner, port, offered, username, token, random.Random(job_seed))
        )
    for username, count in zip(fixtures.code_learners, per_learner, strict=True):
        job_seed = rng.randrange(10**9)
        jobs.append(
            partial(
                code_quiz_learner,
                offered,
                browsers[username],
                username,
                count,
                variants,
                random.Random(job_seed),
            )
        )
    for username, step_id, exercise in fixtures.practice_steps:
        job_seed = rng.randrange(10**9)
        jobs.append(
            partial(
                practice_learner,
                offered,
                browsers[username],
                username,
                step_id,
                exercise,
                variants,
                random.Random(job_seed),
            )
        )
    # Offered over the window but the last 5 %, so the last faults meet work in flight.
    moments = sorted(rng.uniform(0, 0.95 * window) for _ in jobs)
    rng.shuffle(jobs)
    plan = fault_plan(rng, window, args.kills)
    started = time.monotonic()
    outage_start = started + rng.uniform(0.15, 0.30) * window
    lms.outage = (outage_start, outage_start + OUTAGE_SECONDS)
    log(
        f"offering {len(jobs)} learners' work over {window:.0f} s; LMS outage from "
        f"+{outage_start - started:.0f} s for {OUTAGE_SECONDS:.0f} s; faults at "
        + ", ".join(f"+{offset:.0f} s {action}" for offset, action in plan)
    )
    fault_thread = threading.Thread(
        target=run_faults,
        args=(plan, started, workers, redis_server, database_url, faults, rng, stop),
        daemon=True,
    )
    fault_thread.start()
    watcher = threading.Thread(target=supervise, args=(workers, faults, started, stop), daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        futures = []
        next_report = started + 15
        for moment, job in zip(moments, jobs, strict=True):
            while time.monotonic() < started + moment:
                time.sleep(min(0.05, started + moment - time.monotonic()))
                if time.monotonic() >= next_report:
                    next_report += 15
                    progress(started, offered)
            futures.append(pool.submit(job))
        for future in futures:
            error = future.exception()
            if error is not None:
                with offered.lock:
                    offered.errors.append(f"learner thread: {type(error).__name__}: {error}")
    fault_thread.join()
    progress(started, offered)


def progress(started: float, offered: Offered) -> None:
    with offered.lock:
        log(
            f"+{time.monotonic() - started:5.0f} s offered: {len(offered.code_quiz)} quiz code, "
            f"{len(offered.code_practice)} practice code, {len(offered.quiz_submits)} quiz "
            f"submits; answers {dict(sorted(offered.statuses.items()))}"
        )


def settle(seconds: float, lms: FakeLms) -> float | None:
    """Wait until nothing is outstanding (return how long that took) or the deadline."""
    started = time.monotonic()
    last = 0.0
    while True:
        left = outstanding(lms)
        elapsed = time.monotonic() - started
        if not any(left.values()):
            log(f"settled {elapsed:.0f} s after the offering ended: nothing outstanding")
            return elapsed
        if elapsed > seconds:
            log(f"NOT settled after {seconds:.0f} s: {left}")
            return None
        if elapsed - last >= 10 or last == 0.0:
            last = elapsed or 0.001
            log(f"settling +{elapsed:4.0f} s, outstanding: {left}")
        time.sleep(1.0)


def report(
    args: argparse.Namespace,
    seed: int,
    database: str,
    figures: dict[str, Any],
    faults: Faults,
    offered: Offered,
    settled: float | None,
    seconds: float,
) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print()
    print(f"Machine:  {cores} cores, {cpu_model()}, {platform.platform()}")
    print(f"Python:   {platform.python_version()}; {database}")
    print(
        "Service:  gunicorn sync x4; 2 Celery workers x "
        f"{args.concurrency} prefork processes (queues grader,default) + beat; Redis of the run's "
        "own, no persistence"
    )
    print("Settings: " + ", ".join(f"{k}={v}" for k, v in CHAOS_SETTINGS.items()))
    print(
        f"Faults:   {faults.kills_main + faults.kills_pool} kill -9 of a worker "
        f"({faults.kills_main} main process with its group, {faults.kills_pool} pool process, "
        f"{faults.kills_grading} of them caught grading), "
        f"{faults.worker_restarts} restarts ({faults.unexpected_exits} after a worker exited "
        f"of itself); {faults.redis_restarts} Redis kill -9 and empty "
        f"restart; pg_terminate_backend of {faults.backends_terminated} worker connections; "
        f"LMS answering 500 or timing out for {OUTAGE_SECONDS:.0f} s"
    )
    for line in faults.events:
        print(f"          {line}")
    settled_text = f"{settled:.0f} s" if settled is not None else f"NOT within {args.settle:.0f} s"
    print(
        f"Settled:  {settled_text} after the offering ended; whole run {seconds:.0f} s, seed {seed}"
    )
    if offered.errors:
        print("Learner-visible errors (first ones):")
        for line in offered.errors[:10]:
            print(f"          {line}")
    print()
    print("| what | figure |")
    print("|---|---|")
    for key, value in figures.items():
        if key not in ("LOST", "STUCK", "DUPLICATES"):
            print(f"| {key} | {value} |")
    print(
        f"| **aim: 0 lost, 0 stuck, 0 duplicates** | **{figures['LOST']} lost, "
        f"{figures['STUCK']} stuck, {figures['DUPLICATES']} duplicates** |"
    )
    print("\nFor the README:\n")
    print("| what | figure |")
    print("|---|---|")
    for key, value in readme_rows(figures, faults, settled, args.settle):
        print(f"| {key} | {value} |")
    print(
        "\nDuplicates count a submission graded twice, a verdict or score applied twice, a "
        "practice step moved on twice, a second webhook delivery (a new event id) for one score. "
        "An event id received again is the webhooks' at-least-once (a timed-out or "
        "interrupted try is sent again with the same X-Quiz-Delivery, which receivers skip): "
        "reported, not counted."
    )
    print(
        json.dumps(
            {
                "benchmark": "chaos",
                "seed": seed,
                "settled_seconds": None if settled is None else round(settled),
                "faults": {
                    "kills_main": faults.kills_main,
                    "kills_pool": faults.kills_pool,
                    "kills_pool_grading": faults.kills_grading,
                    "redis_restarts": faults.redis_restarts,
                    "backends_terminated": faults.backends_terminated,
                    "worker_exits_unasked": faults.unexpected_exits,
                },
                **{key: value for key, value in figures.items()},
            }
        )
    )
    if figures["LOST"] or figures["STUCK"] or figures["DUPLICATES"]:
        for path in sorted(VAR_DIR.glob("*.log")):
            print(f"\nLast lines of {path}:\n{tail(path, 15)}")


def readme_rows(
    figures: dict[str, Any], faults: Faults, settled: float | None, settle: float
) -> list[tuple[str, str]]:
    """The run's figures in a few rows: the README's table."""
    f = figures
    return [
        (
            "faults",
            f"{faults.kills_main + faults.kills_pool} kill -9 of a worker ({faults.kills_main} "
            f"main process + group, {faults.kills_pool} pool process, {faults.kills_grading} "
            "of them caught grading), "
            f"{faults.unexpected_exits} worker exit(s) unasked; Redis killed and restarted empty "
            f"{faults.redis_restarts}x; {faults.backends_terminated} worker connection(s) "
            f"terminated; LMS 500/timeout for {OUTAGE_SECONDS:.0f} s",
        ),
        (
            "code submissions: offered / saved / graded exactly once / twice / stuck / lost",
            f"{f['code offered']} / {f['submissions saved']} / {f['graded exactly once']} / "
            f"{f['graded twice or more']} / {f['submissions stuck (no verdict)']} / "
            f"{f['code lost (acknowledged, no row)']}",
        ),
        (
            "verdicts: passed / failed / error / timeout",
            f["verdicts (passed / failed / error / timeout)"],
        ),
        (
            "claims of a submission beyond its first (a grading cut short, sent again)",
            str(f["claims beyond the first (redelivered after a fault)"]),
        ),
        (
            "quiz-slot consumer: applied exactly once / twice / lost",
            f"{f['quiz-slot: verdicts applied exactly once']} / "
            f"{f['quiz-slot: duplicated']} / {f['quiz-slot: lost']}",
        ),
        (
            "practice-step consumer: applied exactly once / twice / lost",
            f"{f['practice-step: verdicts applied exactly once']} / "
            f"{f['practice-step: duplicated']} / {f['practice-step: lost']}",
        ),
        (
            "practice steps moved on exactly once / twice / stuck",
            f"{f['practice steps moved on exactly once']} / "
            f"{f['practice steps moved on twice or more']} / {f['practice steps stuck']}",
        ),
        (
            "code slots whose mark is not their latest verdict's",
            str(f["code slots whose mark is not their latest verdict's"]),
        ),
        (
            "quiz submissions: offered / acknowledged / lost",
            f"{f['quiz submissions offered']} / {f['quiz submissions acknowledged']} / "
            f"{f['quiz submissions lost (acknowledged, not submitted)']}",
        ),
        (
            "scores to the LMS's webhooks: recorded / handed on / twice / lost",
            f"{f['lms-webhooks: scores recorded (armings)']} / {f['lms-webhooks: handed on']} / "
            f"{f['lms-webhooks: handed on twice for one score']} / {f['lms-webhooks: lost']}",
        ),
        (
            "webhook deliveries: made / beyond one per score / delivered / failed / pending",
            f"{f['webhook deliveries made']} / "
            f"{f['webhook deliveries beyond one per score handed on']} / "
            f"{f['webhooks delivered / failed / pending']}",
        ),
        (
            "LMS: distinct events received / expected / never received",
            f"{f['LMS: distinct events received / expected']} / {f['LMS: events never received']}",
        ),
        (
            "LMS: requests (500 / timed out / 2xx); events received again, same id",
            f"{f['LMS: requests received in all']} ({f['LMS: answered 500 / timed out / 2xx']}); "
            f"{f['LMS: events received more than once (retries, same event id)']}",
        ),
        (
            "LMS: attempts whose latest score is not the attempt's",
            str(f["LMS: attempts whose latest score is not the attempt's"]),
        ),
        (
            "learner requests answered 5xx or not at all",
            str(f["learner requests answered 5xx or not at all"]),
        ),
        (
            "settled (nothing outstanding) after the offering ended",
            f"{settled:.0f} s" if settled is not None else f"not within {settle:.0f} s",
        ),
        (
            "**aim: 0 lost, 0 stuck, 0 duplicates**",
            f"**{f['LOST']} lost, {f['STUCK']} stuck, {f['DUPLICATES']} duplicates**",
        ),
    ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        raise SystemExit(main())
    except BenchError as failure:
        print(f"Chaos run failed: {failure}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("Interrupted; the service's processes were stopped.", file=sys.stderr)
        raise SystemExit(130) from None
