"""Benchmark the grader: fresh interpreter vs warm fork, and end to end through Celery.

    make bench-grader                       # SQLite file, a private Redis
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 make bench-grader

(a) a fresh sandboxed interpreter per submission (bwrap + python + numpy, then the job);
(b) the warm path: one zygote, a forked child per submission;
for both, per-submission wall and CPU time (all processes of the sandbox), median and p99,
for a trivial plan (pure overhead) and for the dropout-forward check plan.
(c) end to end: submissions saved through the service, graded by real Celery workers over
Redis (`--workers N` instances with their own hostnames, as on N hosts, of `--concurrency C`
prefork processes each; default 1 x 2), with the CPU each kind of process spent: sustained throughput at saturation, and submit→verdict
latency at 20 submissions/s offered. The database for (c) is a separate one (a file, or a
`<name>_bench_grader` PostgreSQL database created and dropped here), never the test one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _tree_cpu(pid: int) -> float:
    """Return CPU seconds used by a process and all its descendants, dead ones included."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


TRIVIAL_CODE = "def echo(x):\n    return x\n"
TRIVIAL_PLAN = {"calls": [{"function": "echo", "args": [{"array": 0}]}]}


def sandbox_rows(count: int) -> list[dict[str, Any]]:
    """Measure (a) fresh interpreter and (b) warm fork, for a trivial and a real plan."""
    from grader.exercises import exercise_get
    from grader.sandbox.parent import Limits, SandboxParent

    forward = exercise_get("dropout-forward")
    plan = forward.plan(2024)
    jobs = {
        "trivial call": (TRIVIAL_CODE, TRIVIAL_PLAN, [np.ones(16)]),
        "dropout-forward checks": (forward.reference_source, {"calls": plan.calls}, plan.arrays),
    }
    rows = []
    for job_name, (code, job_plan, arrays) in jobs.items():
        # (a) fresh: a new sandbox (bwrap + interpreter + numpy) for every submission
        walls, cpus = [], []
        for _ in range(max(5, count // 10)):
            before = psutil.Process().cpu_times()
            start = time.perf_counter()
            parent = SandboxParent()
            parent.start()
            assert parent.process is not None
            outcome = parent.run(code, job_plan, arrays, Limits())
            cpu = _tree_cpu(parent.process.pid)
            parent.stop()
            walls.append((time.perf_counter() - start) * 1000)
            after = psutil.Process().cpu_times()
            cpus.append(
                cpu * 1000 + ((after.user + after.system) - (before.user + before.system)) * 1000
            )
            assert outcome.status == "finished", outcome
        rows.append(_row(f"(a) fresh interpreter, {job_name}", walls, [statistics.fmean(cpus)]))
        # (b) warm: one zygote, a fork per submission
        parent = SandboxParent()
        parent.start()
        assert parent.process is not None
        for _ in range(5):
            parent.run(code, job_plan, arrays, Limits())
        # CPU clocks tick every 10 ms, so CPU is the batch's total divided by its size.
        walls = []
        before_tree = _tree_cpu(parent.process.pid)
        before = psutil.Process().cpu_times()
        for _ in range(count):
            start = time.perf_counter()
            outcome = parent.run(code, job_plan, arrays, Limits())
            walls.append((time.perf_counter() - start) * 1000)
            assert outcome.status == "finished", outcome
        after = psutil.Process().cpu_times()
        tree = _tree_cpu(parent.process.pid) - before_tree
        mine = (after.user + after.system) - (before.user + before.system)
        cpus = [(tree + mine) * 1000 / count]
        parent.stop()
        rows.append(_row(f"(b) warm fork, {job_name}", walls, cpus))
    return rows


def _row(name: str, walls: list[float], cpus: list[float]) -> dict[str, Any]:
    return {
        "path": name,
        "n": len(walls),
        "wall_p50_ms": round(statistics.median(walls), 2),
        "wall_p99_ms": round(_percentile(walls, 99), 2),
        "cpu_mean_ms": round(statistics.fmean(cpus), 2),
    }


def _bench_database_url() -> tuple[str, str]:
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, name = configured.rpartition("/")
        bench_name = f"{name.split('?')[0]}_bench_grader"
        with psycopg.connect(configured, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
            connection.execute(f'CREATE DATABASE "{bench_name}"')
        return f"{base}/{bench_name}", "PostgreSQL"
    path = ROOT / "var" / "bench-grader.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}", "SQLite"


def _worker_command(index: int, concurrency: int) -> list[str]:
    """A grader worker as a host would run it: its own hostname, pool and zygotes."""
    return [
        sys.executable, "-m", "celery", "-A", "quizsite", "worker", "--queues", "grader",
        "--hostname", f"bench-grader-{index + 1}@%h",
        "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "WARNING",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
    ]  # fmt: skip


def _cpu_by_kind(workers: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU seconds so far of each kind of process: the Celery workers (main, pool processes,
    zygotes and their children), PostgreSQL's backends, Redis, and this process (which
    saves the submissions, as the web tier would)."""
    kinds = {"celery workers + sandboxes": sum(_tree_cpu(w.pid) for w in workers)}
    for kind, names in (("postgresql", ("postgres",)), ("redis", ("redis-server",))):
        total = 0.0
        for process in psutil.process_iter(["name"]):
            if process.info["name"] in names:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
        kinds[kind] = total
    mine = psutil.Process().cpu_times()
    kinds["this process (saving submissions)"] = mine.user + mine.system
    return kinds


def celery_rows(
    saturation: int, rate: float, seconds: float, workers: int = 1, concurrency: int = 2
) -> tuple[list[dict[str, Any]], str]:
    """Measure (c) through Redis and real Celery workers: `workers` worker instances, each
    with its own --hostname (as on separate hosts: its own pool processes and zygotes), each
    with `concurrency` prefork processes, all consuming the `grader` queue."""
    url, vendor = _bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")
    os.environ["GRADER_SUBMISSIONS_PER_MINUTE"] = "1000000"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-000000000000")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from grader.exercises import exercise_get
    from grader.services import submission_create

    code = exercise_get("dropout-forward").reference_source
    learners = [User.objects.create(username=f"bench{i}") for i in range(50)]
    started = [
        subprocess.Popen(_worker_command(index, concurrency), cwd=ROOT, env={**os.environ})
        for index in range(workers)
    ]
    shape = f"{workers} worker(s) x {concurrency} process(es)"
    rows = []
    try:
        # Warm both worker processes (each starts its zygote on its first submission).
        warm = [
            submission_create(learner=learners[i], exercise="dropout-forward", code=code).id
            for i in range(8)
        ]
        _wait_all(warm, 120)
        # Saturation: everything queued at once; throughput = graded / (last - first finish).
        cpu_before = _cpu_by_kind(started)
        ids = [
            submission_create(
                learner=learners[i % len(learners)], exercise="dropout-forward", code=code
            ).id
            for i in range(saturation)
        ]
        _wait_all(ids, 600)
        cpu_after = _cpu_by_kind(started)
        done = _finished(ids)
        first = min(d[0] for d in done)
        last = max(d[2] for d in done)
        print(f"\nCPU ms per graded submission at saturation ({shape}):")
        for kind, before in cpu_before.items():
            print(f"  {kind}: {(cpu_after[kind] - before) * 1000 / len(done):.1f}")
        rows.append(
            {
                "workers": shape,
                "load": f"saturation: {saturation} submitted at once",
                "graded_per_s": round(len(done) / (last - first).total_seconds(), 1),
                "passed": sum(1 for d in done if d[3] == "passed"),
                **_latencies(done),
            }
        )
        # Offered load: `rate` submissions per second for `seconds`.
        ids = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            target = start + i / rate
            pause = target - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            ids.append(
                submission_create(
                    learner=learners[i % len(learners)], exercise="dropout-forward", code=code
                ).id
            )
        _wait_all(ids, 300)
        done = _finished(ids)
        rows.append(
            {
                "workers": shape,
                "load": f"{rate:g} submissions/s offered for {seconds:g} s",
                "graded_per_s": round(
                    len(done)
                    / max(
                        1e-9, (max(d[2] for d in done) - min(d[0] for d in done)).total_seconds()
                    ),
                    1,
                ),
                "passed": sum(1 for d in done if d[3] == "passed"),
                **_latencies(done),
            }
        )
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(timeout=60)
        connection.close()
    return rows, vendor


def _finished(ids: list[int]) -> list[tuple[Any, Any, Any, str]]:
    """Return (queued_at, started_at, finished_at, status) of graded submissions."""
    from grader.models import Submission

    rows = Submission.objects.filter(id__in=ids, finished_at__isnull=False)
    return list(rows.values_list("queued_at", "started_at", "finished_at", "status"))


def _wait_all(ids: list[int], seconds: float) -> None:
    from grader.models import Submission

    deadline = time.monotonic() + seconds
    while Submission.objects.filter(id__in=ids, finished_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"submissions not graded within {seconds} s")
        time.sleep(0.05)


def _latencies(done: list[tuple[Any, ...]]) -> dict[str, float]:
    latency = [(d[2] - d[0]).total_seconds() * 1000 for d in done]
    return {
        "n": len(done),
        "latency_p50_ms": round(statistics.median(latency), 1),
        "latency_p99_ms": round(_percentile(latency, 99), 1),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    lines = [
        " | ".join(k.ljust(widths[k]) for k in keys),
        "-+-".join("-" * widths[k] for k in keys),
    ]
    lines += [" | ".join(str(r[k]).ljust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def main() -> int:
    """Run the three measurements and print their tables and a JSON summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200, help="submissions per warm-path row")
    parser.add_argument("--saturation", type=int, default=600)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--skip-celery", action="store_true")
    parser.add_argument("--skip-sandbox", action="store_true", help="only the Celery rows")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Celery worker instances, each with its own --hostname (as on separate hosts)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    args = parser.parse_args()
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    summary: dict[str, Any] = {}
    if not args.skip_sandbox:
        sandbox = sandbox_rows(args.count)
        print("\nSandbox: per submission (CPU = the whole sandbox tree plus this trusted process)")
        print(_table(sandbox))
        summary["sandbox"] = sandbox
    if not args.skip_celery:
        celery, vendor = celery_rows(
            args.saturation, args.rate, args.seconds, args.workers, args.concurrency
        )
        print(f"\nEnd to end through Redis and Celery ({vendor}), submit -> verdict")
        print(_table(celery))
        summary["celery"] = celery
        summary["database"] = vendor
    print("\n" + json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
