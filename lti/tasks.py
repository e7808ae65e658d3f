"""Celery tasks of LTI: score passback (retried with backoff) and roster syncs."""

from __future__ import annotations

from celery import shared_task

from lti import launch_states, passback, roster


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
