"""/metrics: scraped after real gradings by a real worker; the counters have moved."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from assessments.catalog import catalog_load
from grader.exercises import exercise_get
from grader.models import Submission
from grader.sandbox.parent import process_sandbox
from tests.grader.test_submissions import _wait_finished

TOKEN = "scraper-token-for-tests"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _scrape_once_grown(client, before, name: str, seconds: float = 10.0):
    """Scrape until `name` grew past `before`'s value: a worker counts a verdict just after
    saving it (task_postrun), so the scrape waits for that write."""
    deadline = time.monotonic() + seconds
    while True:
        samples = _scrape(client)
        if _value(samples, name) > _value(before, name) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def _submit_reference(api) -> Submission:
    code = exercise_get("dropout-forward").reference_source
    posted = api.post(
        "/api/v1/submissions/", {"exercise": "dropout-forward", "code": code}, format="json"
    )
    assert posted.status_code == 202
    return _wait_finished(posted.json()["id"])


def test_a_graded_submission_moves_the_counters(fresh_heartbeats, celery_worker, api, client):
    # given
    catalog_load()
    before = _scrape(client)
    # when: the reference is submitted through the API and graded by the real worker
    assert _submit_reference(api).status == "passed"
    after = _scrape_once_grown(client, before, "quiz_grading_seconds_count")
    # then
    assert (
        _value(after, "quiz_grader_verdicts_total", status="passed")
        == _value(before, "quiz_grader_verdicts_total", status="passed") + 1
    )
    assert (
        _value(after, "quiz_grading_seconds_count")
        == _value(before, "quiz_grading_seconds_count") + 1
    )
    assert _value(after, "quiz_grading_seconds_sum") > _value(before, "quiz_grading_seconds_sum")
    assert _value(after, "quiz_grading_seconds_bucket", le="+Inf") == _value(
        after, "quiz_grading_seconds_count"
    )
    created = {"view": "api:submission_create", "method": "POST", "status": "202"}
    assert (
        _value(after, "quiz_http_requests_total", **created)
        == _value(before, "quiz_http_requests_total", **created) + 1
    )
    assert _value(after, "quiz_submissions", status="passed") == 1
    assert _value(after, "quiz_submissions", status="queued") == 0
    assert _value(after, "quiz_queue_depth", queue="grader") == 0
    assert _value(after, "quiz_grader_workers_alive") == 1
    for state in ("pending", "failed"):
        assert _value(after, "quiz_lti_passbacks", state=state) == 0
        assert _value(after, "quiz_webhook_deliveries", state=state) == 0


def test_a_sandbox_that_died_is_restarted_and_counted(celery_worker, api, client):
    # given: the worker graded once, so its sandbox (zygote) is running
    catalog_load()
    assert _submit_reference(api).status == "passed"
    before = _scrape(client)
    # when: the zygote dies (the in-thread worker's sandbox is this process's) and code comes
    zygote = process_sandbox().process
    assert zygote is not None
    zygote.kill()
    zygote.wait(timeout=10)
    # then: it is graded by a restarted sandbox, and the restart is counted once
    assert _submit_reference(api).status == "passed"
    after = _scrape_once_grown(client, before, "quiz_sandbox_restarts_total")
    assert (
        _value(after, "quiz_sandbox_restarts_total")
        == _value(before, "quiz_sandbox_restarts_total") + 1
    )


@pytest.mark.django_db
def test_the_queue_depth_counts_tasks_waiting_for_a_grader(
    api, client, django_capture_on_commit_callbacks
):
    # given: no worker runs
    catalog_load()
    code = exercise_get("dropout-forward").reference_source
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("grader")
    try:
        # when: two submissions are saved and their tasks sent (on commit)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                posted = api.post(
                    "/api/v1/submissions/",
                    {"exercise": "dropout-forward", "code": code},
                    format="json",
                )
            assert posted.status_code == 202
        samples = _scrape(client)
    finally:
        broker.delete("grader")  # no later worker is to meet these rolled-back submissions
    # then
    assert _value(samples, "quiz_queue_depth", queue="grader") == 2
    assert _value(samples, "quiz_submissions", status="queued") == 2


@pytest.mark.django_db
def test_production_serves_metrics_only_to_the_token(client, settings):
    # given: production without a token
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    # when a token is configured
    settings.METRICS_TOKEN = "s3cret-scraper-token"
    # then: only that bearer token is served
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="s3cret-scraper-token").status_code == 401
    assert _scrape(client, token="s3cret-scraper-token")
