"""The retry schedule shared by webhooks and LTI score passback."""

from __future__ import annotations

import pytest

from core.backoff import backoff_seconds


@pytest.mark.parametrize(("tries", "ceiling"), [(1, 10), (2, 20), (3, 40), (6, 320), (20, 900)])
def test_waits_between_half_and_all_of_the_doubling_ceiling(tries: int, ceiling: float) -> None:
    waits = [backoff_seconds(tries, base=10, cap=900) for _ in range(500)]
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert max(waits) - min(waits) > ceiling / 4  # jittered, not constant


def test_a_zero_base_retries_at_once() -> None:
    assert backoff_seconds(3, base=0, cap=900) == 0
