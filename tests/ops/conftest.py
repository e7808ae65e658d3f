"""Operations' tests load what a worker loads (CELERY_IMPORTS) before any worker starts."""

import quizsite.ops.worker_signals  # noqa: F401 - the heartbeat bootstep and task signals
