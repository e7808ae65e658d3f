"""Expired deep-linking requests are purged by a beat task, used or not."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from courses.models import Course
from lti import tasks
from lti.models import Context, DeepLinkRequest, Deployment, Platform
from quizsite.celery import app as celery_app


def _request(context: Context, *, expires_in: timedelta, used: bool = False) -> int:
    row = DeepLinkRequest.objects.create(
        token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        deployment=context.deployment,
        context=context,
        return_url="https://lms.example/return",
        expires_at=timezone.now() + expires_in,
        used_at=timezone.now() if used else None,
    )
    return row.id


def test_the_beat_purges_expired_deep_linking_requests(db: None) -> None:
    # given: two expired requests (one answered), one still open, one answered but not expired
    platform = Platform.objects.create(
        issuer="https://lms.example",
        client_id="tool-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
    )
    deployment = Deployment.objects.create(platform=platform, deployment_id="deployment-1")
    course = Course.objects.create(slug="dl-purge", title="Purge")
    context = Context.objects.create(deployment=deployment, context_id="ctx-1", course=course)
    _request(context, expires_in=timedelta(hours=-2))
    _request(context, expires_in=timedelta(seconds=-1), used=True)
    open_one = _request(context, expires_in=timedelta(minutes=30))
    answered = _request(context, expires_in=timedelta(minutes=30), used=True)
    # when
    deleted = tasks.deep_link_requests_purge()
    # then
    assert deleted == 2
    assert set(DeepLinkRequest.objects.values_list("id", flat=True)) == {open_one, answered}
    assert tasks.deep_link_requests_purge() == 0


def test_the_deep_link_purge_runs_on_beat(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["lti-deep-link-requests-purge"]
    assert entry["task"] == "lti.tasks.deep_link_requests_purge"
    assert entry["task"] in celery_app.tasks
