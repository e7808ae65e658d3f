"""Deep Linking: an instructor picks our quizzes inside the LMS (or cancels).

The deep-linking launch opens a picker; the choice comes back with a one-time token (so
it works without cookies), and we answer the platform with a signed
`LtiDeepLinkingResponse`: one resource link per chosen quiz (several only when the
platform's `accept_multiple` allows), each with a line item unless the platform said
`accept_lineitem: false` or the quiz cannot be graded, presented the way the platform
accepts (`accept_presentation_document_targets`), and the request's `data` echoed as it
came, whatever its JSON type. A cancel answers with no content items. A quiz from the
open catalogue is copied into the LMS course first, so that the course's analytics see
its attempts; a quiz of the course itself is linked as it is.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from assessments.models import QuestionType, Quiz
from assessments.services import quiz_structure_copy
from courses.models import Course
from lti import claims, keys
from lti.launch_states import rows_delete_in_batches
from lti.models import Context, DeepLinkRequest, QuizCopy
from lti.validation import Launch, LaunchError

REQUEST_SECONDS = 3600
# The frame our quiz pages are laid out for, and the window a platform opens them in.
IFRAME_SIZE = {"width": 1000, "height": 800}
WINDOW_TARGET = "dropout-diagnostics"
# Question.is_scored: every type but explain-back items counts towards a score.
SCORED_TYPES = [qtype for qtype in QuestionType.values if qtype != QuestionType.EXPLAIN]


@dataclass(frozen=True)
class DeepLinkSettings:
    """What the platform's deep_linking_settings claim asks of our answer."""

    has_data: bool
    data: Any
    accept_multiple: bool
    accept_lineitem: bool
    targets: tuple[str, ...]

    @classmethod
    def from_claim(cls, claim: dict[str, Any]) -> DeepLinkSettings:
        targets = claim.get("accept_presentation_document_targets")
        return cls(
            has_data="data" in claim,
            data=claim.get("data"),
            # Absent: one item, the least the platform can be sure to take.
            accept_multiple=claim.get("accept_multiple") is True,
            # Absent: the spec says assume nothing, so the line item goes (it may be ignored).
            accept_lineitem=claim.get("accept_lineitem") is not False,
            targets=tuple(t for t in targets if isinstance(t, str))
            if isinstance(targets, list)
            else (),
        )


def _settings_stored(claim: dict[str, Any]) -> str:
    """The settings claim as JSON text for DeepLinkRequest.data (a TextField that once held
    only a string `data`; the whole claim keeps `data` of any JSON type and the accept_*)."""
    return json.dumps(claim, separators=(",", ":"))


def deep_link_settings(row: DeepLinkRequest) -> DeepLinkSettings:
    """Return what the request's platform accepts, as kept when the request came."""
    try:
        stored = json.loads(row.data) if row.data else None
    except ValueError:
        stored = None
    if isinstance(stored, dict) and "deep_link_return_url" in stored:
        return DeepLinkSettings.from_claim(stored)
    # A row written before the claim was kept whole: `data` was a string or nothing.
    legacy: dict[str, Any] = {"data": row.data} if row.data else {}
    return DeepLinkSettings.from_claim(legacy)


def deep_link_request_create(launch: Launch, context: Context) -> str:
    """Keep where the answer goes and what it may hold; return the one-time token the
    picker posts back. (Validation has checked that an instructor launched it and links
    are accepted.)"""
    settings_claim = launch.claims[claims.DEEP_LINKING_SETTINGS]
    token = secrets.token_urlsafe(32)
    DeepLinkRequest.objects.create(
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        deployment=launch.deployment,
        context=context,
        return_url=settings_claim["deep_link_return_url"][:1000],
        data=_settings_stored(settings_claim),
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


def deep_link_requests_purge() -> int:
    """Delete the requests that expired; return how many were deleted."""
    return rows_delete_in_batches(DeepLinkRequest.objects.filter(expires_at__lt=timezone.now()))


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


def quiz_score_maximum(quiz: Quiz) -> Decimal:
    """Return the quiz's one maximum: what its gradebook column and every score are out of.

    Each section draws `draw_count` questions of its form from its bank, so it adds
    draw_count x the top mark of its bank's scored questions of that form; a section that
    can draw only explain-back items (never scored) adds 0. Attempts that drew lighter
    questions are scaled to this maximum by passback. 0 means the quiz cannot be graded:
    it gets no line item."""
    sections = quiz.sections.annotate(
        top=Max(
            "bank__questions__mark",
            filter=Q(bank__questions__qtype__in=SCORED_TYPES)
            & (Q(form="") | Q(bank__questions__form=F("form"))),
        )
    )
    return sum(
        (section.draw_count * (section.top or Decimal(0)) for section in sections), Decimal(0)
    )


def _presentation(targets: tuple[str, ...]) -> dict[str, Any]:
    """The placement the platform accepts: inside its page (what our pages are made for),
    else a window of its own; neither accepted (or no list): the platform's default."""
    if "iframe" in targets:
        return {"iframe": dict(IFRAME_SIZE)}
    if "window" in targets:
        return {"window": {"targetName": WINDOW_TARGET}}
    return {}


def content_item(quiz: Quiz, origin: str, settings: DeepLinkSettings) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": claims.LTI_RESOURCE_LINK,
        "title": quiz.title,
        "text": quiz.description[:500],
        "url": origin + reverse("lti:quiz", args=[quiz.slug]),
        "custom": {"quiz": quiz.slug},
        **_presentation(settings.targets),
    }
    maximum = quiz_score_maximum(quiz)
    if settings.accept_lineitem and maximum > 0:
        item["lineItem"] = {
            "scoreMaximum": float(maximum),
            "label": quiz.title,
            "resourceId": quiz.slug,
            "tag": "quiz",
        }
    return item


@transaction.atomic
def deep_link_answer(request_row: DeepLinkRequest, quizzes: list[Quiz], origin: str) -> str:
    """Use the request up and return the signed LtiDeepLinkingResponse JWT linking
    `quizzes` (none: the instructor cancelled)."""
    settings = deep_link_settings(request_row)
    if len(quizzes) > 1 and not settings.accept_multiple:
        raise LaunchError(400, "deep_link_one", "This course takes one quiz per link.")
    taken = DeepLinkRequest.objects.filter(id=request_row.id, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not taken:
        raise LaunchError(400, "deep_link_used", "This choice was already sent to the course.")
    course = request_row.context.course
    linked = [quiz_for_course(quiz, course) for quiz in quizzes]
    platform = request_row.deployment.platform
    body: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "nonce": secrets.token_urlsafe(16),
        claims.DEPLOYMENT_ID: request_row.deployment.deployment_id,
        claims.MESSAGE_TYPE: claims.DEEP_LINKING_RESPONSE,
        claims.VERSION: "1.3.0",
        claims.DEEP_LINKING_CONTENT_ITEMS: [content_item(q, origin, settings) for q in linked],
    }
    if linked:
        body[claims.DEEP_LINKING_MESSAGE] = "Added " + ", ".join(q.title for q in linked) + "."
    else:
        body[claims.DEEP_LINKING_LOG] = "The instructor cancelled: no quiz was added."
    if settings.has_data:
        body[claims.DEEP_LINKING_DATA] = settings.data
    return keys.sign(body, lifetime=600)
