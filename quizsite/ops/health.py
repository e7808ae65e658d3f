"""Health for load balancers and the devstack: /healthz (the process answers) and /readyz
(the database, Redis and a live grader worker answer). JSON, no login; the output names no
host, DSN or error text, only which check failed, its exception's class and its latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from quizsite.ops.heartbeat import grader_workers_alive
from quizsite.ops.store import ops_redis


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _redis() -> dict[str, Any]:
    ops_redis().ping()
    return {}


def _grader_workers() -> dict[str, Any]:
    alive = grader_workers_alive()
    return {"alive": alive, "ok": alive > 0}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _database,
    "redis": _redis,
    "grader_workers": _grader_workers,
}


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Run every check; return each one's outcome and latency in milliseconds."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            outcome = {"ok": True, **check()}
        except Exception as error:  # any failure is "not ready", named by its class
            outcome = {"ok": False, "error": type(error).__name__}
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 2)
        results[name] = outcome
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Say the process is up; it touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Say whether this node can serve: 200 when every check passes, else 503."""
    checks = readiness_checks()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
