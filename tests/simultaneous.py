"""Run calls at the same moment, each in a thread with its own database connection.

For race tests in `transaction=True` tests: every thread connects first, then waits at a
barrier, so the calls start together (on PostgreSQL their transactions overlap; SQLite
serialises writers by itself). A call's exception is returned in its place, not raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


def at_once(calls: list[Callable[[], Any]], timeout: float = 60.0) -> list[Any]:
    """Return what each call returned (or raised), in order, after starting them together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout)
            results[index] = call()
        except BaseException as error:  # reported to the test in the call's place
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a call did not finish"
    return results
