"""DRF authentication and permissions for API clients (LMS servers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.errors import NotFoundError
from core.inputs import MAX_ID
from courses.models import Course
from lms.models import TOKEN_PREFIX_LENGTH, ApiClient

LAST_USED_EVERY = timedelta(minutes=1)


class ClientPrincipal:
    """What `request.user` is for an API client: authenticated, but nobody's account."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    id = None
    pk = None

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def __str__(self) -> str:
        return f"API client {self.client.name}"


class ApiClientAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`; a wrong or revoked token is a 401."""

    def authenticate(self, request: Request) -> tuple[ClientPrincipal, ApiClient] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        token = parts[1].decode("latin-1")
        client = ApiClient.objects.filter(token_prefix=token[:TOKEN_PREFIX_LENGTH]).first()
        if client is None or not client.matches(token):
            raise AuthenticationFailed("Unknown API token.")
        if not client.is_active:
            raise AuthenticationFailed("This API token has been revoked.")
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_EVERY:
            ApiClient.objects.filter(id=client.id).update(last_used_at=now)
        return ClientPrincipal(client), client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def api_client(request: Request) -> ApiClient | None:
    """The API client behind the request, if it is one."""
    return request.auth if isinstance(request.auth, ApiClient) else None


def client_with_scope(client: ApiClient, scope: str) -> ApiClient:
    """Return the client if it holds `scope`; otherwise PermissionDenied (403) naming it."""
    if scope not in client.scopes:
        raise PermissionDenied(f"This API client lacks the scope {scope}.")
    return client


def scope_required(scope: str) -> type[BasePermission]:
    """A permission: an API client holding `scope`."""

    class HasScope(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            client = api_client(request)
            if client is None and not request.user.is_authenticated:
                raise NotAuthenticated("Send an API client's token: Authorization: Bearer <token>.")
            if client is None:
                raise PermissionDenied("This endpoint is for API clients (Bearer tokens).")
            client_with_scope(client, scope)
            return True

    HasScope.__name__ = f"HasScope_{scope.replace(':', '_')}"
    return HasScope


def client_course(client: ApiClient, course_id: int) -> Course:
    """The course if the client is bound to it; otherwise it looks absent (404)."""
    course = client.courses.filter(id=course_id).first() if course_id <= MAX_ID else None
    if course is None:
        raise NotFoundError("No such course.")
    return course


class ApiClientRateThrottle(SimpleRateThrottle):
    """At most LMS_API_RATE requests per API client (a sliding window kept in the cache);
    over it, a 429 with Retry-After. Requests of people are not counted here."""

    scope = "api_client"

    def get_rate(self) -> str:
        # Read at every request, not once at import, so a changed setting applies.
        rate: str = settings.LMS_API_RATE
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = api_client(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.id}
