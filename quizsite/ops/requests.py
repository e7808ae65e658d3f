"""One middleware observes every request: it gives it an id (X-Request-ID), counts it for
/metrics by view and status, and writes its one log line (JSON in production)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from quizsite.ops.metrics import http_request_count
from quizsite.ops.request_ids import current_request_id, request_id_choose

log = logging.getLogger("quizsite.requests")


def _view_name(request: HttpRequest) -> str:
    # The route's name, never the raw path: a label per URL would grow without bound.
    match = request.resolver_match
    if match is None:
        return "unmatched"
    return match.view_name or match._func_path


class RequestObservationMiddleware:
    """Give each request an id, count it and log it in one line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_choose(offered=request.headers.get("X-Request-ID"))
        # Cleared when the response is closed, not here: Django logs a 4xx/5xx (django.request)
        # after the middleware has returned, and that line is the request's too.
        current_request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        view = _view_name(request)
        http_request_count(view=view, method=request.method or "", status=response.status_code)
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response


@request_finished.connect
def _request_id_cleared(**kwargs: object) -> None:
    current_request_id.set("")
