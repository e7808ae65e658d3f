"""Assignment and Grade Services: scores go back to the platform's gradebook.

When an attempt is scored (assessments.scores), every link the learner launched for that
quiz owes the platform a score. The debt is a `Passback` row, written in the same
transaction that reads the attempt, and a Celery task pays it: it makes the line item if
the platform gave none, then posts the score. A platform that is down leaves the row
pending; the task retries with backoff and a beat sweep re-sends rows whose task was
lost. Each row always carries the attempt's latest score.

A gradebook column has one maximum: the quiz's (`quiz_score_maximum`), the same in the
line item and in every score. An attempt that drew lighter questions, or an unscored
explain item, is scaled to it: scoreGiven is the attempt's fraction of its own marks
times the quiz's maximum. A score is posted only when the launch granted the `score`
scope; otherwise the row fails with the reason.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assessments.models import Attempt, QuestionType
from core.backoff import backoff_seconds
from grader.models import Submission
from lti import claims
from lti.deep_linking import quiz_score_maximum
from lti.line_items import LINEITEM_MEDIA_TYPE, lineitem_service_url
from lti.models import LinkLearner, Passback, ResourceLink
from lti.platform_client import PlatformError, service_request
from lti.score_comment import attempt_comment

log = logging.getLogger(__name__)

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"


def grading_progress(attempt: Attempt) -> str:
    """FullyGraded, or Pending while a code answer of the attempt is still being graded."""
    waiting = Submission.objects.filter(
        response__attempt=attempt,
        response__question__qtype=QuestionType.CODE,
        status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING],
    ).exists()
    return "Pending" if waiting else "FullyGraded"


# Gradebooks show two decimals; a scaled score keeps two (7 of 11 marks out of 12: 7.64).
SCORE_PLACES = Decimal("0.01")


def score_scaled(*, score: Decimal, attempt_maximum: Decimal, quiz_maximum: Decimal) -> Decimal:
    """Return the attempt's fraction of its own marks, out of the quiz's one maximum."""
    if attempt_maximum <= 0:
        return Decimal(0)
    scaled = score / attempt_maximum * quiz_maximum
    return min(scaled, quiz_maximum).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def attempt_passbacks_record(*, attempt_id: int) -> None:
    """Record what each LTI link of the attempt's learner owes; send it once committed."""
    for passback_id in passbacks_record(attempt_id):
        passback_enqueue(passback_id)


@transaction.atomic
def passbacks_record(attempt_id: int) -> list[int]:
    attempt = (
        Attempt.objects.select_related("quiz")
        .filter(id=attempt_id, state=Attempt.State.SUBMITTED, is_preview=False)
        .first()
    )
    if attempt is None or attempt.score is None:
        return []
    owed = LinkLearner.objects.filter(user_id=attempt.learner_id, link__quiz_id=attempt.quiz_id)
    progress = grading_progress(attempt)
    now = timezone.now()
    maximum = quiz_score_maximum(attempt.quiz)
    gradable = maximum > 0 and attempt.max_score > 0
    given = score_scaled(
        score=attempt.score, attempt_maximum=attempt.max_score, quiz_maximum=maximum
    )
    ids = []
    for link_learner in owed:
        passback, _ = Passback.objects.update_or_create(
            link_learner=link_learner,
            attempt=attempt,
            defaults={
                "score_given": given,
                "score_maximum": maximum,
                "grading_progress": progress,
                "scored_at": attempt.updated_at or now,
                "state": Passback.State.PENDING if gradable else Passback.State.FAILED,
                "tries": 0,
                "next_try_at": now,
                "last_error": "" if gradable else NOT_GRADABLE,
            },
        )
        if gradable:
            ids.append(passback.id)
    return ids


NOT_GRADABLE = (
    "Nothing to send: the quiz (or this attempt's draw) has no scored question, so it has "
    "no grade out of a maximum."
)
NO_SCORE_SCOPE = (
    "The platform's launch did not grant the AGS `score` scope for this course, so no score "
    "may be posted; ask the LMS administrator to enable grade passback for the tool."
)


def passback_enqueue(passback_id: int, countdown: float = 0) -> None:
    from lti.tasks import passback_send

    transaction.on_commit(lambda: passback_send.apply_async((passback_id,), countdown=countdown))


def _lineitem_create(link: ResourceLink) -> str:
    context = link.context
    if not context.lineitems_url or claims.SCOPE_LINEITEM not in context.ags_scopes:
        raise PlatformError(
            "The platform gave this link no line item and no right to make one.", retry=False
        )
    quiz = link.quiz
    assert quiz is not None
    response = service_request(
        context.deployment.platform,
        [claims.SCOPE_LINEITEM],
        "POST",
        context.lineitems_url,
        accept=LINEITEM_MEDIA_TYPE,
        content_type=LINEITEM_MEDIA_TYPE,
        json_body={
            "scoreMaximum": float(quiz_score_maximum(quiz)),
            "label": quiz.title,
            "resourceId": quiz.slug,
            "resourceLinkId": link.resource_link_id,
            "tag": "quiz",
        },
    )
    try:
        lineitem_url = str(response.json()["id"])
    except (ValueError, KeyError, TypeError) as error:
        raise PlatformError("The platform's new line item has no `id`.") from error
    link.lineitem_url = lineitem_url
    link.save(update_fields=["lineitem_url", "updated_at"])
    return lineitem_url


def score_payload(passback: Passback, sub: str) -> dict[str, Any]:
    """Return the AGS score for one passback, its comment read from the attempt now."""
    return {
        "userId": sub,
        "scoreGiven": float(passback.score_given),
        "scoreMaximum": float(passback.score_maximum),
        "activityProgress": "Completed",
        "gradingProgress": passback.grading_progress,
        "timestamp": passback.scored_at.isoformat(),
        "comment": attempt_comment(attempt=passback.attempt),
    }


def passback_deliver(passback_id: int) -> str:
    """Post one pending score; return what happened (sent, failed, retry, gone)."""
    passback = (
        Passback.objects.select_related(
            "link_learner__link__context__deployment__platform",
            "link_learner__link__quiz",
            "attempt",
        )
        .filter(id=passback_id, state=Passback.State.PENDING)
        .first()
    )
    if passback is None:
        return "gone"
    link = passback.link_learner.link
    platform = link.context.deployment.platform
    passback.tries += 1
    try:
        if claims.SCOPE_SCORE not in link.context.ags_scopes:
            raise PlatformError(NO_SCORE_SCOPE, retry=False)
        lineitem_url = link.lineitem_url or _lineitem_create(link)
        payload = score_payload(passback, passback.link_learner.sub)
        service_request(
            platform,
            [claims.SCOPE_SCORE],
            "POST",
            lineitem_service_url(lineitem_url, "scores"),
            content_type=SCORE_MEDIA_TYPE,
            json_body=payload,
        )
    except PlatformError as error:
        passback.last_status = error.status
        passback.last_error = str(error)[:500]
        give_up = not error.retry or passback.tries >= settings.LTI_PASSBACK_MAX_TRIES
        if give_up:
            passback.state = Passback.State.FAILED
        else:
            wait = backoff_seconds(
                passback.tries,
                base=settings.LTI_RETRY_BASE_SECONDS,
                cap=settings.LTI_RETRY_MAX_SECONDS,
            )
            passback.next_try_at = timezone.now() + timedelta(seconds=wait)
        Passback.objects.filter(id=passback.id, state=Passback.State.PENDING).update(
            tries=passback.tries,
            last_status=passback.last_status,
            last_error=passback.last_error,
            state=passback.state,
            next_try_at=passback.next_try_at,
        )
        log.warning("LTI score for attempt %s: %s", passback.attempt_id, error)
        return "failed" if give_up else "retry"
    Passback.objects.filter(id=passback.id, state=Passback.State.PENDING).update(
        tries=passback.tries,
        state=Passback.State.SENT,
        sent_at=timezone.now(),
        last_status=200,
        last_error="",
    )
    return "sent"


def passbacks_due(limit: int = 200) -> list[int]:
    """Pending scores whose next try is overdue (their task was lost, or is late)."""
    slack = timezone.now() - timedelta(seconds=settings.LTI_RETRY_BASE_SECONDS)
    return list(
        Passback.objects.filter(state=Passback.State.PENDING, next_try_at__lt=slack)
        .order_by("next_try_at")
        .values_list("id", flat=True)[:limit]
    )
