"""Grader workers say they are alive: each writes its name and the time into one sorted set
every HEARTBEAT_SECONDS; readiness counts the names written recently.

Chosen over Celery's `control.ping` because a ping is a broadcast every probe of every web
node sends to every worker, waits out its timeout, and goes unanswered by a worker whose only
thread is grading (the solo pool); a heartbeat costs each probe one ZCOUNT. The times are
Redis's own (TIME), so clocks of different hosts never disagree.
"""

from __future__ import annotations

import contextlib
import threading

import redis

from quizsite.ops.store import ops_key, ops_redis

HEARTBEAT_SECONDS = 5.0
# A worker is alive if it wrote within three beats: one lost write is not a death.
ALIVE_SECONDS = 3 * HEARTBEAT_SECONDS


def _redis_now() -> float:
    seconds, microseconds = ops_redis().time()
    return float(seconds) + microseconds / 1e6


def heartbeat_write(*, worker: str) -> None:
    """Record that `worker` is alive now, and forget workers silent for long."""
    now = _redis_now()
    key = ops_key("grader-workers")
    pipe = ops_redis().pipeline()
    pipe.zadd(key, {worker: now})
    pipe.zremrangebyscore(key, "-inf", now - 10 * ALIVE_SECONDS)
    pipe.execute()


def heartbeat_remove(*, worker: str) -> None:
    """Forget `worker` (it is stopping)."""
    ops_redis().zrem(ops_key("grader-workers"), worker)


def grader_workers_alive() -> int:
    """Return how many grader workers wrote a heartbeat within ALIVE_SECONDS."""
    now = _redis_now()
    return int(ops_redis().zcount(ops_key("grader-workers"), now - ALIVE_SECONDS, "+inf"))


class Heartbeat:
    """A daemon thread that writes `worker`'s heartbeat until stopped."""

    def __init__(self, *, worker: str) -> None:
        self.worker = worker
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="grader-heartbeat", daemon=True)

    def start(self) -> None:
        """Write the first beat now, then one every HEARTBEAT_SECONDS."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove the worker at once (not after ALIVE_SECONDS)."""
        self._stopped.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS)
        with contextlib.suppress(redis.RedisError):  # Redis gone: the entry ages out itself
            heartbeat_remove(worker=self.worker)

    def _beat(self) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(redis.RedisError):  # Redis away: the next beat tries again
                heartbeat_write(worker=self.worker)
            self._stopped.wait(HEARTBEAT_SECONDS)
