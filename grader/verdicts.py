"""What follows a verdict: one path from the grader to every consumer, applied once each.

The grader knows its consumers only by name. Each one (quizzes re-score a code slot,
practice moves a code step on) registers in its AppConfig.ready() with a name, the Celery
task that applies a verdict (sent the submission's id) and which submissions it wants.

1. The transaction that commits a verdict (graded, or failed by the sweep) also writes a
   VerdictDelivery per consumer that wants the submission; once it commits, each
   consumer's task is sent. A worker that dies in between leaves pending rows, not nothing.
2. The consumer's task takes its delivery (a conditional UPDATE that counts the try),
   then applies the verdict and marks the delivery applied in ONE transaction, holding the
   delivery's row lock: however often the task runs, the effect happens once.
3. A try that fails is retried with backoff (quizsite.backoff): at once by Celery when the
   error is transient (the database), otherwise by the sweep once its backoff is over.
4. The beat sweep sends again every pending delivery whose try is overdue (a lost task,
   a worker killed mid-try). The try after VERDICT_MAX_TRIES tries gives up instead: the
   consumer applies its give-up effect (a practice step asks for the code again) and the
   delivery shows as given up. Nothing waits forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from grader.models import Submission, VerdictDelivery
from quizsite.backoff import backoff_seconds

log = logging.getLogger(__name__)

# A consumer's task is killed after TASK_TIME_LIMIT seconds; until then (and a margin)
# the sweep leaves a taken delivery alone.
TASK_TIME_LIMIT = 60
LEASE = timedelta(seconds=TASK_TIME_LIMIT + 30)
# A pending delivery this far past its due time lost its task (or its worker).
OVERDUE_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 500
# Errors worth an immediate retry: the database went away or was locked.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

Effect = Callable[..., object]


@dataclass(frozen=True)
class VerdictConsumer:
    """Who listens for verdicts: a name, the Celery task applying one, what it wants."""

    name: str
    task: str
    wants: Q


_consumers: dict[str, VerdictConsumer] = {}


def verdict_consumer_register(*, name: str, task: str, wants: Q) -> None:
    """Have the Celery task `task` apply every verdict on a submission matching `wants`."""
    consumer = VerdictConsumer(name=name, task=task, wants=wants)
    if _consumers.get(name, consumer) != consumer:
        raise ImproperlyConfigured(f"Two verdict consumers are named {name!r}.")
    _consumers[name] = consumer


def verdict_consumer_unregister(*, name: str) -> None:
    """Stop delivering verdicts to `name` (pending deliveries are given up by the sweep)."""
    _consumers.pop(name, None)


def verdict_consumers() -> list[VerdictConsumer]:
    """Return the registered consumers."""
    return list(_consumers.values())


def verdict_deliveries_create(*, submission_id: int, now: datetime | None = None) -> list[str]:
    """Record, in the verdict's own transaction, a delivery for every consumer that wants
    the submission, and send their tasks once it commits; return the consumers' names."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A verdict's deliveries are written in the verdict's transaction.")
    now = now or timezone.now()
    submission = Submission.objects.filter(id=submission_id)
    names = [c.name for c in _consumers.values() if submission.filter(c.wants).exists()]
    if not names:
        return []
    VerdictDelivery.objects.bulk_create(
        [
            VerdictDelivery(
                submission_id=submission_id, consumer=name, created_at=now, next_try_at=now
            )
            for name in names
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: _send(submission_id, names), robust=True)
    return names


def _send(submission_id: int, names: list[str]) -> None:
    """Send each consumer's task; if the broker is down, the sweep sends them later."""
    for name in names:
        consumer = _consumers.get(name)
        if consumer is not None:
            current_app.send_task(consumer.task, args=[submission_id])


def verdict_delivery_apply(
    *, consumer: str, submission_id: int, apply: Effect, give_up: Effect | None = None
) -> float | None:
    """Apply the submission's verdict for `consumer` unless it is applied already.

    `apply(submission_id=...)` runs in the same transaction that marks the delivery
    applied; on the try after VERDICT_MAX_TRIES, `give_up(submission_id=...)` runs instead
    and marks it given up. Return the seconds to wait before a retry when a transient
    error stopped this try, else None (done, nothing to do, or left to the sweep)."""
    now = timezone.now()
    pending = VerdictDelivery.objects.filter(
        submission_id=submission_id, consumer=consumer, state=VerdictDelivery.State.PENDING
    )
    tries = 0
    giving_up = False
    try:
        if not pending.update(tries=F("tries") + 1, next_try_at=now + LEASE):
            return None  # applied or given up already (or never recorded)
        tries = pending.values_list("tries", flat=True).first() or 0
        giving_up = tries > settings.VERDICT_MAX_TRIES
        with transaction.atomic():
            delivery = pending.select_for_update().first()
            if delivery is None:
                return None  # another run applied it while this one waited for the lock
            if giving_up:
                if give_up is not None:
                    give_up(submission_id=submission_id)
                delivery.state = VerdictDelivery.State.GIVEN_UP
                delivery.last_error = (
                    f"Given up after {tries - 1} tries. Last error: {delivery.last_error}"
                )[:500]
            else:
                apply(submission_id=submission_id)
                delivery.state = VerdictDelivery.State.APPLIED
            delivery.done_at = timezone.now()
            delivery.next_try_at = None
            delivery.tries = tries
            delivery.save(update_fields=["state", "last_error", "done_at", "next_try_at", "tries"])
    except Exception as error:
        return _try_failed(consumer, submission_id, tries, error)
    if giving_up:
        log.error("Verdict of submission %s: %s gave up", submission_id, consumer)
    return None


def _try_failed(consumer: str, submission_id: int, tries: int, error: Exception) -> float | None:
    """Record why a try failed and when the next is due; return the retry's delay if the
    error was transient (a bug waits for the sweep, and so is retried slowly)."""
    transient = isinstance(error, TRANSIENT_ERRORS)
    delay = backoff_seconds(
        max(tries, 1),
        base=settings.VERDICT_RETRY_BASE_SECONDS,
        cap=settings.VERDICT_RETRY_MAX_SECONDS,
    )
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()  # a dropped connection: open a new one
    try:
        VerdictDelivery.objects.filter(
            submission_id=submission_id, consumer=consumer, state=VerdictDelivery.State.PENDING
        ).update(
            last_error=f"{type(error).__name__}: {error}"[:500],
            next_try_at=timezone.now() + timedelta(seconds=delay),
        )
    except DatabaseError:
        log.warning("Verdict of submission %s: could not record the failed try", submission_id)
    if transient:
        log.warning(
            "Verdict of submission %s: %s failed, retrying: %s", submission_id, consumer, error
        )
        return delay
    log.exception("Verdict of submission %s: %s failed", submission_id, consumer)
    return None


def verdict_deliveries_resend_overdue(*, now: datetime | None = None) -> int:
    """Send again the pending deliveries whose try is overdue; return how many."""
    now = now or timezone.now()
    overdue = VerdictDelivery.objects.filter(
        state=VerdictDelivery.State.PENDING, next_try_at__lt=now - OVERDUE_AFTER
    )
    sent = 0
    for delivery_id, submission_id, name in overdue.order_by("next_try_at").values_list(
        "id", "submission_id", "consumer"
    )[:SWEEP_BATCH]:
        consumer = _consumers.get(name)
        if consumer is None:
            overdue.filter(id=delivery_id).update(
                state=VerdictDelivery.State.GIVEN_UP,
                last_error="No consumer of that name is registered any more.",
                next_try_at=None,
                done_at=now,
            )
            continue
        # Only if still overdue (no task took it meanwhile), and not sent again before the
        # new task's lease is over.
        if overdue.filter(id=delivery_id).update(next_try_at=now + LEASE):
            current_app.send_task(consumer.task, args=[submission_id])
            sent += 1
    return sent
