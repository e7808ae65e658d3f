"""The service's settings in development: quizsite.settings with DEBUG on.

The service itself defaults to production (DEBUG off, a SECRET_KEY of your own). The test
run (pytest's DJANGO_SETTINGS_MODULE) and mypy's Django plugin load this module instead,
so they are in development however they are started; processes they start inherit it.
`make run` and `make test` also say DEBUG=true themselves (Makefile, quizsite.devstack).

Each test run has a cache prefix of its own (a Redis may outlive a run). Under pytest-xdist
each test process (PYTEST_XDIST_WORKER "gw0", "gw1", …) gets a Redis
database of its own, so its Celery queues, broker and cache never meet another process's,
and a cache prefix of its own; pytest-django gives each its own test database. It is set in
the environment, so the workers and servers a test starts inherit it.
"""

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

os.environ["DEBUG"] = "true"

_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and not os.environ.get("XDIST_ISOLATED"):
    _number = int(_XDIST_WORKER[2:])
    _url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6399/0"))
    _base = int(_url.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{(_base + 1 + _number) % 16}"))
    os.environ["CACHE_KEY_PREFIX"] = (
        f"{os.environ.get('CACHE_KEY_PREFIX', 'quizsite')}-{_XDIST_WORKER}"
    )
    os.environ["XDIST_ISOLATED"] = "1"  # a process started by this one keeps what it got
if not os.environ.get("CACHE_RUN_ISOLATED"):
    # A prefix of this run's own: a test database starts its ids afresh each run, and the
    # analytics cached by an earlier run on the same Redis (an hour's timeout) must not be
    # read back for this run's course of the same id.
    os.environ["CACHE_KEY_PREFIX"] = (
        f"{os.environ.get('CACHE_KEY_PREFIX', 'quizsite')}-{secrets.token_hex(4)}"
    )
    os.environ["CACHE_RUN_ISOLATED"] = "1"  # processes started by this one share the prefix

from quizsite.settings import *  # noqa: E402, F403
