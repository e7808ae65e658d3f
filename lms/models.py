"""API clients: how an LMS's servers call the REST API.

A client holds scopes (what it may do) and the courses it may touch. Its token is shown
once when created and stored only as a SHA-256 hash; the first characters (the prefix)
find the row, and the hash is compared in constant time. Revoking sets `revoked_at`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import models

SCOPES = {
    "courses:read": "List the client's courses.",
    "roster:write": "Create and update enrollments (roster upsert).",
    "roster:read": "Read enrollments.",
    "grades:read": "Read attempts and grades.",
    "quizzes:read": "Read quizzes and their schedules.",
    "analytics:read": "Read quiz statistics and misconception analytics.",
}
TOKEN_PREFIX_LENGTH = 12


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    """An LMS (or other system) allowed to call the API for some courses."""

    name = models.CharField(max_length=200)
    scopes = models.JSONField(default=list, help_text="Any of: " + ", ".join(sorted(SCOPES)))
    courses = models.ManyToManyField("courses.Course", related_name="api_clients", blank=True)
    token_prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(
        cls, *, name: str, scopes: list[str], created_by: Any = None
    ) -> tuple[ApiClient, str]:
        """Create a client and return it with its token (shown once, never stored)."""
        token = "qz_" + secrets.token_urlsafe(32)
        client = cls.objects.create(
            name=name,
            scopes=sorted(set(scopes)),
            token_prefix=token[:TOKEN_PREFIX_LENGTH],
            token_hash=token_hash(token),
            created_by=created_by,
        )
        return client, token

    def matches(self, token: str) -> bool:
        """Whether `token` is this client's (constant-time comparison of the hashes)."""
        return hmac.compare_digest(self.token_hash, token_hash(token))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LmsIdentity(models.Model):
    """A person as an LMS knows them: (issuer, the LMS's user id) -> our user.

    For API clients the issuer is `api-client:<id>`; LTI launches will use the platform's
    issuer and the launch's `sub`."""

    issuer = models.CharField(max_length=255)
    lms_user_id = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lms_identities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "lms_user_id"], name="lms_identity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.lms_user_id} at {self.issuer}"


class IdempotentWrite(models.Model):
    """The answer to a write sent with an Idempotency-Key, replayed if the key returns."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="writes")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.client})"
