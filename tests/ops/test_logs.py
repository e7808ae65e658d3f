"""Request ids: from the HTTP request into the Celery task and the verdict's log line; and
production's logs are one JSON object per line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from assessments.catalog import catalog_load
from grader.exercises import exercise_get
from grader.models import Submission
from quizsite.ops.request_ids import RequestIdFilter


@pytest.fixture
def logged(caplog):
    # The filter sits on the configured handler; caplog's handler needs its own copy.
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="quizsite.requests")
    caplog.set_level(logging.INFO, logger="quizsite.tasks")
    return caplog


def _records_until(caplog, wanted, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [record for record in caplog.records if wanted(record)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("no such log line: " + "\n".join(r.getMessage() for r in caplog.records))


def test_a_submissions_request_id_follows_it_into_the_task_and_its_verdict(
    celery_worker, api, logged
):
    # given
    catalog_load()
    code = exercise_get("dropout-forward").reference_source
    # when: a proxy names the request
    posted = api.post(
        "/api/v1/submissions/",
        {"exercise": "dropout-forward", "code": code},
        format="json",
        HTTP_X_REQUEST_ID="lb-7f3a.42",
    )
    # then: the response, the request's line, and the task's verdict line carry it
    assert posted["X-Request-ID"] == "lb-7f3a.42"
    submission_id = posted.json()["id"]
    (request_line,) = [r for r in logged.records if r.name == "quizsite.requests"]
    assert request_line.request_id == "lb-7f3a.42"
    assert (request_line.view, request_line.status) == ("api:submission_create", 202)
    (verdict_line,) = _records_until(
        logged,
        lambda r: r.name == "quizsite.tasks" and getattr(r, "submission_id", None) == submission_id,
    )
    assert verdict_line.request_id == "lb-7f3a.42"
    assert verdict_line.task == "grader.tasks.grade_submission"
    assert verdict_line.verdict == Submission.objects.get(id=submission_id).status == "passed"
    assert verdict_line.latency_ms > 0


@pytest.mark.django_db
@pytest.mark.parametrize("offered", ["", "has space", "x" * 129, 'quote"d', "-leading-dash"])
def test_a_malformed_request_id_is_replaced(client, logged, offered):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=offered)
    chosen = response["X-Request-ID"]
    assert chosen != offered
    assert len(chosen) == 32
    (line,) = [r for r in logged.records if r.name == "quizsite.requests"]
    assert line.request_id == chosen


def test_production_writes_one_json_object_per_line():
    # given: the settings in production (DEBUG off), as gunicorn and the workers load them
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "quizsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a-secret-for-this-test-only-0123456789-abcdefghijklmnop",
    }
    env.pop("LOG_FORMAT", None)
    script = (
        "import django, logging; django.setup()\n"
        "from quizsite.ops.request_ids import current_request_id\n"
        "current_request_id.set('req-1')\n"
        "logging.getLogger('quizsite.requests').info('GET /healthz 200', extra={'status': 200})\n"
        "logging.getLogger('grader').warning('two\\nlines')\n"
    )
    # when
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    # then
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "GET /healthz 200"
    assert (first["level"], first["logger"], first["request_id"], first["status"]) == (
        "INFO",
        "quizsite.requests",
        "req-1",
        200,
    )
    assert second["message"] == "two\nlines"
    assert "time" in first
