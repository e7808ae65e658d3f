"""The cache shares one Redis client per pool, and still works as Django's does."""

import os

from django.core.cache import cache


def test_every_call_uses_the_same_client_and_values_round_trip():
    client = cache._cache.get_client()
    cache.set("shared-client-probe", {"answer": 42}, 30)
    assert cache.get("shared-client-probe") == {"answer": 42}
    assert cache._cache.get_client(write=True) is client


def test_a_forked_process_gets_its_own_connections():
    cache.set("fork-probe", "before", 30)
    pid = os.fork()
    if pid == 0:  # the child: the pool notices the fork and connects anew
        try:
            ok = cache.get("fork-probe") == "before"
            cache.set("fork-probe", "child", 30)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("fork-probe") == "child"
