"""What every Celery worker does for operations: grader workers write a heartbeat, each task
runs under the request id it was sent with and ends in one log line, and a verdict is
counted with its latency. Loaded in workers by CELERY_IMPORTS."""

from __future__ import annotations

import contextvars
import logging
import time
from typing import Any

from celery import bootsteps
from celery.signals import task_postrun, task_prerun
from django.db import DatabaseError
from redis import RedisError

from grader.models import Submission
from grader.sandbox import parent as sandbox_parent
from quizsite.celery import app
from quizsite.ops.heartbeat import Heartbeat
from quizsite.ops.metrics import GRADER_QUEUE, grading_record, sandbox_restart_record
from quizsite.ops.request_ids import TASK_HEADER, current_request_id

log = logging.getLogger("quizsite.tasks")
GRADE_TASK = "grader.tasks.grade_submission"


class GraderHeartbeat(bootsteps.StartStopStep):
    """Write this worker's heartbeat while it consumes the grader queue (quizsite.ops.heartbeat)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.heartbeat: Heartbeat | None = None

    def start(self, parent: Any) -> None:
        queues = {queue.name for queue in parent.task_consumer.queues}
        if GRADER_QUEUE in queues:
            self.heartbeat = Heartbeat(worker=parent.hostname)
            self.heartbeat.start()

    def stop(self, parent: Any) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
            self.heartbeat = None

    shutdown = stop


app.steps["consumer"].add(GraderHeartbeat)

# Per task id being run in this process: when it started and the request id it set.
_running: dict[str, tuple[float, contextvars.Token[str]]] = {}


@task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    request_id = str(getattr(task.request, TASK_HEADER, None) or "") if task else ""
    _running[task_id] = (time.perf_counter(), current_request_id.set(request_id))


@task_postrun.connect
def _task_finished(
    task_id: str = "", task: Any = None, args: Any = None, retval: Any = None, state: str = "",
    **kwargs: Any,
) -> None:  # fmt: skip
    started, token = _running.pop(task_id, (time.perf_counter(), None))
    extra: dict[str, Any] = {
        "task": getattr(task, "name", ""),
        "task_id": task_id,
        "state": state,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    try:
        if extra["task"] == GRADE_TASK and args:
            extra.update(_verdict_observe(submission_id=int(args[0]), outcome=str(retval)))
        log.info("task %s %s", extra["task"], state, extra=extra)
    finally:
        if token is not None:
            current_request_id.reset(token)


def _verdict_observe(*, submission_id: int, outcome: str) -> dict[str, Any]:
    """Count a verdict this task saved, with its latency; return what its log line adds."""
    extra: dict[str, Any] = {"submission_id": submission_id, "outcome": outcome}
    if outcome not in Submission.FINISHED:
        return extra  # not claimed, claim lost, refused: no verdict of this task's
    try:
        queued_at, finished_at = Submission.objects.values_list("queued_at", "finished_at").get(
            id=submission_id
        )
    except (Submission.DoesNotExist, DatabaseError):
        return extra
    if finished_at is None:
        return extra
    seconds = (finished_at - queued_at).total_seconds()
    extra["verdict"], extra["latency_ms"] = outcome, round(seconds * 1000, 1)
    try:
        grading_record(status=outcome, seconds=seconds)
    except RedisError:
        log.warning("Verdict of submission %s not counted: Redis is unavailable", submission_id)
    return extra


def _sandbox_restarted() -> None:
    try:
        sandbox_restart_record()
    except RedisError:
        log.warning("Sandbox restart not counted: Redis is unavailable")


sandbox_parent.restart_listeners.append(_sandbox_restarted)
