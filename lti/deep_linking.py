"""Deep Linking: an instructor picks one of our quizzes inside the LMS.

The deep-linking launch opens a picker; the choice comes back with a one-time token (so
it works without cookies), and we answer the platform with a signed
`LtiDeepLinkingResponse` holding one resource link and its line item. A quiz from the
open catalogue is copied into the LMS course first, so that the course's analytics see
its attempts; a quiz of the course itself is linked as it is.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from assessments.models import Quiz
from assessments.services import quiz_structure_copy
from courses.models import Course
from lti import claims, keys
from lti.models import Context, DeepLinkRequest, QuizCopy
from lti.validation import Launch, LaunchError

REQUEST_SECONDS = 3600


def deep_link_request_create(launch: Launch, context: Context) -> str:
    """Keep where the answer goes; return the one-time token the picker posts back.
    (Validation has checked that an instructor launched it and links are accepted.)"""
    settings_claim = launch.claims[claims.DEEP_LINKING_SETTINGS]
    token = secrets.token_urlsafe(32)
    data = settings_claim.get("data")
    DeepLinkRequest.objects.create(
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        deployment=launch.deployment,
        context=context,
        return_url=settings_claim["deep_link_return_url"][:1000],
        data=data if isinstance(data, str) else "",
        expires_at=timezone.now() + timedelta(seconds=REQUEST_SECONDS),
    )
    return token


def deep_link_request(token: str) -> DeepLinkRequest | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        DeepLinkRequest.objects.select_related("context__course", "deployment__platform")
        .filter(token_hash=digest, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def quizzes_offered(course: Course) -> QuerySet[Quiz]:
    """What an instructor may link: the open catalogue and the course's own quizzes."""
    return Quiz.objects.filter(Q(course__isnull=True) | Q(course=course), is_published=True)


def quiz_for_course(quiz: Quiz, course: Course) -> Quiz:
    """The course's own quiz: `quiz` itself, or its copy in the course (made once)."""
    if quiz.course_id == course.id:
        return quiz
    made = QuizCopy.objects.select_related("copy").filter(source=quiz, course=course)
    existing = made.first()
    if existing is not None:
        return existing.copy
    slug = f"{quiz.slug[:60]}-c{course.id}"
    if Quiz.objects.filter(slug=slug).exists():
        slug = f"{slug}-{secrets.token_hex(4)}"  # another quiz has it; the record finds ours
    try:
        with transaction.atomic():
            copy = Quiz.objects.create(
                slug=slug,
                title=quiz.title,
                description=quiz.description,
                shuffle_questions=quiz.shuffle_questions,
                shuffle_choices=quiz.shuffle_choices,
                time_limit=quiz.time_limit,
                attempts_allowed=quiz.attempts_allowed,
                opens_at=quiz.opens_at,
                closes_at=quiz.closes_at,
                course=course,
                role=quiz.role,
            )
            quiz_structure_copy(source=quiz, target=copy)
            QuizCopy.objects.create(source=quiz, course=course, copy=copy)
    except IntegrityError:
        # A simultaneous choice made the copy (on PostgreSQL our insert waited for it to
        # commit): use theirs; ours went with the savepoint.
        return made.get().copy
    return copy


def content_item(quiz: Quiz, origin: str) -> dict[str, Any]:
    return {
        "type": claims.LTI_RESOURCE_LINK,
        "title": quiz.title,
        "text": quiz.description[:500],
        "url": origin + reverse("lti:quiz", args=[quiz.slug]),
        "lineItem": {
            "scoreMaximum": float(quiz_score_maximum(quiz)),
            "label": quiz.title,
            "resourceId": quiz.slug,
            "tag": "quiz",
        },
        "custom": {"quiz": quiz.slug},
    }


def quiz_score_maximum(quiz: Quiz) -> Decimal:
    """The most marks an attempt can earn: each section's draws at its bank's top mark.

    Each attempt's score goes back with its own `scoreMaximum`, so a platform scales
    attempts that drew lighter questions correctly; this is the line item's label."""
    total = Decimal(0)
    for section in quiz.sections.annotate(top=Max("bank__questions__mark")):
        total += section.draw_count * (section.top or Decimal(1))
    return total or Decimal(1)


@transaction.atomic
def deep_link_answer(request_row: DeepLinkRequest, quiz: Quiz, origin: str) -> str:
    """Use the request up and return the signed LtiDeepLinkingResponse JWT."""
    taken = DeepLinkRequest.objects.filter(id=request_row.id, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not taken:
        raise LaunchError(400, "deep_link_used", "This choice was already sent to the course.")
    linked = quiz_for_course(quiz, request_row.context.course)
    platform = request_row.deployment.platform
    body: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "nonce": secrets.token_urlsafe(16),
        claims.DEPLOYMENT_ID: request_row.deployment.deployment_id,
        claims.MESSAGE_TYPE: claims.DEEP_LINKING_RESPONSE,
        claims.VERSION: "1.3.0",
        claims.DEEP_LINKING_CONTENT_ITEMS: [content_item(linked, origin)],
        claims.DEEP_LINKING_MESSAGE: f"Added {linked.title}.",
    }
    if request_row.data:
        body[claims.DEEP_LINKING_DATA] = request_row.data
    return keys.sign(body, lifetime=600)
