"""Fixtures of the LMS tests: API clients with tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from courses.models import Course
from lms.auth import ApiClientRateThrottle
from lms.models import ApiClient


@pytest.fixture
def lms_client() -> Callable[..., tuple[ApiClient, APIClient]]:
    """Make an API client bound to courses, and an HTTP client carrying its token."""

    def make(*courses: Course, scopes: list[str]) -> tuple[ApiClient, APIClient]:
        client, token = ApiClient.issue(name="Canvas", scopes=scopes)
        client.courses.set(courses)
        # Ids repeat across tests (rolled back); start each client with no request history.
        throttle = ApiClientRateThrottle
        cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": client.id})
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http

    return make
