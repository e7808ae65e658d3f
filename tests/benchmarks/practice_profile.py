"""Profile guided practice in one process: where the milliseconds of a practice step go.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make profile-practice
    make profile-practice BENCH_ARGS="--learners 40 --top 40 --kind page"

It is a benchmark, not a test: pytest never collects it. It prepares a database of its own
(`quiz_profile_practice` on DATABASE_URL's server, or a SQLite file), loads the catalogue,
makes the course `make bench-practice` makes, and then has --learners learners each start
practice and work through --answers steps (step page, answer, feedback) through Django's
full request handler in this process, DEBUG off, with the app's production settings. Half
the learners are timed (CPU per request of each kind, with time.process_time, so other
processes on the machine do not inflate it; queries per request), the other half run under
cProfile for the kind chosen with --kind. On PostgreSQL it also times the banks' fingerprint
hashed in Python against hashed by the database. Gunicorn's own HTTP parsing is not in it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from tests.benchmarks.practice import COURSE_SLUG, MAKE_COURSE, _script, answer_of  # noqa: E402
from tests.benchmarks.quiz_answering import (  # noqa: E402
    create_learners,
    manage,
    prepare_database,
    server_env,
)

PROFILE_DATABASE = "quiz_profile_practice"
KINDS = ("page", "answer", "feedback")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--learners", type=int, default=60, help="learners (half profiled)")
    parser.add_argument("--answers", type=int, default=8, help="answers per learner")
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument("--kind", choices=KINDS, default="answer", help="the step to profile")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime or cumulative")
    args = parser.parse_args(argv)
    if args.learners < 2 or args.answers < 1:
        parser.error("--learners must be at least 2 and --answers at least 1")

    url, database = prepare_database(name=PROFILE_DATABASE)
    env = server_env(url)
    manage(env, "migrate", "--no-input")
    manage(env, "load_catalog")
    learners = create_learners(env, args.learners)
    course_id = int(_script(env, MAKE_COURSE, COURSE_SLUG))
    os.environ.clear()
    os.environ.update(env)

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client

    course = f"/practice/courses/{course_id}/"
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    queries: dict[str, list[int]] = {kind: [] for kind in KINDS}
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the DB's time is not ours

    def practise(username: str, measure: Callable[[str, Callable[[], Any]], Any]) -> None:
        """One learner: start practice, then page, answer and feedback up to --answers times."""
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        rng = random.Random(username)
        assert client.post(course + "start/").status_code == 302
        for _ in range(args.answers):
            page = measure("page", lambda: client.get(course))
            html = page.content.decode()
            form = re.search(r'action="/practice/steps/(\d+)/(answer|self-check|code)/"', html)
            if form is None or form[2] != "answer":
                return  # the session ended, or a step that is not an answer
            path, body = f"/practice/steps/{form[1]}/answer/", answer_of(html, rng)
            reply = measure("answer", partial(client.post, path, body))
            assert reply.status_code == 302, (reply.status_code, reply.content[:300])
            if "/feedback/" in reply["Location"]:
                measure("feedback", partial(client.get, reply["Location"]))

    def timed(kind: str, call: Callable[[], Any]) -> Any:
        reset_queries()
        began = time.process_time()
        reply = call()
        cpu[kind].append(time.process_time() - began)
        queries[kind].append(len(connection.queries))
        return reply

    def profiled(kind: str, call: Callable[[], Any]) -> Any:
        if kind != args.kind:
            return call()
        profiler.enable()
        try:
            return call()
        finally:
            profiler.disable()

    half = len(learners) // 2
    practise(learners[0], lambda kind, call: call())  # warm caches and connections
    connection.force_debug_cursor = True
    for username in learners[1 : half + 1]:
        practise(username, timed)
    connection.force_debug_cursor = False
    for username in learners[half + 1 :]:
        practise(username, profiled)

    print(f"Database:  {database}")
    print(f"Learners:  {half} timed, {len(learners) - half - 1} profiled, DEBUG off")
    for kind in KINDS:
        if cpu[kind]:
            print(
                f"{kind:<9}  CPU median {statistics.median(cpu[kind]) * 1000:6.2f} ms "
                f"(mean {statistics.fmean(cpu[kind]) * 1000:6.2f}; {len(cpu[kind])} requests), "
                f"queries median {statistics.median(queries[kind]):g} "
                f"(max {max(queries[kind])})"
            )
    if connection.vendor == "postgresql":
        _print_fingerprint_cost()
    print()
    print(f"cProfile of the {args.kind} requests (inflated alike; compare the shares):")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:14000])
    return 0


def _print_fingerprint_cost(rounds: int = 6, calls: int = 300) -> None:
    """What the banks' fingerprint, which every answer and feedback page reads, costs hashed
    in Python and hashed by PostgreSQL (the one used there): CPU of this process per call,
    the two alternated, median of the rounds."""
    from assessments.bank_fingerprint import fingerprint_by_postgres, fingerprint_in_python

    ways = {"in Python": fingerprint_in_python, "by PostgreSQL": fingerprint_by_postgres}
    costs: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, fingerprint in ways.items():
            began = time.process_time()
            for _ in range(calls):
                fingerprint(None)
            costs[name].append((time.process_time() - began) / calls * 1000)
    print(
        "banks' fingerprint, CPU per call: "
        + "; ".join(
            f"hashed {name} {statistics.median(each):.2f} ms "
            f"({', '.join(f'{x:.2f}' for x in each)})"
            for name, each in costs.items()
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
