"""An outbox: what must follow a committed result, applied once per consumer.

A result (a graded submission, a scored attempt) is its subject; the apps that act on it
(a quiz slot is re-scored, a practice step moves on, an LMS hears of a score) are its
consumers, known to the result's app by name only. Each consumer registers in its
AppConfig.ready() with a name, the Celery task that applies a result (sent the subject's
id) and which subjects it wants.

1. The transaction that commits the result also records a delivery per consumer that
   wants the subject (a later result on the same subject re-arms the delivery); once it
   commits, each consumer's task is sent. A worker that dies in between leaves pending
   rows, not nothing.
2. The consumer's task takes its delivery (a conditional UPDATE that counts the try),
   then applies the result and marks the delivery applied in ONE transaction, holding the
   delivery's row lock: however often the task runs, the effect happens once per arming.
   Effects read the subject's current state, so one run covers every result recorded
   before it; they read it holding the subject's row too, so a result recorded meanwhile
   (its transaction changes the subject, so it waits) re-arms the delivery after it.
3. A try that fails is retried with backoff (core.backoff): at once by Celery when the
   error is transient (the database), otherwise by the sweep once its backoff is over.
4. A beat sweep sends again every pending delivery whose try is overdue (a lost task, a
   worker killed mid-try, a broker that lost its queue). The try after OUTBOX_MAX_TRIES
   tries gives up instead: the consumer applies its give-up effect, if it has one, and the
   delivery shows as given up. Nothing waits forever.

This module is the base layer's: it knows no app. Each outbox is an `Outbox` over a
concrete subclass of `Delivery` with a foreign key to its subject.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from core.backoff import backoff_seconds

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


class Delivery(models.Model):
    """What must follow one result for one consumer. Concrete subclasses add the foreign
    key to their subject, unique with `consumer`, and an index on (state, next_try_at)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPLIED = "applied", "Applied"
        GIVEN_UP = "given_up", "Given up"

    consumer = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    tries = models.PositiveSmallIntegerField(
        default=0, help_text="How many times its consumer took it."
    )
    last_error = models.CharField(max_length=500, blank=True)
    # Pending only: when the sweep may send it again. A consumer that takes it pushes it
    # past the try's longest duration; a failed try, to the end of its backoff.
    next_try_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Consumer:
    """Who listens for results: a name, the Celery task applying one, what it wants."""

    name: str
    task: str
    wants: Q


class Outbox:
    """The deliveries of one kind of result (`subject`: the delivery model's foreign key)."""

    def __init__(self, *, kind: str, model: type[Delivery], subject: str) -> None:
        self.kind = kind  # what a result is called in messages: "verdict", "score"
        self.model = model
        self.subject = subject
        self.subject_key = f"{subject}_id"
        self._consumers: dict[str, Consumer] = {}

    # ---------------------------------------------------------------- consumers

    def register(self, *, name: str, task: str, wants: Q) -> None:
        """Have the Celery task `task` apply every result on a subject matching `wants`."""
        consumer = Consumer(name=name, task=task, wants=wants)
        if self._consumers.get(name, consumer) != consumer:
            raise ImproperlyConfigured(f"Two {self.kind} consumers are named {name!r}.")
        self._consumers[name] = consumer

    def unregister(self, *, name: str) -> None:
        """Stop delivering to `name` (its pending deliveries are given up by the sweep)."""
        self._consumers.pop(name, None)

    def consumers(self) -> list[Consumer]:
        """Return the registered consumers."""
        return list(self._consumers.values())

    # ---------------------------------------------------------------- recording

    def record(self, *, subject_id: int, now: datetime | None = None) -> list[str]:
        """Record, in the result's own transaction, a delivery for every consumer that
        wants the subject (re-arming one already applied), and send their tasks once it
        commits; return the consumers' names."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(
                f"A {self.kind}'s deliveries are written in the {self.kind}'s transaction."
            )
        now = now or timezone.now()
        found = self._subject(subject_id)
        names = [c.name for c in self._consumers.values() if found.filter(c.wants).exists()]
        if not names:
            return []
        self.model._default_manager.bulk_create(
            [
                self.model(
                    **{self.subject_key: subject_id},
                    consumer=name,
                    created_at=now,
                    next_try_at=now,
                )
                for name in names
            ],
            ignore_conflicts=True,
        )
        self._rows(subject_id).filter(consumer__in=names).exclude(
            state=Delivery.State.PENDING
        ).update(state=Delivery.State.PENDING, tries=0, next_try_at=now, done_at=None)
        transaction.on_commit(lambda: self._send(subject_id, names), robust=True)
        return names

    def _rows(self, subject_id: int) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(**{self.subject_key: subject_id})

    def _subject(self, subject_id: int) -> models.QuerySet[Any]:
        subject_model = cast(
            type[models.Model], self.model._meta.get_field(self.subject).related_model
        )
        return subject_model._default_manager.filter(pk=subject_id)

    def _send(self, subject_id: int, names: list[str]) -> None:
        """Send each consumer's task; if the broker is down, the sweep sends them later."""
        for name in names:
            consumer = self._consumers.get(name)
            if consumer is not None:
                current_app.send_task(consumer.task, args=[subject_id])

    # ---------------------------------------------------------------- applying

    def apply(
        self, *, consumer: str, subject_id: int, apply: Effect, give_up: Effect | None = None
    ) -> float | None:
        """Apply the subject's result for `consumer` unless it is applied already.

        `apply(<subject>_id=...)` runs in the same transaction that marks the delivery
        applied; on the try after OUTBOX_MAX_TRIES, `give_up(<subject>_id=...)` runs
        instead and marks it given up. Return the seconds to wait before a retry when a
        transient error stopped this try, else None (done, nothing to do, or left to the
        sweep)."""
        now = timezone.now()
        pending = self._rows(subject_id).filter(consumer=consumer, state=Delivery.State.PENDING)
        tries = 0
        giving_up = False
        try:
            if not pending.update(tries=F("tries") + 1, next_try_at=now + LEASE):
                return None  # applied or given up already (or never recorded)
            tries = pending.values_list("tries", flat=True).first() or 0
            giving_up = tries > settings.OUTBOX_MAX_TRIES
            with transaction.atomic():
                delivery = pending.select_for_update().first()
                if delivery is None:
                    return None  # another run applied it while this one waited for the lock
                # Hold the subject while its result is read and handed on: a result recorded
                # meanwhile changes the subject, so it waits, finds the delivery applied and
                # re-arms it (or it came first, and is what the effect reads). Unheld, a
                # result recorded after the effect read the subject found the delivery still
                # pending, re-armed nothing, and was never applied (an LMS kept an older score).
                self._subject(subject_id).select_for_update(no_key=True).exists()
                if giving_up:
                    if give_up is not None:
                        give_up(**{self.subject_key: subject_id})
                    delivery.state = Delivery.State.GIVEN_UP
                    delivery.last_error = (
                        f"Given up after {tries - 1} tries. Last error: {delivery.last_error}"
                    )[:500]
                else:
                    apply(**{self.subject_key: subject_id})
                    delivery.state = Delivery.State.APPLIED
                delivery.done_at = timezone.now()
                delivery.next_try_at = None
                delivery.tries = tries
                delivery.save(
                    update_fields=["state", "last_error", "done_at", "next_try_at", "tries"]
                )
        except Exception as error:
            return self._try_failed(consumer, subject_id, tries, error)
        if giving_up:
            log.error("%s of %s %s: %s gave up", self.kind, self.subject, subject_id, consumer)
        return None

    def _try_failed(
        self, consumer: str, subject_id: int, tries: int, error: Exception
    ) -> float | None:
        """Record why a try failed and when the next is due; return the retry's delay if
        the error was transient (a bug waits for the sweep, and so is retried slowly)."""
        transient = isinstance(error, TRANSIENT_ERRORS)
        delay = backoff_seconds(
            max(tries, 1),
            base=settings.OUTBOX_RETRY_BASE_SECONDS,
            cap=settings.OUTBOX_RETRY_MAX_SECONDS,
        )
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a dropped connection: open a new one
        try:
            self._rows(subject_id).filter(consumer=consumer, state=Delivery.State.PENDING).update(
                last_error=f"{type(error).__name__}: {error}"[:500],
                next_try_at=timezone.now() + timedelta(seconds=delay),
            )
        except DatabaseError:
            log.warning(
                "%s of %s %s: could not record the failed try", self.kind, self.subject, subject_id
            )
        where = f"{self.kind} of {self.subject} {subject_id}: {consumer}"
        if transient:
            log.warning("%s failed, retrying: %s", where, error)
            return delay
        log.exception("%s failed", where)
        return None

    # ---------------------------------------------------------------- the sweep

    def resend_overdue(self, *, now: datetime | None = None) -> int:
        """Send again the pending deliveries whose try is overdue; return how many."""
        now = now or timezone.now()
        overdue = self.model._default_manager.filter(
            state=Delivery.State.PENDING, next_try_at__lt=now - OVERDUE_AFTER
        )
        sent = 0
        for delivery_id, subject_id, name in overdue.order_by("next_try_at").values_list(
            "pk", self.subject_key, "consumer"
        )[:SWEEP_BATCH]:
            consumer = self._consumers.get(name)
            if consumer is None:
                overdue.filter(pk=delivery_id).update(
                    state=Delivery.State.GIVEN_UP,
                    last_error="No consumer of that name is registered any more.",
                    next_try_at=None,
                    done_at=now,
                )
                continue
            # Only if still overdue (no task took it meanwhile), and not sent again before
            # the new task's lease is over.
            if overdue.filter(pk=delivery_id).update(next_try_at=now + LEASE):
                current_app.send_task(consumer.task, args=[subject_id])
                sent += 1
        return sent
