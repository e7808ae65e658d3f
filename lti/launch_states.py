"""Login initiations' server-side states: bounded per client address, purged once expired.

Anyone may GET /lti/login/ with a registered issuer, and every such request stores a
`LaunchState`. Each client address may start LTI_LOGINS_PER_MINUTE of them (a counter in
the cache, i.e. Redis, per address and minute), and a beat task deletes the states that
can no longer be used, so the table holds at most a few minutes' worth of logins. The
batched delete serves the purge of expired deep-linking requests too (lti.deep_linking).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from lti.launch import HANDOFF_SECONDS
from lti.models import LaunchState

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
PURGE_BATCH = 5000


def login_rate_allows(*, address: str) -> bool:
    """Count a login initiation from `address`; return whether it is within the bound."""
    window = int(time.time()) // WINDOW_SECONDS
    key = f"lti-login-rate:{address}:{window}"
    try:
        cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=2 * WINDOW_SECONDS)
            count = 1
    except RedisError:
        # The bound protects a table that the purge keeps small anyway: launches go on.
        log.warning("LTI login rate not counted: the cache is unavailable", exc_info=True)
        return True
    return int(count) <= settings.LTI_LOGINS_PER_MINUTE


def launch_states_purge() -> int:
    """Delete the states nothing can use any more; return how many were deleted.

    A state is usable until it expires, and a cookieless launch's handoff link until
    HANDOFF_SECONDS after the state was used (which is before it expired).
    """
    cutoff = timezone.now() - timedelta(seconds=HANDOFF_SECONDS)
    return rows_delete_in_batches(LaunchState.objects.filter(expires_at__lt=cutoff))


def rows_delete_in_batches(rows: QuerySet[Any]) -> int:
    """Delete `rows` PURGE_BATCH at a time; return how many were deleted.

    Batches keep each DELETE short after a flood (memory: PURGE_BATCH ids at a time)."""
    deleted = 0
    while True:
        ids = list(rows.values_list("id", flat=True)[:PURGE_BATCH])
        if not ids:
            return deleted
        deleted += rows.model.objects.filter(id__in=ids).delete()[0]
