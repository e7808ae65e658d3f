"""Profile one learner's autosaves: where the milliseconds of an answer go.

    make profile-answer                                   # SQLite file var/bench.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make profile-answer
    make profile-answer BENCH_ARGS="--requests 2000 --top 40"

It is a benchmark, not a test: pytest never collects it. It prepares a database of its own
(`quiz_profile` on DATABASE_URL's server, or a SQLite file), loads the catalogue, logs one
learner in through the login page, starts the pre-test, and then sends --requests autosaves
(`PUT /api/v1/attempts/{id}/responses/{slot}/`, valid answers cycling over the slots, with
the session cookie and the CSRF header question.js sends) through Django's full request
handler (every middleware, DRF, the service, the ORM) in this process, DEBUG off, with the
app's production settings. Gunicorn's own HTTP parsing is not in it (`make bench` measures
the server as a whole). It prints the CPU time per request (time.process_time, so other
processes on the machine do not inflate it), the queries per request, a breakdown of that
time by stage, and cProfile's most expensive functions.
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
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from tests.benchmarks.quiz_answering import (  # noqa: E402
    PASSWORD,
    QUIZ_SLUG,
    answer_body,
    create_learners,
    manage,
    prepare_database,
    server_env,
)

PROFILE_DATABASE = "quiz_profile"
# Stages of a request, each named by the function whose cumulative time it is; they nest
# (the service runs inside DRF's dispatch, which runs inside the middleware chain).
STAGES = (
    ("whole request in Django (BaseHandler.get_response)", "base.py", "get_response"),
    ("session load (SessionStore.load)", None, "load"),
    ("user load (auth get_user)", "__init__.py", "get_user"),
    ("DRF dispatch (APIView.dispatch)", "views.py", "dispatch"),
    ("DRF authentication and checks (APIView.initial)", "views.py", "initial"),
    ("answer validation (serializer is_valid)", "serializers.py", "is_valid"),
    ("the service (response_save)", "services.py", "response_save"),
    ("SQL round trips (cursor execute)", "utils.py", "_execute"),
    ("response rendering (Response.render)", "response.py", "render"),
)


def _cumulative(stats: pstats.Stats, filename: str | None, function: str) -> tuple[float, int]:
    """Return the cumulative seconds and calls of the function (summed over matching files)."""
    seconds, calls = 0.0, 0
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, primitive, _tt, cumulative, _callers) in raw.items():
        if name != function:
            continue
        if filename is not None and not path.endswith(filename):
            continue
        if function == "load" and "sessions" not in path:
            continue
        if function == "get_user" and "contrib/auth" not in path:
            continue
        if function in ("dispatch", "initial") and "rest_framework" not in path:
            continue
        if function == "_execute" and "django/db/backends" not in path:
            continue
        if function == "render" and "template" in path:
            continue
        seconds += cumulative
        calls += primitive
    return seconds, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=1000, help="autosaves to profile")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kind",
        choices=("answer", "page", "submit"),
        default="answer",
        help="profile autosaves (PUT), question pages (GET /attempts/{id}/questions/{slot}/) or "
        "submits (POST /api/v1/attempts/{id}/submit/ of an attempt answered beforehand, each "
        "by a learner of its own, the preparation not profiled)",
    )
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime or cumulative")
    args = parser.parse_args(argv)

    url, database = prepare_database(name=PROFILE_DATABASE)
    env = server_env(url)
    manage(env, "migrate", "--no-input")
    manage(env, "load_catalog")
    username = create_learners(env, 1)[0]
    os.environ.clear()
    os.environ.update(env)

    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None, "no CSRF token on the login page"
    login = client.post(
        "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    assert login.status_code == 302, login.status_code
    csrf = client.cookies["csrftoken"].value
    start = client.post(f"/quizzes/{QUIZ_SLUG}/start/", {"csrfmiddlewaretoken": csrf})
    found = re.search(r"/attempts/(\d+)/questions/1/", start["Location"])
    assert found is not None, start["Location"]
    attempt_id = int(found[1])
    questions = client.get(f"/api/v1/attempts/{attempt_id}/").json()["questions"]
    rng = random.Random(args.seed)
    bodies = [
        (f"/api/v1/attempts/{attempt_id}/responses/{q['slot']}/", answer_body(q, rng))
        for q in questions
    ]

    from django.contrib.auth.models import User

    from assessments.answers import AnswerInput
    from assessments.models import Quiz
    from assessments.services import attempt_start, response_save

    pretest = Quiz.objects.get(slug=QUIZ_SLUG)
    prepared: list[int] = []

    def prepare(index: int) -> None:
        """For a submit: a new learner's attempt with every question answered (not profiled)."""
        if args.kind != "submit":
            return
        learner = User.objects.create(username=f"profile-submit-{index}-{time.monotonic_ns()}")
        attempt = attempt_start(quiz=pretest, learner=learner)
        for response in attempt.responses.select_related("question").prefetch_related(
            "question__choices"
        ):
            options = [{"id": c.id, "tier": c.tier} for c in response.question.choices.all()]
            body = answer_body({"type": response.question.qtype, "choices": options}, rng)
            response_save(
                attempt_id=attempt.id,
                learner=learner,
                slot=response.slot,
                answer=AnswerInput(
                    choice_ids=body.get("choices", []),
                    numeric_value=body.get("numeric_value"),
                    text=body.get("text", ""),
                    confidence=body["confidence"],
                    seconds_spent=body["seconds_spent"],
                ),
            )
        client.force_login(learner)
        prepared.append(attempt.id)

    def put(index: int) -> None:
        path, body = bodies[index % len(bodies)]
        if args.kind == "submit":
            reply = client.post(
                f"/api/v1/attempts/{prepared[-1]}/submit/",
                content_type="application/json",
                HTTP_X_CSRFTOKEN=csrf,
            )
        elif args.kind == "page":
            slot = questions[index % len(questions)]["slot"]
            reply = client.get(f"/attempts/{attempt_id}/questions/{slot}/")
        else:
            reply = client.put(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
        assert reply.status_code == 200, (reply.status_code, reply.content[:300])

    for index in range(5 if args.kind == "submit" else 50):  # warm caches and connections
        prepare(index)
        put(index)

    # Queries per request, counted with the connection's query log.
    connection.force_debug_cursor = True
    query_counts = []
    first_queries: list[str] = []
    for index in range(len(bodies)):
        prepare(index)
        reset_queries()
        put(index)
        query_counts.append(len(connection.queries))
        if index == 0:
            first_queries = [q["sql"] for q in connection.queries]
    connection.force_debug_cursor = False

    cpu_each = []
    for index in range(args.requests):
        prepare(index)
        began = time.process_time()
        put(index)
        cpu_each.append(time.process_time() - began)

    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the DB's time is not ours
    for index in range(args.requests):
        prepare(index)
        profiler.enable()
        put(index)
        profiler.disable()

    stats = pstats.Stats(profiler)
    n = args.requests
    print(f"Database:  {database}")
    what = {"page": "question pages", "submit": "submits"}.get(args.kind, "autosaves")
    print(f"Requests:  {n} {what} of one learner over {len(bodies)} questions, DEBUG off")
    print(
        f"CPU:       median {statistics.median(cpu_each) * 1000:.2f} ms per request "
        f"(mean {statistics.fmean(cpu_each) * 1000:.2f} ms; Django's test client included)"
    )
    print(
        f"Queries:   {statistics.median(query_counts):g} per request (median; "
        f"min {min(query_counts)}, max {max(query_counts)}; BEGIN and COMMIT included)"
    )
    for sql in first_queries:
        print(f"           {sql[:150]}")
    print()
    print("Under the profiler (cProfile inflates every figure; compare the shares):")
    whole = _cumulative(stats, "base.py", "get_response")[0] or 1.0
    for label, filename, function in STAGES:
        seconds, calls = _cumulative(stats, filename, function)
        print(
            f"  {label:<55} {seconds / n * 1000:7.2f} ms  {seconds / whole:6.1%}  calls/req {calls / n:.1f}"
        )
    print()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:12000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
