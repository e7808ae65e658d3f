"""Benchmark: simulated learners answering the dropout pre-test over HTTP on loopback.

Run it with `make bench` (SQLite) or `DATABASE_URL=postgres://... make bench`, options through
BENCH_ARGS (e.g. `make bench BENCH_ARGS="--learners 20 --timeline"`; see --help). It is a
benchmark, not a test: pytest never collects it. What it does:

1. Prepares a database of its own: with DATABASE_URL pointing at PostgreSQL it drops and
   re-creates the database `quiz_bench` on that server (never touching the database named in
   the URL); without DATABASE_URL it uses a fresh SQLite file, var/bench.sqlite3.
2. Runs `migrate`, `collectstatic` and `load_catalog` with a production-style environment
   (DEBUG off, a SECRET_KEY, ALLOWED_HOSTS, plain-HTTP cookies) and creates the learners.
3. Starts gunicorn on a free loopback port (configuration and why: DEFAULT_WORKER_CLASS).
4. Lets every learner, each in a thread of its own with an `http.client` connection, log in
   through the login page, start the pre-test and read the attempt from the API (not timed);
   then, all at once and pausing about --think-ms before each request: open each question
   page and autosave its answer --passes times through
   `PUT /api/v1/attempts/{id}/responses/{slot}/` (as question.js does while a learner
   changes the answer and the confidence), and finally submit the attempt.
5. Prints count, errors, requests/s and p50/p95/p99 latency per kind of request, where the
   CPU went (and a warning when other processes competed for it), checks in the database
   that every attempt was submitted and every question answered, and prints a README table
   row and a last line of JSON with the answering figures.

The exit status is 1 when anything failed (a non-2xx/3xx status, no answer, a missing answer
in the database), 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:  # run as a file: make `quizsite` importable
    sys.path.insert(0, str(BASE_DIR))

VAR_DIR = BASE_DIR / "var"
SQLITE_PATH = VAR_DIR / "bench.sqlite3"
GUNICORN_LOG = VAR_DIR / "bench-gunicorn.log"
ACCESS_LOG = VAR_DIR / "bench-access.log"
WORKER_LOG = VAR_DIR / "bench-celery-worker.log"
# The default queue's worker runs below the web workers, as the README's deployment says.
WORKER_NICE = 10
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s %(p)s"  # method, path, status, microseconds, pid
BENCH_DATABASE = "quiz_bench"
QUIZ_SLUG = "dropout-pretest"
PASSWORD = "bench-learner-password"
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0  # seconds; a timed request slower than this counts as an error
SETUP_TIMEOUT = 120.0  # seconds, for the logins and quiz starts before timing begins

# Gunicorn on 2 cores, chosen with this script's --worker-class/--workers/--threads/--keep-alive
# on PostgreSQL. A request costs 10-13 ms of CPU-bound Python, so the cores are the limit.
# Capacity (30 learners, --think-ms 0), requests/s:
#   gthread 4x2 keep-alive 75s:  88  (one worker served 100% of the requests: the kernel
#                                     hands the connections to the worker that is awake, a
#                                     kept-alive connection stays there, and its threads share
#                                     one GIL, so 1 of 2 cores works)
#   gthread 3x2 keep-alive 5s:  100  (one worker served 93%)
#   gthread 4x2 no keep-alive:   99      gthread 2x2 no keep-alive: 121
#   sync 3: 135   sync 4: 117   sync 5: 111   sync 6: 132   (+-15% from run to run)
# At the default load (100 learners, 1 s think time) answer p95 in ms: sync 4: 74-418 over 5
# runs, sync 3: 95/342, sync 5: 245, sync 2: 561, gthread 4x2 no keep-alive: 172, gthread 2x4
# no keep-alive: 615. Sync workers (a process per request, the connection closed after each
# response, as behind a buffering reverse proxy) spread the load evenly; 4 of them (2 per
# core) leave slack for requests that wait on a lock or on PostgreSQL.
DEFAULT_WORKER_CLASS = "sync"
DEFAULT_WORKERS = 4
DEFAULT_THREADS = 1
DEFAULT_KEEPALIVE = 0
# Learners pause before each request (mean, +-50%): a class answering in compressed time,
# about one autosave per learner and second. 0 measures the server's capacity instead: every
# learner fires its next request as soon as the last returns, so latency is mostly queueing.
DEFAULT_THINK_MS = 1000.0

KINDS = ("answer", "page", "submit", "login")
KIND_LABELS = {
    "answer": "answer  PUT /api/v1/attempts/{id}/responses/{slot}/",
    "page": "page    GET /attempts/{id}/questions/{slot}/",
    "submit": "submit  POST /api/v1/attempts/{id}/submit/",
    "login": "login   POST /accounts/login/ (--login-storm)",
}
# The aims of issue 15: what `--capacity` counts as a learner load served.
ANSWER_P95_AIM_MS = 50.0
SUBMIT_P95_AIM_MS = 100.0
EXPLANATION = (
    "Dropout zeroes a random subset of units on every training step, so no unit can rely "
    "on particular others; at test time every unit is kept and activations are scaled so "
    "their expected value matches training. It acts like averaging many thinned networks."
)


class BenchError(Exception):
    """The benchmark could not be set up or run."""


# ---------------------------------------------------------------- environment and database


def server_env(database_url: str) -> dict[str, str]:
    """Return the environment of every Django process of the run: production-style."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "quizsite.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_COOKIES": "false",
            # Plain HTTP on loopback, no proxy in front: no HTTPS redirect, REMOTE_ADDR.
            "SECURE_SSL_REDIRECT": "false",
            "TRUSTED_PROXY_COUNT": "0",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


# SQLite behind several server processes: with DEFERRED transactions (Django's default) an
# atomic block that reads and then writes cannot upgrade its lock while another process
# writes, and fails at once with "database is locked" (HTTP 500: 64 of 116 answers with 5
# learners). quizsite/settings.py now makes SQLite transactions IMMEDIATE (wait up to 20 s
# for the write lock), so the benchmark uses the app's settings as they are. --sqlite-wal adds
# what an operator would add next: the WAL journal, so readers run beside the writer.
SQLITE_WAL_OPTIONS = {"init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL"}


def prepare_database(*, sqlite_wal: bool = False, name: str = BENCH_DATABASE) -> tuple[str, str]:
    """Create an empty database for the run; return its URL and a description of it.

    On PostgreSQL it is the database `name` on DATABASE_URL's server, dropped and made anew."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if not configured:
        VAR_DIR.mkdir(exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        import sqlite3

        url = f"sqlite:///{SQLITE_PATH}"
        options = "the app's options"
        if sqlite_wal:
            url += "?" + urlencode(SQLITE_WAL_OPTIONS)
            options += " + WAL journal, synchronous=NORMAL"
        return url, f"SQLite {sqlite3.sqlite_version} ({SQLITE_PATH}, {options})"
    if not is_postgres(configured):
        raise BenchError(
            f"DATABASE_URL {urlsplit(configured).scheme}://... is neither PostgreSQL nor "
            "unset (SQLite); the benchmark only knows how to make a private database for those."
        )
    import psycopg
    from psycopg import sql

    parts = urlsplit(configured)
    named = parts.path.lstrip("/")
    if named == name:
        raise BenchError(f"DATABASE_URL already names {name}; point it at another one.")
    bench_url = urlunsplit(parts._replace(path="/" + name))
    maintenance = None
    last_error: Exception | None = None
    for candidate in ("postgres", "template1"):
        try:
            maintenance = psycopg.connect(
                urlunsplit(parts._replace(scheme="postgresql", path="/" + candidate, query="")),
                autocommit=True,
                connect_timeout=10,
            )
            break
        except psycopg.OperationalError as error:
            last_error = error
    if maintenance is None:
        raise BenchError(f"Cannot reach PostgreSQL's maintenance database: {last_error}")
    with maintenance:
        identifier = sql.Identifier(name)
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
        row = maintenance.execute("SHOW server_version").fetchone()
    version = row[0] if row else "?"
    where = f"{parts.hostname}:{parts.port or 5432}"
    return bench_url, (
        f"PostgreSQL {version} at {where}, database {name} "
        f"(created for the run; DATABASE_URL's database {named!r} is not touched)"
    )


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> None:
    """Run one management command; stop the benchmark with its output when it fails."""
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    done = subprocess.run(
        command, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


CREATE_LEARNERS = """
import sys
import django
django.setup()
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
count, password = int(sys.argv[1]), sys.argv[2]
encoded = make_password(password)  # the default hasher, hashed once and shared by all
User.objects.bulk_create(
    User(username=f"bench-learner-{i:03d}", password=encoded) for i in range(count)
)
"""


CHECK_ATTEMPTS = """
import json
import django
django.setup()
from assessments.models import Attempt, Response
print(json.dumps({
    "submitted": Attempt.objects.filter(
        learner__username__startswith="bench-learner-", state=Attempt.State.SUBMITTED
    ).count(),
    "answered": Response.objects.filter(
        attempt__learner__username__startswith="bench-learner-", answered_at__isnull=False
    ).count(),
    "responses": Response.objects.filter(
        attempt__learner__username__startswith="bench-learner-"
    ).count(),
}))
"""


def check_attempts(env: dict[str, str]) -> dict[str, int]:
    """Count, in the database, what the learners left behind: did every answer land?"""
    done = subprocess.run(
        [sys.executable, "-c", CHECK_ATTEMPTS],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise BenchError(f"Checking the attempts failed:\n{done.stderr}")
    counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def create_learners(env: dict[str, str], count: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CREATE_LEARNERS, str(count), PASSWORD],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise BenchError(f"Creating the learners failed:\n{done.stderr}")
    return [f"bench-learner-{i:03d}" for i in range(count)]


# ------------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class ServerConfig:
    worker_class: str
    workers: int
    threads: int
    keepalive: int
    access_log: bool = False
    app: str = "quizsite.wsgi:application"
    reuse_port: bool = False
    nice: int = 0  # a login pool runs below the answering workers' CPU priority
    idle: bool = False  # ...or only on cores nothing else wants (SCHED_IDLE)

    def describe(self) -> str:
        app = "" if self.app == "quizsite.wsgi:application" else f", app {self.app}"
        app += ", a SO_REUSEPORT socket per worker" if self.reuse_port else ""
        if self.worker_class == "sync":  # gunicorn's sync worker closes after each response
            return f"gunicorn sync: {self.workers} workers, no keep-alive{app}"
        keepalive = f"keep-alive {self.keepalive}s" if self.keepalive else "no keep-alive"
        return (
            f"gunicorn gthread: {self.workers} workers x {self.threads} threads, {keepalive}{app}"
        )

    def describe_pool(self) -> str:
        if self.idle:
            return f"{self.describe()}, SCHED_IDLE"
        return f"{self.describe()}, nice {self.nice}" if self.nice else self.describe()


def _die_with_parent(nice: int = 0, idle: bool = False) -> None:
    """In the child, before exec: get SIGTERM if the benchmark itself dies (Linux only)."""
    if nice:
        os.nice(nice)
    if idle:  # as `chrt --idle 0 gunicorn …` would
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a server started in its own session, then SIGKILL its group after 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def celery_worker(env: dict[str, str], nice: int = WORKER_NICE) -> Iterator[int]:
    """Run a Celery worker of the default queue (what a submit enqueues: the analytics'
    pending attempts, score passbacks) for the block, below the web workers' CPU priority
    as the README's deployment runs it; yield its pid."""
    binary = Path(sys.executable).parent / "celery"
    command = [
        str(binary), "-A", "quizsite", "worker", "-Q", "default",
        "--pool", "solo", "--concurrency", "1", "-n", f"bench-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]  # fmt: skip
    WORKER_LOG.parent.mkdir(exist_ok=True)
    log = WORKER_LOG.open("w")
    process = subprocess.Popen(
        command,
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=(lambda: _die_with_parent(nice)) if sys.platform == "linux" else None,
    )
    try:
        time.sleep(1.0)
        if process.poll() is not None:
            raise BenchError(f"the Celery worker exited at start:\n{tail(WORKER_LOG)}")
        yield process.pid
    finally:
        _stop(process)
        log.close()


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], config: ServerConfig, log_path: Path = GUNICORN_LOG
) -> Iterator[tuple[int, int]]:
    """Run gunicorn on a free loopback port for the block; yield its pid and port."""
    port = free_port()
    binary = Path(sys.executable).parent / "gunicorn"
    command = [
        str(binary),
        config.app,
        "--bind", f"{HOST}:{port}",
        "--chdir", str(BASE_DIR),
        "--worker-class", config.worker_class,
        "--workers", str(config.workers),
        # gunicorn quietly turns sync into gthread when threads > 1
        "--threads", str(config.threads if config.worker_class == "gthread" else 1),
        "--keep-alive", str(config.keepalive),
        "--backlog", "2048",
        "--timeout", "60",
        "--log-level", "warning",
    ]  # fmt: skip
    if config.reuse_port:
        command.append("--reuse-port")
    usage = subprocess.run(
        [str(binary), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    if "--no-control-socket" in usage:  # gunicorn 24+: no socket in ~/.gunicorn for a bench
        command.append("--no-control-socket")
    if config.access_log:
        ACCESS_LOG.unlink(missing_ok=True)
        command += ["--access-logfile", str(ACCESS_LOG), "--access-logformat", ACCESS_FORMAT]
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        preexec_fn=(lambda: _die_with_parent(config.nice, config.idle))
        if sys.platform == "linux"
        else None,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise BenchError(f"gunicorn exited at start:\n{tail(log_path)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                probe = http.client.HTTPConnection(HOST, port, timeout=2)
                probe.request("GET", "/accounts/login/")
                status = probe.getresponse().status
                probe.close()
                if status == 200:
                    break
                raise BenchError(f"gunicorn answers {status} to the login page:\n{tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer within 30s:\n{tail(log_path)}")
            time.sleep(0.1)
        yield process.pid, port
    finally:
        _stop(process)
        log.close()


def tail(path: Path = GUNICORN_LOG, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------------- CPU accounting


def process_ticks() -> dict[int, tuple[str, int, int, int]]:
    """Every process's name, parent, CPU ticks and the ticks of its exited children."""
    found: dict[int, tuple[str, int, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name, _, after = text.partition(" (")[2].rpartition(") ")
            fields = after.split()
            if len(fields) >= 15:
                ticks = int(fields[11]) + int(fields[12])
                reaped = int(fields[13]) + int(fields[14])
                found[int(entry.name)] = (name, int(fields[1]), ticks, reaped)
    return found


def busiest(
    before: dict[int, tuple[str, int, int, int]],
    after: dict[int, tuple[str, int, int, int]],
    ours: tuple[int, ...] = (),
) -> str:
    """The three processes, not ours, that used the most CPU between the two readings."""
    tick = os.sysconf("SC_CLK_TCK")
    mine = {os.getpid(), *ours}
    used = sorted(
        (
            (ticks - before.get(pid, (name, ppid, 0, 0))[2], name, pid)
            for pid, (name, ppid, ticks, _) in after.items()
            if pid not in mine and ppid not in mine and name != "postgres"
        ),
        reverse=True,
    )
    return ", ".join(f"{name} (pid {pid}) {t / tick:.1f} s" for t, name, pid in used[:3] if t > 0)


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far: by gunicorn, by PostgreSQL, by us, by the whole machine."""

    server: float
    postgres: float
    client: float
    busy: float
    total: float
    worker: float = 0.0  # the Celery worker of the default queue (analytics, passbacks)

    def __sub__(self, other: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            self.server - other.server,
            self.postgres - other.postgres,
            self.client - other.client,
            self.busy - other.busy,
            self.total - other.total,
            self.worker - other.worker,
        )

    @property
    def other(self) -> float:
        """CPU seconds of everything else: other people's jobs skew the figures."""
        return max(self.busy - self.server - self.postgres - self.client - self.worker, 0.0)


def _is_ours_postgres(pid: int, database: str = BENCH_DATABASE) -> bool:
    """A PostgreSQL process working for the benchmark: a backend connected to its database,
    or a shared one (WAL writer, checkpointer...). Other people's backends are not ours."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    is_backend = "(" in title or "[local]" in title
    return not is_backend or f" {database} " in title


def cpu_snapshot(
    server_pid: int | None = None, worker_pid: int | None = None, database: str = BENCH_DATABASE
) -> CpuSnapshot:
    """Read /proc: gunicorn is the server's process and its children; PostgreSQL is the
    postmaster with its exited children (so closed connections still count, whoever's they
    were), its helpers (WAL writer, checkpointer...) and the backends of our database."""
    tick = os.sysconf("SC_CLK_TCK")
    processes = process_ticks()
    server = postgres = worker = 0
    for pid, (name, ppid, ticks, reaped) in processes.items():
        if server_pid is not None and server_pid in (pid, ppid):
            server += ticks
        elif worker_pid is not None and worker_pid in (pid, ppid):
            worker += ticks + reaped
        elif name == "postgres":
            if processes.get(ppid, ("",))[0] != "postgres":  # the postmaster
                postgres += ticks + reaped
            elif _is_ours_postgres(pid, database):
                postgres += ticks
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    mine = os.times()
    return CpuSnapshot(
        server / tick,
        postgres / tick,
        mine.user + mine.system,
        (sum(values) - idle) / tick,
        sum(values) / tick,
        worker / tick,
    )


def print_cpu_use(
    cpu: CpuSnapshot,
    idle: CpuSnapshot,
    requests: int,
    seconds: float,
    *,
    postgres: bool,
    worker: bool = False,
    competitors: tuple[str, str] | None = None,
) -> None:
    """Where the CPU went during a timed run, and a warning when other processes competed for it.

    `idle` is a reading taken over two quiet seconds before the run; `competitors` names the
    processes, not ours, that used the most CPU before and during it.
    """
    per_request = 1000 / max(requests, 1)
    database = (
        f"PostgreSQL {cpu.postgres:.1f} s ({cpu.postgres * per_request:.1f} ms/request), "
        if postgres
        else ""
    )
    celery = f"Celery worker (nice {WORKER_NICE}) {cpu.worker:.1f} s, " if worker else ""
    print(
        f"CPU:       machine {100 * cpu.busy / max(cpu.total, 1e-9):.0f}% busy; gunicorn "
        f"{cpu.server:.1f} s ({cpu.server * per_request:.1f} ms/request), {database}{celery}"
        f"bench client {cpu.client:.1f} s, other processes {cpu.other:.1f} s"
    )
    if cpu.other > 0.15 * seconds or idle.busy > 0.15 * idle.total:
        print(
            "WARNING:   other processes were using the CPU (before the run: "
            f"{100 * idle.busy / max(idle.total, 1e-9):.0f}% busy; during it: "
            f"{cpu.other / max(seconds, 1e-9):.2f} cores); these figures understate the service."
        )
        if competitors:
            print(f"           busiest before: {competitors[0]}; during: {competitors[1]}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ------------------------------------------------------------------------------ learners


@dataclass
class Stats:
    """Latencies and errors of every timed request, shared by the learner threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    finished_at: list[tuple[float, float, str]] = field(default_factory=list)  # end, s, kind
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.finished_at.append((time.perf_counter(), seconds, kind))

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.samples) < 5:
                self.samples.append(f"[{kind}] {detail[:600]}")


@dataclass
class Reply:
    status: int
    location: str
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class RequestFailed(Exception):
    """A request got an unexpected status or no answer."""


class Browser:
    """One learner's keep-alive connection and cookie jar."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def set_timeout(self, seconds: float) -> None:
        self.connection.timeout = seconds
        if self.connection.sock is not None:
            self.connection.sock.settimeout(seconds)

    def close(self) -> None:
        self.connection.close()

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"Accept": "*/*", "User-Agent": "quiz-bench/1"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        for attempt in (1, 2):
            reused = self.connection.sock is not None
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection; a browser retries once.
                self.connection.close()
                if reused and attempt == 1:
                    continue
                raise
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Reply(response.status, response.getheader("Location", ""), data, seconds)
        raise AssertionError("unreachable")


def expect(reply: Reply, what: str, statuses: tuple[int, ...] = (200,)) -> Reply:
    if reply.status not in statuses:
        text = reply.body.decode(errors="replace").strip()
        raise RequestFailed(f"{what}: HTTP {reply.status} {reply.location} {text}")
    return reply


def answer_body(question: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Return a valid answer to the question, as question.js sends it."""
    kind, choices = question["type"], question["choices"]
    body: dict[str, Any] = {"confidence": rng.randint(0, 5), "seconds_spent": rng.randint(1, 40)}
    if kind in ("single", "truefalse"):
        body["choices"] = [rng.choice(choices)["id"]]
    elif kind == "multiple":
        picked = rng.sample(choices, min(len(choices), rng.randint(1, 2)))
        body["choices"] = [c["id"] for c in picked]
    elif kind == "twotier":
        body["choices"] = [
            rng.choice([c for c in choices if c["tier"] == tier])["id"] for tier in (1, 2)
        ]
    elif kind == "numeric":
        body["numeric_value"] = round(rng.uniform(0, 1000), 2)
    elif kind == "explain":
        words = EXPLANATION.split()
        body["text"] = " ".join(words[: rng.randint(len(words) // 2, len(words))])
    elif choices:  # a type this script does not know yet: pick one option
        body["choices"] = [rng.choice(choices)["id"]]
    return body


@dataclass
class Run:
    port: int
    learners: list[str]
    passes: int
    think: float
    stats: Stats
    barrier: threading.Barrier
    stop: threading.Event
    setup_failures: list[str] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)
    types: dict[str, int] = field(default_factory=dict)
    login_port: int = 0  # where the storm's logins go: the login pool's port, or `port`
    storm_seconds: float = 20.0


def log_in(browser: Browser, username: str, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person does; the browser keeps the session."""
    page = expect(browser.request("GET", "/accounts/login/"), "login page")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if token is None:
        raise RequestFailed("login page: no csrfmiddlewaretoken in the form")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token[1].decode()}
    login = browser.request(
        "POST",
        "/accounts/login/",
        body=urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    expect(login, "log in", (302,))
    if "sessionid" not in browser.cookies:
        raise RequestFailed("log in: no session cookie")


def learner_setup(browser: Browser, username: str) -> tuple[int, list[dict[str, Any]]]:
    """Log in, start the pre-test, open its first page, read its questions (not timed)."""
    log_in(browser, username)
    start = browser.request(
        "POST",
        f"/quizzes/{QUIZ_SLUG}/start/",
        body=urlencode({"csrfmiddlewaretoken": browser.csrf}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    expect(start, "start the quiz", (302,))
    found = re.search(r"/attempts/(\d+)/questions/1/", start.location)
    if found is None:
        raise RequestFailed(f"start the quiz: redirected to {start.location!r}")
    attempt_id = int(found[1])
    expect(browser.request("GET", f"/attempts/{attempt_id}/questions/1/"), "first question")
    detail = expect(browser.request("GET", f"/api/v1/attempts/{attempt_id}/"), "attempt API")
    questions: list[dict[str, Any]] = detail.json()["questions"]
    if not questions:
        raise RequestFailed("attempt API: the attempt has no questions")
    return attempt_id, questions


def timed(run: Run, kind: str, reply: Reply, statuses: tuple[int, ...] = (200,)) -> Reply:
    if reply.status in statuses:
        run.stats.ok(kind, reply.seconds)
    else:
        text = reply.body.decode(errors="replace").strip()
        run.stats.error(kind, f"HTTP {reply.status} {text}")
    return reply


def learner(run: Run, index: int) -> None:
    """One simulated learner: set up, wait for everyone, then answer and submit."""
    username = run.learners[index]
    rng = random.Random(index)
    # 100 logins at once queue behind the password hasher (~0.3 s of CPU each): be patient.
    browser = Browser(run.port, timeout=SETUP_TIMEOUT)
    ready = False
    try:
        attempt_id, questions = learner_setup(browser, username)
        ready = True
    except Exception as error:  # any failure is reported below
        with run.stats.lock:
            run.setup_failures.append(f"{username}: {type(error).__name__}: {error}"[:600])
    try:
        run.barrier.wait()
    except threading.BrokenBarrierError:
        return
    if not ready:
        browser.close()
        return
    browser.set_timeout(REQUEST_TIMEOUT)
    json_headers = {"X-CSRFToken": browser.csrf}
    kind = "page"
    try:
        for question in questions:
            slot = question["slot"]
            with run.stats.lock:
                run.types[question["type"]] = run.types.get(question["type"], 0) + 1
            kind = "page"
            # The first pause is 0-2x the think time, so the class does not start in step.
            spread = (0.0, 2.0) if slot == questions[0]["slot"] else (0.5, 1.5)
            if run.stop.wait(run.think * rng.uniform(*spread)):
                return
            timed(run, kind, browser.request("GET", f"/attempts/{attempt_id}/questions/{slot}/"))
            for _ in range(run.passes):
                if run.stop.wait(run.think * rng.uniform(0.5, 1.5)):
                    return
                kind = "answer"
                body = json.dumps(answer_body(question, rng)).encode()
                path = f"/api/v1/attempts/{attempt_id}/responses/{slot}/"
                reply = browser.request(
                    "PUT", path, body=body, content_type="application/json", headers=json_headers
                )
                timed(run, kind, reply)
        kind = "submit"
        if run.stop.wait(run.think * rng.uniform(0.5, 1.5)):
            return
        reply = browser.request(
            "POST", f"/api/v1/attempts/{attempt_id}/submit/", headers=json_headers
        )
        if timed(run, kind, reply).status == 200 and reply.json().get("state") != "submitted":
            run.stats.error(kind, f"submitted attempt is in state {reply.json().get('state')}")
    except Exception as error:  # counted as an error
        run.stats.error(kind, f"{username}: {type(error).__name__}: {error}")
    finally:
        with run.stats.lock:
            run.ended.append(time.perf_counter())
        browser.close()


def storm_login(run: Run, username: str, rng: random.Random) -> None:
    """One learner of a class arriving at once: log in at some moment of the storm, timed."""
    try:
        run.barrier.wait()
    except threading.BrokenBarrierError:
        return
    if run.stop.wait(rng.uniform(0, run.storm_seconds)):
        return
    browser = Browser(run.login_port or run.port, timeout=REQUEST_TIMEOUT)
    try:
        page = browser.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        form = {"username": username, "password": PASSWORD}
        form["csrfmiddlewaretoken"] = token[1].decode() if token else ""
        reply = browser.request(
            "POST",
            "/accounts/login/",
            body=urlencode(form).encode(),
            content_type="application/x-www-form-urlencoded",
        )
        timed(run, "login", reply, (302,))
    except Exception as error:  # counted as an error
        run.stats.error("login", f"{username}: {type(error).__name__}: {error}")
    finally:
        browser.close()


# ------------------------------------------------------------------------------- report


def percentile(ordered: list[float], fraction: float) -> float:
    """Linear-interpolated percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(stats: Stats, kind: str, seconds: float) -> dict[str, Any]:
    ordered = sorted(stats.latencies[kind])
    return {
        "count": len(ordered),
        "errors": stats.errors.get(kind, 0),
        "rps": len(ordered) / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p95_ms": percentile(ordered, 0.95) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else float("nan"),
    }


def kind_of(method: str, path: str) -> str | None:
    if method == "PUT" and "/responses/" in path:
        return "answer"
    if method == "GET" and re.fullmatch(r"/attempts/\d+/questions/\d+/", path):
        return "page"
    if method == "POST" and path.endswith("/submit/") and path.startswith("/api/"):
        return "submit"
    return None


def server_timing() -> list[str]:
    """Summarise the access log: time spent inside gunicorn per kind, requests per worker."""
    inside: dict[str, list[float]] = {kind: [] for kind in KINDS}
    per_worker: dict[str, int] = {}
    try:
        lines = ACCESS_LOG.read_text().splitlines()
    except OSError:
        return ["(no access log)"]
    for line in lines:
        parts = line.split()
        if len(parts) != 5:
            continue
        method, path, _status, micros, pid = parts
        kind = kind_of(method, path)
        if kind is None:
            continue
        inside[kind].append(int(micros) / 1e6)
        per_worker[pid] = per_worker.get(pid, 0) + 1
    out = []
    for kind in KINDS:
        ordered = sorted(inside[kind])
        out.append(
            f"  {kind:<7} inside gunicorn: p50 {percentile(ordered, 0.5) * 1000:6.1f} ms, "
            f"p95 {percentile(ordered, 0.95) * 1000:6.1f} ms, "
            f"p99 {percentile(ordered, 0.99) * 1000:6.1f} ms ({len(ordered)} requests)"
        )
    out.append(f"  timed requests per worker pid: {dict(sorted(per_worker.items()))}")
    return out


def during(stats: Stats, kind: str, start: float, end: float) -> list[float]:
    """Return the sorted latencies of the kind's requests that finished between start and end."""
    return sorted(s for at, s, k in stats.finished_at if k == kind and start <= at <= end)


def timeline(stats: Stats, started: float, seconds: float, window: float = 5.0) -> list[str]:
    """Requests/s and p95 latency of every request kind, window by window."""
    slots: dict[int, list[float]] = {}
    for end, latency, _kind in stats.finished_at:
        slots.setdefault(int((end - started) // window), []).append(latency)
    lines = []
    for index in sorted(slots):
        ordered = sorted(slots[index])
        width = max(min(window, seconds - index * window), 1e-3)  # the last one may be short
        lines.append(
            f"  {index * window:5.0f}-{(index + 1) * window:<4.0f}s {len(ordered) / width:6.1f} req/s"
            f"  p50 {percentile(ordered, 0.5) * 1000:7.1f} ms  p95 "
            f"{percentile(ordered, 0.95) * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"
        )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--learners", type=int, default=100, help="concurrent learners (100)")
    parser.add_argument(
        "--passes", type=int, default=3, help="autosaves per question and learner (3)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=DEFAULT_THINK_MS,
        help=f"mean pause of a learner before each request, in ms ({DEFAULT_THINK_MS:g}; "
        "0: as fast as possible, to measure capacity)",
    )
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default=DEFAULT_WORKER_CLASS,
        help=f"gunicorn's worker class ({DEFAULT_WORKER_CLASS})",
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"processes ({DEFAULT_WORKERS})"
    )
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="gthread only")
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=DEFAULT_KEEPALIVE,
        help="gthread only: seconds an idle connection stays open (0: close after each)",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="give each worker its own listening socket (SO_REUSEPORT; the kernel spreads "
        "new connections over them)",
    )
    parser.add_argument(
        "--app",
        default="quizsite.wsgi:application",
        help="the WSGI application gunicorn serves (to try a change without editing the app)",
    )
    parser.add_argument(
        "--timeline", action="store_true", help="print throughput and latency per 5 s window"
    )
    parser.add_argument(
        "--server-timing",
        action="store_true",
        help="log each request's time inside gunicorn and compare it with the client's",
    )
    parser.add_argument(
        "--sqlite-wal",
        action="store_true",
        help="SQLite in WAL mode (readers do not wait for the writer)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=170.0, help="stop the whole run after this many s"
    )
    parser.add_argument(
        "--login-storm",
        type=int,
        default=0,
        help="this many more learners log in while the class answers (a class arriving)",
    )
    parser.add_argument(
        "--login-storm-seconds",
        type=float,
        default=20.0,
        help="the storm's logins start at random within this many s of the timed phase (20)",
    )
    parser.add_argument(
        "--login-pool",
        type=int,
        default=0,
        help="serve the storm's logins from a second gunicorn of this many sync workers, "
        "as a proxy routing /accounts/login/ to a pool of its own would (0: the same pool)",
    )
    parser.add_argument(
        "--login-pool-nice",
        type=int,
        default=10,
        help="the login pool's CPU niceness: hashing yields the cores to answering (10)",
    )
    parser.add_argument(
        "--login-pool-idle",
        action="store_true",
        help="run the login pool under SCHED_IDLE instead: it hashes only on idle cores",
    )
    parser.add_argument(
        "--capacity",
        default="",
        help="comma-separated learner counts (e.g. 200,250,300,350,400): one run each, "
        f"then the most learners served at answer p95 <= {ANSWER_P95_AIM_MS:g} ms and submit "
        f"p95 <= {SUBMIT_P95_AIM_MS:g} ms",
    )
    args = parser.parse_args(argv)
    if args.learners < 1 or args.passes < 1 or args.workers < 1 or args.threads < 1:
        parser.error("--learners, --passes, --workers and --threads must be at least 1")
    if args.login_storm < 0 or args.login_pool < 0 or args.login_storm_seconds <= 0:
        parser.error("--login-storm and --login-pool take 0 or more, --login-storm-seconds > 0")
    try:
        args.capacity_steps = [int(n) for n in args.capacity.split(",") if n.strip()]
    except ValueError:
        parser.error("--capacity takes learner counts separated by commas, e.g. 200,300,400")
    if any(n < 1 for n in args.capacity_steps):
        parser.error("--capacity counts must be at least 1")
    return args


def capacity(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the benchmark once per learner count; report the most learners served within aim."""
    passed = []
    rows = []
    rest = [a for a in argv if not a.startswith("--capacity")]
    if "--capacity" in argv:  # "--capacity 200,300" as two words
        index = argv.index("--capacity")
        rest = argv[:index] + argv[index + 2 :]
    rest = [a for i, a in enumerate(rest) if not (a == "--learners" or rest[i - 1] == "--learners")]
    rest = [a for a in rest if not a.startswith("--learners=")]
    for count in args.capacity_steps:
        command = [sys.executable, __file__, *rest, "--learners", str(count)]
        print(f"--- {count} learners: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(done.stdout[-3000:], done.stderr[-3000:])
            rows.append((count, None))
            break
        result = json.loads(lines[-1])
        served = (
            result["errors"] == 0
            and result["answer_p95_ms"] is not None
            and result["answer_p95_ms"] <= ANSWER_P95_AIM_MS
            and (result["submit_p95_ms"] or 0) <= SUBMIT_P95_AIM_MS
        )
        rows.append((count, result))
        print(
            f"    answers/s {result['answer_rps']}, answer p95 {result['answer_p95_ms']} ms, "
            f"submit p95 {result['submit_p95_ms']} ms, CPU busy {result['machine_busy']}%, "
            f"errors {result['errors']}: {'served' if served else 'NOT served'}",
            flush=True,
        )
        if served:
            passed.append(count)
        elif passed or count != args.capacity_steps[0]:
            break  # more learners than this will not be served either
    print()
    print(
        "| learners | answers/s | answer p50 ms | answer p95 ms | submit p95 ms | CPU busy | served |"
    )
    print("|---|---|---|---|---|---|---|")
    for count, result in rows:
        if result is None:
            print(f"| {count} | run failed | | | | | no |")
            continue
        ok = result["errors"] == 0 and count in passed
        print(
            f"| {count} | {result['answer_rps']} | {result['answer_p50_ms']} | "
            f"{result['answer_p95_ms']} | {result['submit_p95_ms']} | "
            f"{result['machine_busy']}% | {'yes' if ok else 'no'} |"
        )
    best = max(passed, default=0)
    print(
        f"Capacity: {best} learners served at answer p95 <= {ANSWER_P95_AIM_MS:g} ms and submit "
        f"p95 <= {SUBMIT_P95_AIM_MS:g} ms (steps {args.capacity})"
    )
    print(json.dumps({"benchmark": "quiz_answering_capacity", "capacity": best}))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.capacity_steps:
        return capacity(args, argv)
    begun = time.monotonic()
    config = ServerConfig(
        args.worker_class,
        args.workers,
        args.threads,
        args.keep_alive,
        args.server_timing,
        args.app,
        args.reuse_port,
    )
    database_url, database = prepare_database(sqlite_wal=args.sqlite_wal)
    print(f"Database: {database}", flush=True)
    env = server_env(database_url)
    for command in (("migrate", "--no-input"), ("collectstatic", "--no-input"), ("load_catalog",)):
        manage(env, *command)
    accounts = create_learners(env, args.learners + args.login_storm)
    learners, storm = accounts[: args.learners], accounts[args.learners :]
    print(
        f"Prepared in {time.monotonic() - begun:.1f}s: migrated, static files collected, "
        f"catalog loaded, {len(learners)} learners created.",
        flush=True,
    )

    stats = Stats()
    run = Run(
        port=0,
        learners=learners,
        passes=args.passes,
        think=args.think_ms / 1000,
        stats=stats,
        barrier=threading.Barrier(len(learners) + len(storm) + 1),
        stop=threading.Event(),
        storm_seconds=args.login_storm_seconds,
    )
    before_idle, processes_before = cpu_snapshot(), process_ticks()
    time.sleep(2.0)
    idle_check = cpu_snapshot() - before_idle
    idle_busiest = busiest(processes_before, process_ticks())
    login_config = ServerConfig(
        "sync",
        args.login_pool,
        1,
        0,
        nice=0 if args.login_pool_idle else args.login_pool_nice,
        idle=args.login_pool_idle,
    )
    with contextlib.ExitStack() as servers:
        server_pid, port = servers.enter_context(gunicorn(env, config))
        worker_pid = servers.enter_context(celery_worker(env))
        if args.login_pool:
            run.login_port = servers.enter_context(
                gunicorn(env, login_config, VAR_DIR / "bench-gunicorn-login.log")
            )[1]
        run.port = port
        threads = [
            threading.Thread(target=learner, args=(run, i), name=f"learner-{i}", daemon=True)
            for i in range(len(learners))
        ] + [
            threading.Thread(
                target=storm_login,
                args=(run, name, random.Random(f"storm-{i}")),
                name=f"storm-{i}",
                daemon=True,
            )
            for i, name in enumerate(storm)
        ]
        setup_started = time.monotonic()
        for thread in threads:
            thread.start()
        remaining = args.time_limit - (time.monotonic() - begun)
        try:
            run.barrier.wait(timeout=max(remaining, 1))
        except threading.BrokenBarrierError:
            run.stop.set()
            raise BenchError("The learners did not all log in and start in time.") from None
        started = time.perf_counter()
        setup_seconds = time.monotonic() - setup_started
        cpu_before, processes_before = cpu_snapshot(server_pid, worker_pid), process_ticks()
        deadline = begun + args.time_limit
        for thread in threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        timed_out = any(thread.is_alive() for thread in threads)
        if timed_out:
            run.stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT + 5)
        finished = max(run.ended) if run.ended else time.perf_counter()
        cpu = cpu_snapshot(server_pid, worker_pid) - cpu_before
        run_busiest = busiest(processes_before, process_ticks(), (server_pid,))
    seconds = finished - started
    stored = check_attempts(env)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    results = {kind: figures(stats, kind, seconds) for kind in KINDS}
    all_count = sum(r["count"] for r in results.values())
    errors = sum(stats.errors.values()) + len(run.setup_failures)

    print()
    print(f"Machine:   {cores} cores (nproc), {cpu_model()}, {platform.platform()}")
    print(f"Python:    {platform.python_version()}, {_versions()}")
    print(f"Database:  {database}")
    print(f"Server:    {config.describe()}, DEBUG off, on {HOST}")
    think = f"think time {args.think_ms:g} ms (+-50%)" if args.think_ms else "no think time"
    print(
        f"Load:      {len(learners)} concurrent learners (a thread and an http.client "
        f"connection each), {sum(run.types.values()) // max(len(learners), 1)} questions each, "
        f"{args.passes} autosaves per question, {think}"
    )
    print(f"Questions: {dict(sorted(run.types.items()))}")
    print(f"Setup:     {len(learners)} logins + quiz starts took {setup_seconds:.1f}s (not timed)")
    print(
        f"Timed:     {seconds:.1f}s, {all_count} requests, {all_count / max(seconds, 1e-9):.0f} "
        "requests/s in all"
    )
    per_request = 1000 / max(all_count, 1)
    print_cpu_use(
        cpu,
        idle_check,
        all_count,
        seconds,
        postgres=is_postgres(database_url),
        worker=True,
        competitors=(idle_busiest, run_busiest),
    )
    print()
    header = f"{'request':<52} {'count':>6} {'errors':>6} {'req/s':>7} "
    header += f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    print(header)
    print("-" * len(header))
    for kind in KINDS:
        r = results[kind]
        print(
            f"{KIND_LABELS[kind]:<52} {r['count']:>6} {r['errors']:>6} {r['rps']:>7.1f} "
            f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f}"
        )
    print()
    storm_answers: list[float] = []
    if storm:
        logins = sorted(at for at, _s, kind in stats.finished_at if kind == "login")
        storm_end = logins[-1] if logins else started + args.login_storm_seconds
        storm_answers = during(stats, "answer", started, storm_end)
        calm = during(stats, "answer", storm_end, float("inf"))
        pool = (
            f"a login pool ({login_config.describe_pool()})" if args.login_pool else "the same pool"
        )
        print(
            f"Storm:     {len(storm)} logins on {pool} over {storm_end - started:.1f}s; "
            f"answers meanwhile: {len(storm_answers)}, p50 "
            f"{percentile(storm_answers, 0.5) * 1000:.1f} ms, p95 "
            f"{percentile(storm_answers, 0.95) * 1000:.1f} ms; after it: p95 "
            f"{percentile(calm, 0.95) * 1000:.1f} ms"
        )
        print()
    if args.timeline:
        print("Timeline (all timed requests, by when they finished):")
        print("\n".join(timeline(stats, started, seconds)))
        print()
    if args.server_timing:
        print("Server-side timing (gunicorn access log, whole run):")
        print("\n".join(server_timing()))
        print()
    if run.setup_failures:
        print(f"Setup failures ({len(run.setup_failures)}):")
        for line in run.setup_failures[:5]:
            print("  " + line)
    if stats.samples:
        print(f"Errors ({sum(stats.errors.values())}), first ones:")
        for line in stats.samples:
            print("  " + line)
    expected = stored["responses"]  # every question of every attempt
    print(
        f"Check:     in the database, {stored['submitted']} of {len(learners)} attempts are "
        f"submitted and {stored['answered']} of {stored['responses']} responses answered"
    )
    if stored["submitted"] != len(learners) or stored["answered"] != expected:
        print(f"           (expected {len(learners)} submitted and {expected} answered)")
        errors += 1
    if timed_out:
        print(f"The run hit --time-limit {args.time_limit:g}s; unfinished learners were stopped.")
        errors += 1
    if errors:
        print(f"\nLast lines of {GUNICORN_LOG}:\n{tail()}")
    answer = results["answer"]
    vendor = "postgresql" if is_postgres(database_url) else "sqlite"
    think_cell = f"{args.think_ms:g} ms" if args.think_ms else "none"
    print("\nFor the README's benchmark table (answering a question, PUT of the autosave API):")
    print("| database | server | learners | think time | answers/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {vendor} | {config.describe()} | {len(learners)} | {think_cell} | "
        f"{answer['rps']:.0f} | {answer['p50_ms']:.0f} | {answer['p95_ms']:.0f} | "
        f"{answer['p99_ms']:.0f} |"
    )
    print(
        json.dumps(
            {
                "benchmark": "quiz_answering",
                "database": vendor,
                "server": config.describe(),
                "cores": cores,
                "learners": len(learners),
                "think_ms": args.think_ms,
                "answer_count": answer["count"],
                "answer_errors": answer["errors"],
                "answer_rps": _rounded(answer["rps"]),
                "answer_p50_ms": _rounded(answer["p50_ms"]),
                "answer_p95_ms": _rounded(answer["p95_ms"]),
                "answer_p99_ms": _rounded(answer["p99_ms"]),
                "page_p95_ms": _rounded(results["page"]["p95_ms"]),
                "submit_p95_ms": _rounded(results["submit"]["p95_ms"]),
                "machine_busy": round(100 * cpu.busy / max(cpu.total, 1e-9)),
                "celery_worker_cpu_s": round(cpu.worker, 1),
                "gunicorn_cpu_ms_per_request": round(cpu.server * per_request, 2),
                "postgres_cpu_ms_per_request": round(cpu.postgres * per_request, 2),
                "login_storm": len(storm),
                "login_pool": args.login_pool,
                "login_p95_ms": _rounded(results["login"]["p95_ms"]),
                "answer_p95_during_storm_ms": _rounded(percentile(storm_answers, 0.95) * 1000),
                "errors": errors,
            }
        )
    )
    return 1 if errors else 0


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("Django", "djangorestframework", "gunicorn", "psycopg"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # stop gunicorn on `kill` too
    try:
        raise SystemExit(main())
    except BenchError as failure:
        print(f"Benchmark failed: {failure}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("Interrupted; gunicorn stopped.", file=sys.stderr)
        raise SystemExit(130) from None
