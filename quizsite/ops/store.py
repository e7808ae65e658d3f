"""The Redis that operations keep their shared state in: worker heartbeats and workers'
counters, under the deployment's cache key prefix."""

from __future__ import annotations

import functools

import redis
from django.conf import settings

# A health probe or a scrape must answer even when Redis does not: fail fast instead.
SOCKET_TIMEOUT_SECONDS = 1.0


@functools.cache
def ops_redis() -> redis.Redis:
    """Return this process's client of the service's Redis (the Celery broker)."""
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )


def ops_key(name: str) -> str:
    """Return the Redis key of `name`, under this deployment's prefix (CACHE_KEY_PREFIX)."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "quizsite")
    return f"{prefix}:ops:{name}"
