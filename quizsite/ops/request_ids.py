"""A request id per HTTP request, carried into the Celery tasks it enqueues (a message
header) and onto every log line written while either runs."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from celery.signals import before_task_publish

# Taken from X-Request-ID when a proxy (or client) sent one that looks like an id; anything
# else (too long, spaces, quotes: a log-injection attempt) is replaced by a fresh one.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
TASK_HEADER = "request_id"

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_request_id", default=""
)


def request_id_choose(*, offered: str | None) -> str:
    """Return the offered id when it is well-formed, else a new one."""
    if offered and REQUEST_ID_PATTERN.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Give every record the current request id (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


@before_task_publish.connect
def _request_id_sent_with_task(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Put the current request id in the message headers of every task enqueued."""
    request_id = current_request_id.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id
