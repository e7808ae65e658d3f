"""Smoke test of the production profile (`make smoke-production`; CI runs it).

Starts `python -m quizsite.devstack run --production` on a free port with a database of its
own, then, as a browser behind a TLS-terminating proxy would (X-Forwarded-Proto: https), a
learner logs in, answers a quiz question, submits it, submits code and waits for its
verdict; finally /metrics is scraped with the profile's token and must show the verdict and
the requests. Exit status 0 when all of it worked. About 30 s.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = secrets.token_urlsafe(16)
CODE = """
import numpy as np

def dropout_forward(x, p, training, rng):
    if not training or p == 0:
        return x
    mask = rng.random(x.shape) >= p
    return x * mask / (1.0 - p)
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Cookies kept by hand: they are Secure, and the proxy's TLS is only a header here."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "", headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        origin = self.base.replace("http://", "https://")
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("X-Forwarded-For", "127.0.0.1")
        request.add_header("Referer", origin + path)
        request.add_header("Origin", origin)
        if content_type:
            request.add_header("Content-Type", content_type)
        if "csrftoken" in self.cookies:
            request.add_header("X-CSRFToken", self.cookies["csrftoken"])
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.read()

    def json(self, method: str, path: str, payload: Any = None, expect: int = 200) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, content = self.request(method, path, body, "application/json")
        if status != expect:
            raise SystemExit(f"{method} {path}: {status}, expected {expect}: {content[:500]!r}")
        return json.loads(content) if content else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _step(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def smoke(base: str, env: dict[str, str]) -> None:
    """Run the learner's path and the scrape against the profile at `base`."""
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "load_catalog"], env=env, check=True, stdout=subprocess.DEVNULL)
    create = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user('smoke-learner', password={PASSWORD!r})"
    )
    subprocess.run([*manage, "shell", "-c", create], env=env, check=True)
    browser = Browser(base)
    # logs in
    status, page = browser.request("GET", "/accounts/login/")
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert status == 200 and found, f"login page: {status}"
    form = (
        f"csrfmiddlewaretoken={found.group(1).decode()}&username=smoke-learner&password={PASSWORD}"
    )
    status, _ = browser.request("POST", "/accounts/login/", form.encode(),
                                "application/x-www-form-urlencoded")  # fmt: skip
    assert status == 302, f"login refused: {status}"
    _step("logged in")
    # answers a question and submits
    quizzes = browser.json("GET", "/api/v1/quizzes/")
    cards = quizzes["results"] if isinstance(quizzes, dict) else quizzes
    card = next(card for card in cards if card["can_start"])
    attempt = browser.json("POST", f"/api/v1/quizzes/{card['slug']}/attempts/", expect=201)
    detail = browser.json("GET", f"/api/v1/attempts/{attempt['id']}/")
    question = next(q for q in detail["questions"] if q["type"] in ("single", "truefalse"))
    answer = {"choices": [question["choices"][0]["id"]], "confidence": 3, "seconds_spent": 20}
    browser.json("PUT", f"/api/v1/attempts/{attempt['id']}/responses/{question['slot']}/", answer)
    browser.json("POST", f"/api/v1/attempts/{attempt['id']}/submit/")
    _step(f"answered and submitted {card['slug']}")
    # submits code and gets a verdict
    submission = browser.json("POST", "/api/v1/submissions/",
                              {"exercise": "dropout-forward", "code": CODE}, expect=202)  # fmt: skip
    deadline = time.monotonic() + 90
    while submission["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "no verdict in 90 s"
        time.sleep(0.5)
        submission = browser.json("GET", f"/api/v1/submissions/{submission['id']}/")
    _step(f"code graded: {submission['status']}")
    # scrapes the metrics
    token = {"Authorization": f"Bearer {env['METRICS_TOKEN']}"}
    text = ""
    while time.monotonic() < deadline:
        status, content = browser.request("GET", "/metrics", headers=token)
        assert status == 200, f"/metrics: {status}"
        text = content.decode()
        if re.search(rf'quiz_grader_verdicts_total{{status="{submission["status"]}"}} 1\.0', text):
            break
        time.sleep(0.5)
    else:
        raise SystemExit("the verdict never showed in /metrics:\n" + text)
    assert 'view="api:submission_create"' in text and 'status="202"' in text, text
    assert browser.request("GET", "/metrics")[0] == 401
    _step("metrics scraped: the verdict and the requests are counted")


def main() -> int:
    """Start the profile, run the smoke, stop the profile."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="smoke-production-") as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("SMOKE_DATABASE_URL", f"sqlite:///{scratch}/db.sqlite3"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "PROMETHEUS_MULTIPROC_DIR": f"{scratch}/prometheus",
            # Heartbeats and counters apart from any other run on the same Redis.
            "CACHE_KEY_PREFIX": f"smoke-{secrets.token_hex(4)}",
        }
        env.pop("DEBUG", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        profile = subprocess.Popen(
            [sys.executable, "-m", "quizsite.devstack", "run", "--production", "--port", str(port)],
            env=env, cwd=BASE_DIR, start_new_session=True,
        )  # fmt: skip
        env = {**env, "DJANGO_SETTINGS_MODULE": "quizsite.settings", "DEBUG": "false"}
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while True:
                assert profile.poll() is None, "the production profile stopped"
                assert time.monotonic() < deadline, "the production profile never became ready"
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=2) as ready:  # noqa: S310
                        if ready.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.5)
            _step("ready")
            smoke(base, env)
        finally:
            os.killpg(profile.pid, signal.SIGTERM)
            profile.wait(timeout=60)
    print("smoke: the production profile works", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
