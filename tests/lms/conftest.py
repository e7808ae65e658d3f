"""Fixtures of the LMS tests: API clients with tokens, and a real HTTP receiver on loopback."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from courses.models import Course
from lms.auth import ApiClientRateThrottle
from lms.models import ApiClient


@pytest.fixture
def lms_client() -> Callable[..., tuple[ApiClient, APIClient]]:
    """Make an API client bound to courses, and an HTTP client carrying its token."""

    def make(*courses: Course, scopes: list[str]) -> tuple[ApiClient, APIClient]:
        client, token = ApiClient.issue(name="Canvas", scopes=scopes)
        client.courses.set(courses)
        # Ids repeat across tests (rolled back); start each client with no request history.
        throttle = ApiClientRateThrottle
        cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": client.id})
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http

    return make


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs with the given statuses in turn (the
    last one repeats) and keeping every request it got."""

    statuses: list[int]
    location: str = ""
    tls: bool = False
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        # With TLS, its certificate names localhost (and not 127.0.0.1).
        base = "https://localhost" if self.tls else "http://127.0.0.1"
        return f"{base}:{self.server.server_address[1]}/hooks/grades?src=quiz"

    def wait_for(self, count: int, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.requests)} requests, expected {count}")
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Start receivers: `receiver([500, 500, 200])`; all are stopped after the test.
    `certificate=(certfile, keyfile)` serves https."""
    servers: list[ThreadingHTTPServer] = []

    def start(
        statuses: list[int], location: str = "", certificate: tuple[str, str] | None = None
    ) -> Receiver:
        made = Receiver(statuses=list(statuses), location=location, tls=certificate is not None)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                made.requests.append(Received(self.path, headers, body))
                status = made.statuses.pop(0) if len(made.statuses) > 1 else made.statuses[0]
                self.send_response(status)
                if made.location:
                    self.send_header("Location", made.location)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"thanks!")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        made.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            made.server.socket = context.wrap_socket(made.server.socket, server_side=True)
        servers.append(made.server)
        threading.Thread(target=made.server.serve_forever, daemon=True).start()
        return made

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
