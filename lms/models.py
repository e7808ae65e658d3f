"""API clients: how an LMS's servers call the REST API.

A client holds scopes (what it may do) and the courses it may touch. Its token is shown
once when created and stored only as a SHA-256 hash; the first characters (the prefix)
find the row, and the hash is compared in constant time. Revoking sets `revoked_at`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
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
    "webhooks:manage": "Create, list and delete grade webhooks; read their deliveries.",
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


def idempotency_key_hash(key: str) -> str:
    """The stored form of an Idempotency-Key: fixed length, however long the key."""
    return hashlib.sha256(key.encode()).hexdigest()


class IdempotentWrite(models.Model):
    """The answer to a write sent with an Idempotency-Key, replayed if the key returns."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="writes")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the Idempotency-Key.")
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key_hash"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key_hash[:12]} ({self.client})"


# What a webhook endpoint may subscribe to. `ping` (the test event) is sent on request only.
WEBHOOK_EVENTS = {
    "attempt.scored": "A submitted attempt's score was set or changed (counted attempts only).",
}
EVENT_PING = "ping"


class WebhookEndpoint(models.Model):
    """A URL of an API client's that receives grade events, signed with its own secret.

    The secret is stored as it is (signing needs it, unlike the client's token, which is
    only compared); the API shows it once, in the answer that creates the endpoint."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=100, editable=False)
    events = models.JSONField(default=list, help_text="Any of: " + ", ".join(WEBHOOK_EVENTS))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.client})"

    @staticmethod
    def new_secret() -> str:
        return "whsec_" + secrets.token_urlsafe(32)


class WebhookDelivery(models.Model):
    """One event for one endpoint: its frozen payload and where its delivery stands."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Unique per delivery and the same on every try: receivers deduplicate on it.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=64)
    attempt = models.ForeignKey(
        "assessments.Attempt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
    )
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    tries = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # When the next try is due (pending only); a worker that takes it pushes it past the
    # try's longest duration, so the sweep re-enqueues it only if that worker died.
    next_try_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["state", "next_try_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} ({self.state})"


class WebhookTry(models.Model):
    """One POST of a delivery and how it ended."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_try_once"),
        ]

    def __str__(self) -> str:
        return f"try {self.number} of {self.delivery_id}: {self.status_code or self.error}"
