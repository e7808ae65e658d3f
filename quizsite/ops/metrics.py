"""Prometheus metrics at /metrics.

Where each number lives, because web and Celery processes are many and on many hosts:
- requests by view and status are counted in the web process that served them, with
  prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn's
  workers share that directory), so a scrape of a web node sums its workers;
- what Celery workers count (verdicts, grading latency, sandbox restarts) is kept in Redis
  (one hash): grader nodes serve no HTTP, and any web node's scrape reads the cluster's total
  (aggregate these with max(), not sum(), across web nodes);
- gauges are read at scrape time: submissions by status, passbacks and webhook deliveries
  pending or failed (the database), the `grader` queue's depth (the broker).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from grader.models import Submission
from lms.models import WebhookDelivery
from lti.models import Passback
from quizsite.ops.heartbeat import grader_workers_alive
from quizsite.ops.store import ops_key, ops_redis

# Seconds from a submission's queueing to its verdict: a learner waits this long.
GRADING_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0, 120.0)
GRADER_QUEUE = "grader"

_HTTP_REQUESTS = Counter(
    "quiz_http_requests",
    "HTTP requests answered, by view (the route's name), method and status.",
    ["view", "method", "status"],
    registry=None,
)


def http_request_count(*, view: str, method: str, status: int) -> None:
    """Count one answered request."""
    _HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()


def _bucket_field(bound: float) -> str:
    return f"grading_le_{bound:g}"


def grading_record(*, status: str, seconds: float) -> None:
    """Count one verdict and its latency, cluster-wide (called by the worker that graded)."""
    bucket = next((bound for bound in GRADING_BUCKETS if seconds <= bound), None)
    pipe = ops_redis().pipeline()
    key = ops_key("metrics")
    pipe.hincrby(key, f"verdict:{status}", 1)
    pipe.hincrby(key, _bucket_field(bucket) if bucket is not None else "grading_le_inf", 1)
    pipe.hincrbyfloat(key, "grading_sum", seconds)
    pipe.execute()


def sandbox_restart_record() -> None:
    """Count one restart of a worker's sandbox (its zygote had died)."""
    ops_redis().hincrby(ops_key("metrics"), "sandbox_restarts", 1)


class WorkerCountersCollector(Collector):
    """The Celery workers' counters, read from Redis."""

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        raw = {
            (key.decode() if isinstance(key, bytes) else key): float(value)
            for key, value in ops_redis().hgetall(ops_key("metrics")).items()
        }
        verdicts = CounterMetricFamily(
            "quiz_grader_verdicts",
            "Verdicts saved by grader workers, by status.",
            labels=["status"],
        )
        for status in Submission.FINISHED:
            verdicts.add_metric([str(status)], raw.get(f"verdict:{status}", 0.0))
        yield verdicts
        cumulative, buckets = 0.0, []
        for bound in GRADING_BUCKETS:
            cumulative += raw.get(_bucket_field(bound), 0.0)
            buckets.append((f"{bound:g}", cumulative))
        cumulative += raw.get("grading_le_inf", 0.0)
        buckets.append(("+Inf", cumulative))
        yield HistogramMetricFamily(
            "quiz_grading_seconds",
            "Seconds from a submission's queueing to its verdict.",
            buckets=buckets,
            sum_value=raw.get("grading_sum", 0.0),
        )
        restarts = CounterMetricFamily(
            "quiz_sandbox_restarts", "Sandboxes restarted by grader workers after they died."
        )
        restarts.add_metric([], raw.get("sandbox_restarts", 0.0))
        yield restarts


def _counts(rows: Iterable[dict[str, object]], key: str) -> dict[str, int]:
    return {str(row[key]): int(str(row["n"])) for row in rows}


class StateGaugesCollector(Collector):
    """What is waiting or failed now, read from the database and the broker at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        submissions = GaugeMetricFamily(
            "quiz_submissions", "Code submissions by status.", labels=["status"]
        )
        found = _counts(Submission.objects.values("status").annotate(n=Count("id")), "status")
        for status in Submission.Status.values:
            submissions.add_metric([status], found.get(status, 0))
        yield submissions
        for name, model, described in (
            ("quiz_lti_passbacks", Passback, "LTI score passbacks"),
            ("quiz_webhook_deliveries", WebhookDelivery, "Grade webhook deliveries"),
        ):
            gauge = GaugeMetricFamily(name, f"{described} pending or failed.", labels=["state"])
            waiting = ("pending", "failed")
            rows = model.objects.filter(state__in=waiting).values("state").annotate(n=Count("id"))
            found = _counts(rows, "state")
            for state in waiting:
                gauge.add_metric([state], found.get(state, 0))
            yield gauge
        depth = GaugeMetricFamily(
            "quiz_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        depth.add_metric([GRADER_QUEUE], ops_redis().llen(GRADER_QUEUE))
        yield depth
        alive = GaugeMetricFamily(
            "quiz_grader_workers_alive", "Grader workers whose heartbeat is recent."
        )
        alive.add_metric([], grader_workers_alive())
        yield alive


def metrics_registry() -> CollectorRegistry:
    """Return a registry holding every metric of the service, for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_HTTP_REQUESTS)
    registry.register(WorkerCountersCollector())
    registry.register(StateGaugesCollector())
    return registry


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        # Without a token, metrics are open in development only; production answers 404.
        return bool(settings.DEBUG)
    offered = request.headers.get("Authorization", "")
    return secrets.compare_digest(offered.encode(), f"Bearer {token}".encode())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to a scraper holding METRICS_TOKEN."""
    if not settings.METRICS_TOKEN and not settings.DEBUG:
        raise Http404("Metrics are off: set METRICS_TOKEN to serve them.")
    if not _authorised(request):
        response = HttpResponse(
            "A bearer token is needed.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The format the scraper asks for (Accept): Prometheus's text or OpenMetrics.
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(metrics_registry()), content_type=content_type)
