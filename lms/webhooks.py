"""Grade webhooks: endpoints, a delivery per scored attempt, signed POSTs, retries.

State lives in the database before anything is enqueued. A Celery task makes one try
per run: it takes the delivery with a conditional UPDATE (so a duplicate task does
nothing), POSTs, records the try, and asks Celery to run it again after a backoff. The
beat sweep re-enqueues pending deliveries whose try is long overdue (a lost task or a
worker that died mid-try).

Signature: `X-Quiz-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`,
with a fresh `t` on every try; the body's bytes are the same on every try.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Attempt
from core.backoff import backoff_seconds
from core.errors import ApplicationError, ConflictError, NotFoundError
from core.inputs import MAX_ID, int_field
from lms import outbound
from lms.models import (
    EVENT_PING,
    ApiClient,
    LmsIdentity,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookTry,
)
from lms.selectors import client_issuer

log = logging.getLogger(__name__)

EVENT_SCORED = "attempt.scored"
MAX_ENDPOINTS_PER_CLIENT = 20
# A task run is killed after TRY_TIME_LIMIT seconds; until then (and a margin) nobody
# else may take the delivery, after that the sweep may.
TRY_TIME_LIMIT = 60
LEASE = timedelta(seconds=TRY_TIME_LIMIT + 30)
# A pending delivery this far past its due time lost its task (or its worker).
OVERDUE_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 500


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the X-Quiz-Signature header for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _iso(moment: datetime | None) -> str | None:
    """The API's date-time format (as DRF renders it: ISO 8601, UTC as Z)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event(delivery: WebhookDelivery, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": _iso(timezone.now()),
        "data": data,
    }


def webhook_url_check(url: str) -> None:
    """Refuse a URL we would never call, with an error naming the `url` field."""
    try:
        outbound.target_check(url)
    except (outbound.TargetRefused, outbound.TargetUnresolved) as error:
        raise ApplicationError(f"url: {error}", fields={"url": str(error)}) from None


@transaction.atomic
def webhook_endpoint_create(
    *, client: ApiClient, url: str, events: list[str], is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint for the client with a new signing secret."""
    webhook_url_check(url)
    # Lock the client row so two concurrent creations cannot both pass the count.
    ApiClient.objects.select_for_update().filter(id=client.id).first()
    if client.webhooks.count() >= MAX_ENDPOINTS_PER_CLIENT:
        raise ConflictError(
            f"A client may have at most {MAX_ENDPOINTS_PER_CLIENT} webhook endpoints; "
            "delete one first.",
            code="too_many_webhooks",
        )
    endpoint = WebhookEndpoint(
        client=client,
        url=url,
        events=sorted(set(events)),
        is_active=is_active,
        secret=WebhookEndpoint.new_secret(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_get(*, client: ApiClient, endpoint_id: int) -> WebhookEndpoint:
    """The client's endpoint; anyone else's looks absent."""
    endpoint = client.webhooks.filter(id=endpoint_id).first() if endpoint_id <= MAX_ID else None
    if endpoint is None:
        raise NotFoundError("No such webhook.")
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, client: ApiClient, endpoint_id: int) -> None:
    """Delete the endpoint and its deliveries (pending ones are not sent)."""
    webhook_endpoint_get(client=client, endpoint_id=endpoint_id).delete()


def _enqueue(delivery_ids: list[int]) -> None:
    """Enqueue a try of each; if the broker is down, the sweep enqueues them later."""
    from lms.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        webhook_deliver.delay(delivery_id)


@transaction.atomic
def webhook_ping(*, client: ApiClient, endpoint_id: int) -> WebhookDelivery:
    """Send the endpoint a test event (`ping`), recorded like any delivery."""
    endpoint = webhook_endpoint_get(client=client, endpoint_id=endpoint_id)
    if not endpoint.is_active:
        raise ConflictError("This webhook is inactive.", code="webhook_inactive")
    delivery = WebhookDelivery(endpoint=endpoint, event=EVENT_PING, next_try_at=timezone.now())
    delivery.payload = _event(delivery, {"webhook": endpoint.id, "client": client.id})
    delivery.save()
    transaction.on_commit(lambda: _enqueue([delivery.id]), robust=True)
    return delivery


@transaction.atomic
def attempt_deliveries_create(*, attempt_id: int) -> list[int]:
    """Create a delivery of the attempt's score for every endpoint that should hear of it
    (active, its client not revoked, bound to the course and holding grades:read) and
    enqueue them once committed. Previews and quizzes outside courses send nothing."""
    attempt = (
        Attempt.objects.select_related("quiz")
        .filter(
            id=attempt_id,
            state=Attempt.State.SUBMITTED,
            is_preview=False,
            quiz__course__isnull=False,
        )
        .first()
    )
    if attempt is None:
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.select_related("client").filter(
            is_active=True,
            client__revoked_at__isnull=True,
            client__courses=attempt.quiz.course_id,
        )
        # JSON lists are filtered here: SQLite has no JSON `contains`; a client has few.
        if EVENT_SCORED in endpoint.events and "grades:read" in endpoint.client.scopes
    ]
    if not endpoints:
        return []
    lms_ids = dict(
        LmsIdentity.objects.filter(
            issuer__in={client_issuer(e.client) for e in endpoints}, user_id=attempt.learner_id
        ).values_list("issuer", "lms_user_id")
    )
    now = timezone.now()
    created = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            endpoint=endpoint, event=EVENT_SCORED, attempt=attempt, next_try_at=now
        )
        delivery.payload = _event(
            delivery,
            {
                "course": attempt.quiz.course_id,
                "quiz": attempt.quiz_id,
                "attempt": attempt.id,
                "user": attempt.learner_id,
                "lms_user_id": lms_ids.get(client_issuer(endpoint.client)),
                "number": attempt.number,
                "score": None if attempt.score is None else float(attempt.score),
                "max_score": float(attempt.max_score),
                "submitted_at": _iso(attempt.submitted_at),
                "updated_at": _iso(attempt.updated_at),
            },
        )
        delivery.save()
        created.append(delivery.id)
    transaction.on_commit(lambda: _enqueue(created), robust=True)
    return created


@dataclass(frozen=True)
class TryOutcome:
    status_code: int | None
    error: str
    retry: bool
    not_before: float = 0.0  # seconds the receiver asked us to wait (Retry-After)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _retry_after(raw: str | None) -> float:
    try:
        seconds = int_field(raw or "", field="Retry-After")
    except ApplicationError:
        return 0.0  # absent, an HTTP date, or nonsense: our own backoff decides
    return float(min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def _post(delivery: WebhookDelivery) -> TryOutcome:
    """Make one POST of the delivery and say how it went."""
    endpoint = delivery.endpoint
    try:
        target = outbound.target_check(endpoint.url)
    except outbound.TargetRefused as error:
        return TryOutcome(None, f"Refused: {error}", retry=False)
    except outbound.TargetUnresolved as error:
        return TryOutcome(None, str(error), retry=True)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dropout-quiz-webhooks/1",
        "X-Quiz-Event": delivery.event,
        "X-Quiz-Delivery": str(delivery.event_id),
        "X-Quiz-Signature": signature(
            secret=endpoint.secret, timestamp=int(time.time()), body=body
        ),
    }
    try:
        reply = outbound.post(target, body, headers)
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return TryOutcome(None, f"{type(error).__name__}: {error}", retry=True)
    except SoftTimeLimitExceeded:
        # A receiver that drips its reply byte by byte; the try still counts.
        return TryOutcome(None, "The receiver took too long to answer.", retry=True)
    code = reply.status
    if 200 <= code < 300:
        return TryOutcome(code, "", retry=False)
    if 300 <= code < 400:
        return TryOutcome(code, f"HTTP {code}: redirects are not followed.", retry=False)
    message = f"HTTP {code}: {reply.snippet}".strip()
    if code in (408, 425, 429) or code >= 500:
        return TryOutcome(code, message, retry=True, not_before=_retry_after(reply.retry_after))
    return TryOutcome(code, message, retry=False)


def _refusal(delivery: WebhookDelivery) -> str | None:
    """Why the delivery may no longer be sent at all, if it may not."""
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return "The webhook was deactivated."
    if not endpoint.client.is_active:
        return "The API client was revoked."
    if delivery.event == EVENT_SCORED and "grades:read" not in endpoint.client.scopes:
        return "The API client no longer holds grades:read."
    return None


def webhook_delivery_try(*, delivery_id: int) -> float | None:
    """Make the delivery's next try if it is due and nobody else is making it.

    Return the seconds until the try after this one, or None when there is none to
    schedule (delivered, given up, not due, or taken by another worker)."""
    now = timezone.now()
    taken = WebhookDelivery.objects.filter(
        id=delivery_id, state=WebhookDelivery.State.PENDING, next_try_at__lte=now
    ).update(next_try_at=now + LEASE)
    if not taken:
        return None
    delivery = (
        WebhookDelivery.objects.select_related("endpoint__client").filter(id=delivery_id).first()
    )
    if delivery is None:
        return None  # its endpoint was deleted in the meantime
    refusal = _refusal(delivery)
    if refusal is not None:
        WebhookDelivery.objects.filter(id=delivery_id).update(
            state=WebhookDelivery.State.FAILED, last_error=refusal, next_try_at=None
        )
        return None
    number = delivery.tries + 1
    started = timezone.now()
    clock = time.monotonic()
    outcome = _post(delivery)
    duration_ms = int((time.monotonic() - clock) * 1000)
    finished = timezone.now()
    changes: dict[str, Any] = {
        "tries": number,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500],
        "next_try_at": None,
    }
    delay = None
    if outcome.delivered:
        changes.update(state=WebhookDelivery.State.DELIVERED, delivered_at=finished)
    elif outcome.retry and number < settings.WEBHOOK_MAX_TRIES:
        waited = backoff_seconds(
            number,
            base=settings.WEBHOOK_BACKOFF_BASE_MS / 1000,
            cap=settings.WEBHOOK_BACKOFF_MAX_SECONDS,
        )
        delay = max(waited, outcome.not_before)
        changes["next_try_at"] = finished + timedelta(seconds=delay)
    else:
        changes["state"] = WebhookDelivery.State.FAILED
    try:
        with transaction.atomic():
            WebhookTry.objects.create(
                delivery_id=delivery_id,
                number=number,
                started_at=started,
                duration_ms=duration_ms,
                status_code=outcome.status_code,
                error=outcome.error[:500],
            )
            WebhookDelivery.objects.filter(id=delivery_id).update(**changes)
    except IntegrityError:
        return None  # the endpoint (and so the delivery) was deleted during the POST
    log.info(
        "Webhook delivery %s try %s: %s %s",
        delivery_id,
        number,
        outcome.status_code,
        outcome.error[:100],
    )
    return delay


def webhook_deliveries_requeue_overdue(*, now: datetime | None = None) -> int:
    """Re-enqueue pending deliveries whose try is long overdue; return how many."""
    now = now or timezone.now()
    overdue = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_try_at__lt=now - OVERDUE_AFTER
        )
        .order_by("next_try_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    _enqueue(overdue)
    return len(overdue)
