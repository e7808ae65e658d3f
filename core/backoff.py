"""One retry schedule for everything we send to other servers (webhooks, LTI scores)."""

from __future__ import annotations

import random


def backoff_seconds(tries: int, *, base: float, cap: float) -> float:
    """Seconds to wait after the `tries`-th failed try: between half and all of
    base * 2**(tries - 1), at most `cap`. The jitter keeps retries of many failures
    from arriving together."""
    ceiling = min(base * 2.0 ** (max(tries, 1) - 1), cap)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
