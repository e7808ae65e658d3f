"""Operations' tests load what a worker loads (CELERY_IMPORTS) before any worker starts, and
count only the heartbeats of the workers they start themselves."""

import pytest

import quizsite.ops.worker_signals  # noqa: F401 - the heartbeat bootstep and task signals
from quizsite.ops.store import ops_key, ops_redis


@pytest.fixture
def fresh_heartbeats() -> None:
    """Forget heartbeats of workers earlier tests killed (they age out only after 15 s).

    Request it before any fixture that starts a worker."""
    ops_redis().delete(ops_key("grader-workers"))
