"""Celery tasks of LTI: score passback (retried with backoff), roster syncs, purges."""

from __future__ import annotations

from celery import shared_task

from assessments.scores import TASK_TIME_LIMIT, score_delivery_apply
from lti import deep_linking, launch_states, passback, roster

# The name LTI gradebooks listen for scores under (lti.apps registers it).
SCORE_CONSUMER = "lti-passback"


# Handed on once per score however often it runs (assessments.scores), so acks_late is
# safe; the delivery's own count of tries decides when to stop. Memory: one attempt.
@shared_task(
    bind=True,
    name="lti.tasks.attempt_score_passback",
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    soft_time_limit=TASK_TIME_LIMIT - 10,
    time_limit=TASK_TIME_LIMIT,
)
def attempt_score_passback(self, attempt_id: int) -> None:  # type: ignore[no-untyped-def]
    """Record the attempt's score for every LTI link of its learner, and send it."""
    delay = score_delivery_apply(
        consumer=SCORE_CONSUMER, attempt_id=attempt_id, apply=passback.attempt_passbacks_record
    )
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="lti.tasks.passback_send", ignore_result=True)
def passback_send(passback_id: int) -> str:
    """Send one score; on a retryable failure, schedule the next try with backoff."""
    from lti.models import Passback

    outcome = passback.passback_deliver(passback_id)
    if outcome == "retry":
        row = Passback.objects.get(id=passback_id)
        passback_send.apply_async((passback_id,), eta=row.next_try_at)
    return outcome


@shared_task(name="lti.tasks.passbacks_resend_due", ignore_result=True)
def passbacks_resend_due() -> int:
    """Beat: re-send pending scores whose task was lost (a worker died, Redis restarted)."""
    due = passback.passbacks_due()
    for passback_id in due:
        passback_send.delay(passback_id)
    return len(due)


@shared_task(name="lti.tasks.roster_sync", ignore_result=True)
def roster_sync(context_id: int) -> dict[str, int]:
    return roster.roster_sync(context_id).as_dict()


@shared_task(name="lti.tasks.rosters_sync_all", ignore_result=True)
def rosters_sync_all() -> int:
    """Beat: sync every context whose platform offers Names and Role Provisioning."""
    ids = roster.contexts_with_memberships()
    for context_id in ids:
        roster_sync.delay(context_id)
    return len(ids)


@shared_task(name="lti.tasks.launch_states_purge", ignore_result=True)
def launch_states_purge() -> int:
    """Beat: delete login states that expired (and whose handoff, if any, is over)."""
    return launch_states.launch_states_purge()


@shared_task(name="lti.tasks.deep_link_requests_purge", ignore_result=True)
def deep_link_requests_purge() -> int:
    """Beat: delete deep-linking requests past their expiry, answered or not."""
    return deep_linking.deep_link_requests_purge()
