"""Code sent while the broker is down is accepted, and graded once the broker is back.

The submission is committed before its task is sent: when the send fails, the sweep sends
it later. The learner must hear that it was accepted, not get a 500 for code that was
saved (and send it again, or give up on a step that is already being graded).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from grader import services
from grader.exercises import exercise_get
from grader.models import Submission
from tests.grader.test_submissions import _database_url, _wait_finished


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _web_server(port: int, broker_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Run the web server in a process of its own, on the test database and `broker_url`."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": broker_url}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_code_sent_while_the_broker_is_down_is_accepted_and_graded_later(
    celery_worker, learner, tmp_path
):
    # given: the web server runs, but nothing answers at its broker's address (Redis down)
    token = Token.objects.create(user=learner)
    server = _web_server(_free_port(), f"redis://127.0.0.1:{_free_port()}/0", tmp_path / "web.log")
    port = int(server.args[-1].rsplit(":", 1)[1])
    code = exercise_get("dropout-forward").reference_source
    try:
        # when: the learner sends code
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "POST",
            "/api/v1/submissions/",
            body=json.dumps({"exercise": "dropout-forward", "code": code}),
            headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        )
        reply = connection.getresponse()
        body = reply.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # then: it is accepted, and saved as queued
    assert reply.status == 202, body
    submission = Submission.objects.get(id=json.loads(body)["id"])
    assert submission.status == "queued"
    # and once the broker is back, the sweep sends it and a real worker grades it once
    later = timezone.now() + timedelta(seconds=settings.GRADER_STUCK_AFTER_SECONDS + 1)
    assert services.submissions_requeue_stuck(now=later) == 1
    graded = _wait_finished(submission.id)
    assert (graded.status, graded.claims) == ("passed", 1), graded.checks
