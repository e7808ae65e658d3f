"""DRF authentication and permissions for API clients (LMS servers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from analytics.access import MAX_ID
from assessments.errors import NotFoundError
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


def scope_required(scope: str) -> type[BasePermission]:
    """A permission: an API client holding `scope`."""

    class HasScope(BasePermission):
        message = f"This API client lacks the scope {scope}."

        def has_permission(self, request: Request, view: Any) -> bool:
            client = api_client(request)
            if client is None:
                raise PermissionDenied("This endpoint is for API clients (Bearer tokens).")
            return scope in client.scopes

    HasScope.__name__ = f"HasScope_{scope.replace(':', '_')}"
    return HasScope


def client_course(client: ApiClient, course_id: int) -> Course:
    """The course if the client is bound to it; otherwise it looks absent (404)."""
    course = client.courses.filter(id=course_id).first() if course_id <= MAX_ID else None
    if course is None:
        raise NotFoundError("No such course.")
    return course
