"""Benchmark: simulated learners in guided practice over HTTP on loopback, against gunicorn.

Run it with `make bench-practice` (PostgreSQL from DATABASE_URL, else SQLite), options through
BENCH_ARGS (see --help). A benchmark, not a test: pytest never collects it. It reuses
quiz_answering.py's database, server and client (the same production-style settings and
gunicorn), and:

1. makes its own database (`quiz_bench_practice` on DATABASE_URL's PostgreSQL server), loads
   the catalogue, creates the learners and a course they are enrolled in, whose post-test is
   the catalogue's (so its items are held back, as in a real course);
2. logs every learner in (not timed), then, all at once and pausing about --think-ms before
   each request, each starts practice and works through --answers steps as a learner does:
   open the step page, post the answer (a random option, number or explanation, and a
   random confidence), open the feedback; an explain-back also posts its self-check;
3. prints p50/p95 per step (start, step page, answer, feedback, self-check), then the queries
   of each practice answer, counted in a Django process on the same database with
   CaptureQueriesContext, and a last line of JSON.

Exit status 1 when a request failed, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:  # run as a file: make `tests` importable
    sys.path.insert(0, str(BASE_DIR))

from tests.benchmarks.quiz_answering import (  # noqa: E402
    DEFAULT_WORKERS,
    EXPLANATION,
    REQUEST_TIMEOUT,
    SETUP_TIMEOUT,
    VAR_DIR,
    BenchError,
    Browser,
    Reply,
    ServerConfig,
    busiest,
    cpu_model,
    cpu_snapshot,
    create_learners,
    gunicorn,
    is_postgres,
    log_in,
    manage,
    percentile,
    prepare_database,
    print_cpu_use,
    process_ticks,
    server_env,
)

BENCH_DATABASE = "quiz_bench_practice"
GUNICORN_LOG = VAR_DIR / "bench-practice-gunicorn.log"
COURSE_SLUG = "bench-practice"
KINDS = ("start", "page", "answer", "feedback", "self_check")
KIND_LABELS = {
    "start": "start      POST /practice/courses/{id}/start/",
    "page": "step page  GET /practice/courses/{id}/",
    "answer": "answer     POST /practice/steps/{id}/answer/",
    "feedback": "feedback   GET /practice/steps/{id}/feedback/",
    "self_check": "self-check POST /practice/steps/{id}/self-check/",
}

MAKE_COURSE = """
import sys
import django
django.setup()
from assessments.models import Quiz
from courses.models import Course, Enrollment
from django.contrib.auth.models import User
from django.db import transaction
with transaction.atomic():
    course = Course.objects.create(slug=sys.argv[1], title="Benchmark course")
    Quiz.objects.filter(slug="dropout-posttest").update(course=course, role=Quiz.Role.POST)
    for user in User.objects.filter(username__startswith="bench-learner-"):
        Enrollment.objects.create(course=course, learner=user)
print(course.id)
"""

# One learner more, answering in a Django process with its queries counted.
COUNT_QUERIES = """
import json, random, re, sys
import django
django.setup()
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from courses.models import Course, Enrollment
from practice.models import PracticeSession
course = Course.objects.get(slug=sys.argv[1])
answers = int(sys.argv[2])
from django.db import transaction
with transaction.atomic():
    user = User.objects.create(username="bench-counted")
    Enrollment.objects.create(course=course, learner=user)
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(user)
client.post(f"/practice/courses/{course.id}/start/")
session = PracticeSession.objects.get(course=course, learner=user, state="active")
rng = random.Random(7)
counts = []
while len(counts) < answers:
    step = session.steps.exclude(state="done").first()
    if step is None or step.question is None or step.question.qtype in ("explain", "code"):
        break
    choices = list(step.question.choices.all())
    data = {"confidence": rng.randint(0, 2)}
    if step.question.qtype == "numeric":
        data["numeric_value"] = rng.uniform(0, 1000)
    elif step.question.qtype == "twotier":
        for tier in (1, 2):
            data[f"choice-tier{tier}"] = rng.choice([c.id for c in choices if c.tier == tier])
    else:
        data["choice"] = rng.choice([c.id for c in choices])
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/practice/steps/{step.id}/answer/", data)
    assert response.status_code == 302, response.status_code
    counts.append(len(captured))
print(json.dumps(counts))
"""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, reply: Reply, statuses: tuple[int, ...]) -> Reply:
        with self.lock:
            if reply.status in statuses:
                self.latencies[kind].append(reply.seconds)
            else:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if len(self.samples) < 5:
                    text = reply.body.decode(errors="replace").strip()[:300]
                    self.samples.append(f"[{kind}] HTTP {reply.status} {reply.location} {text}")
        return reply


@dataclass
class Run:
    port: int
    course_id: int
    learners: list[str]
    answers: int
    think: float
    stats: Stats
    barrier: threading.Barrier
    stop: threading.Event
    setup_failures: list[str] = field(default_factory=list)


def _form(browser: Browser, body: dict[str, object]) -> tuple[bytes, str]:
    fields = {"csrfmiddlewaretoken": browser.csrf, **body}
    return urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"


def answer_of(page: str, rng: random.Random) -> dict[str, object]:
    """Return a random answer to the step page's question form."""
    body: dict[str, object] = {"confidence": rng.randint(0, 5), "seconds_spent": rng.randint(1, 40)}
    for name in ("choice", "choice-tier1", "choice-tier2"):
        options = re.findall(rf'name="{name}" value="(\d+)"', page)
        if options:
            body[name] = rng.choice(options)
    if 'name="numeric_value"' in page:
        body["numeric_value"] = round(rng.uniform(0, 1000), 2)
    if 'name="text"' in page:
        words = EXPLANATION.split()
        body["text"] = " ".join(words[: rng.randint(len(words) // 2, len(words))])
    return body


def learner(run: Run, index: int) -> None:
    """One learner: log in, wait for everyone, start practice and work through the steps."""
    rng = random.Random(index)
    browser = Browser(run.port, timeout=SETUP_TIMEOUT)
    try:
        log_in(browser, run.learners[index])
    except Exception as error:  # reported with the results
        with run.stats.lock:
            run.setup_failures.append(f"{run.learners[index]}: {error}"[:300])
        run.barrier.abort()
        return
    try:
        run.barrier.wait()
    except threading.BrokenBarrierError:
        return
    browser.set_timeout(REQUEST_TIMEOUT)
    stats, course = run.stats, f"/practice/courses/{run.course_id}/"

    def pause() -> bool:
        return run.stop.wait(run.think * rng.uniform(0.5, 1.5))

    try:
        if run.stop.wait(run.think * rng.uniform(0.0, 2.0)):
            return
        body, kind = _form(browser, {})
        start = browser.request("POST", course + "start/", body=body, content_type=kind)
        if stats.timed("start", start, (302,)).status != 302:
            return
        answered = 0
        while answered < run.answers:
            if pause():
                return
            page = stats.timed("page", browser.request("GET", course), (200,))
            html = page.body.decode(errors="replace")
            form = re.search(r'action="/practice/steps/(\d+)/(answer|self-check|code)/"', html)
            if page.status != 200 or form is None or form[2] == "code":
                return  # the session ended, or a code step (the grader is not running here)
            step_id, action = form[1], form[2]
            if pause():
                return
            if action == "self-check":
                ideas = re.findall(r'name="idea" value="(\d+)"', html)
                body, kind = _form(browser, {"idea": rng.sample(ideas, rng.randint(0, len(ideas)))})
                path = f"/practice/steps/{step_id}/self-check/"
                reply = stats.timed(
                    "self_check",
                    browser.request("POST", path, body=body, content_type=kind),
                    (302,),
                )
            else:
                body, kind = _form(browser, answer_of(html, rng))
                path = f"/practice/steps/{step_id}/answer/"
                reply = stats.timed(
                    "answer", browser.request("POST", path, body=body, content_type=kind), (302,)
                )
                answered += 1
            if reply.status != 302:
                return
            if "/feedback/" in reply.location:
                if pause():
                    return
                stats.timed("feedback", browser.request("GET", reply.location), (200,))
    except Exception as error:  # counted as an error
        with stats.lock:
            stats.errors["client"] = stats.errors.get("client", 0) + 1
            if len(stats.samples) < 5:
                stats.samples.append(f"{run.learners[index]}: {type(error).__name__}: {error}")
    finally:
        browser.close()


def _script(env: dict[str, str], code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"A setup script failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--learners", type=int, default=50, help="concurrent learners (50)")
    parser.add_argument("--answers", type=int, default=8, help="answers per learner (8)")
    parser.add_argument(
        "--think-ms", type=float, default=1000.0, help="mean pause before each request (1000)"
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn sync workers"
    )
    parser.add_argument("--time-limit", type=float, default=300.0, help="stop after this many s")
    args = parser.parse_args(argv)
    if args.learners < 1 or args.answers < 1 or args.workers < 1:
        parser.error("--learners, --answers and --workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    begun = time.monotonic()
    database_url, database = prepare_database(name=BENCH_DATABASE)
    print(f"Database: {database}", flush=True)
    env = server_env(database_url)
    for command in (("migrate", "--no-input"), ("collectstatic", "--no-input"), ("load_catalog",)):
        manage(env, *command)
    learners = create_learners(env, args.learners)
    course_id = int(_script(env, MAKE_COURSE, COURSE_SLUG))
    print(f"Prepared in {time.monotonic() - begun:.1f}s.", flush=True)
    stats = Stats()
    run = Run(
        port=0,
        course_id=course_id,
        learners=learners,
        answers=args.answers,
        think=args.think_ms / 1000,
        stats=stats,
        barrier=threading.Barrier(len(learners) + 1),
        stop=threading.Event(),
    )
    config = ServerConfig("sync", args.workers, 1, 0)
    idle_before, processes_before = cpu_snapshot(database=BENCH_DATABASE), process_ticks()
    time.sleep(2.0)
    idle = cpu_snapshot(database=BENCH_DATABASE) - idle_before
    idle_busiest = busiest(processes_before, process_ticks())
    with gunicorn(env, config, GUNICORN_LOG) as (server_pid, port):
        run.port = port
        threads = [
            threading.Thread(target=learner, args=(run, i), daemon=True)
            for i in range(len(learners))
        ]
        for thread in threads:
            thread.start()
        try:
            run.barrier.wait(timeout=max(args.time_limit - (time.monotonic() - begun), 1))
        except threading.BrokenBarrierError:
            run.stop.set()
            raise BenchError(f"Not every learner logged in: {run.setup_failures[:3]}") from None
        started = time.perf_counter()
        cpu_before = cpu_snapshot(server_pid, database=BENCH_DATABASE)
        processes_before = process_ticks()
        deadline = begun + args.time_limit
        for thread in threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        timed_out = any(thread.is_alive() for thread in threads)
        run.stop.set()
        seconds = time.perf_counter() - started
        cpu = cpu_snapshot(server_pid, database=BENCH_DATABASE) - cpu_before
        run_busiest = busiest(processes_before, process_ticks(), (server_pid,))
    counts: list[int] = json.loads(_script(env, COUNT_QUERIES, COURSE_SLUG, str(args.answers)))

    vendor = "postgresql" if is_postgres(database_url) else "sqlite"
    print()
    print(f"Database:  {database}")
    print(f"Server:    {config.describe()}, DEBUG off")
    print(
        f"Load:      {len(learners)} learners practising at once, up to {args.answers} answers "
        f"each, think time {args.think_ms:g} ms (+-50%); timed {seconds:.1f}s"
    )
    requests = sum(len(v) for v in stats.latencies.values())
    print(f"Machine:   {cpu_model()}; {requests} requests, {requests / max(seconds, 1e-9):.0f}/s")
    print_cpu_use(
        cpu,
        idle,
        requests,
        seconds,
        postgres=is_postgres(database_url),
        competitors=(idle_busiest, run_busiest),
    )
    header = f"{'step':<52} {'count':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
    print(header)
    print("-" * len(header))
    results = {}
    for kind in KINDS:
        ordered = sorted(stats.latencies[kind])
        results[kind] = {
            "count": len(ordered),
            "errors": stats.errors.get(kind, 0),
            "p50_ms": round(percentile(ordered, 0.5) * 1000, 1) if ordered else None,
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 1) if ordered else None,
        }
        top = f"{ordered[-1] * 1000:7.1f}" if ordered else f"{'-':>7}"
        p50 = results[kind]["p50_ms"]
        p95 = results[kind]["p95_ms"]
        print(
            f"{KIND_LABELS[kind]:<52} {len(ordered):>6} {results[kind]['errors']:>6} "
            f"{p50 if p50 is not None else '-':>7} {p95 if p95 is not None else '-':>7} {top}"
        )
    print(f"\nQueries per answer (one more learner, counted in Django): {counts}")
    errors = sum(stats.errors.values()) + len(run.setup_failures) + int(timed_out)
    for line in stats.samples:
        print("  " + line)
    if timed_out:
        print(f"The run hit --time-limit {args.time_limit:g}s.")
    print(
        json.dumps(
            {
                "benchmark": "practice",
                "database": vendor,
                "server": config.describe(),
                "learners": len(learners),
                "think_ms": args.think_ms,
                "steps": results,
                "queries_per_answer": counts,
                "queries_per_answer_max": max(counts, default=None),
                "machine_busy": round(100 * cpu.busy / max(cpu.total, 1e-9)),
                "gunicorn_cpu_ms_per_request": round(cpu.server * 1000 / max(requests, 1), 2),
                "postgres_cpu_ms_per_request": round(cpu.postgres * 1000 / max(requests, 1), 2),
                "other_cores": round(cpu.other / max(seconds, 1e-9), 2),
                "errors": errors,
            }
        )
    )
    return 1 if errors else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        raise SystemExit(main())
    except BenchError as failure:
        print(f"Benchmark failed: {failure}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("Interrupted; gunicorn stopped.", file=sys.stderr)
        raise SystemExit(130) from None
