"""What a valid launch does: find or make the course, the person and the link.

An LMS context becomes one of our Courses (made on its first launch); the person is
found by (issuer, sub) or made, enrolled as a learner or added as an instructor by role;
a resource link is tied to the quiz its signed `target_link_uri` names. Nothing here runs
before `validation.launch_validate` has passed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.text import slugify

from assessments.models import Quiz
from core.errors import ApplicationError
from courses.models import Course
from lms.models import LmsIdentity
from lms.services import members_upsert
from lti import claims
from lti.models import Context, LaunchState, LinkLearner, ResourceLink
from lti.validation import Launch, LaunchError

HANDOFF_SECONDS = 120


def _text(value: Any, limit: int = 150) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _context(launch: Launch) -> Context:
    claim = launch.claims[claims.CONTEXT]
    title = _text(claim.get("title"), 200) or _text(claim.get("label"), 200)
    ags = launch.claims.get(claims.AGS_ENDPOINT)
    nrps = launch.claims.get(claims.NRPS)
    services: dict[str, Any] = {}
    if isinstance(ags, dict):
        services["lineitems_url"] = _text(ags.get("lineitems"), 1000)
        scopes = ags.get("scope")
        services["ags_scopes"] = (
            [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
        )
    if isinstance(nrps, dict):
        services["memberships_url"] = _text(nrps.get("context_memberships_url"), 1000)
    found = Context.objects.select_for_update().filter(
        deployment=launch.deployment, context_id=claim["id"]
    )
    context = found.first()
    if context is None:
        course_title = title or f"LMS course {claim['id'][:40]}"
        try:
            with transaction.atomic():
                course = Course.objects.create(
                    slug=(slugify(course_title)[:60] or "lms-course") + "-" + secrets.token_hex(4),
                    title=course_title,
                )
                return Context.objects.create(
                    deployment=launch.deployment,
                    context_id=claim["id"],
                    course=course,
                    title=title,
                    label=_text(claim.get("label"), 255),
                    **services,
                )
        except IntegrityError:
            # A simultaneous first launch made the context (on PostgreSQL this insert waited
            # for it to commit): use theirs; our course went with the savepoint.
            context = found.get()
    changes = {"title": title or context.title, **services}
    stale = [name for name, value in changes.items() if getattr(context, name) != value]
    if stale:
        for name in stale:
            setattr(context, name, changes[name])
        context.save(update_fields=[*stale, "updated_at"])
    return context


def _person(launch: Launch, context: Context) -> User:
    body = launch.claims
    member: dict[str, Any] = {
        "lms_user_id": body["sub"],
        "role": "instructor" if launch.teaches else "learner",
    }
    for ours, theirs in (("given_name", "given_name"), ("family_name", "family_name")):
        if _text(body.get(theirs)):
            member[ours] = _text(body.get(theirs))
    if _text(body.get("email"), 254) and "@" in body["email"]:
        member["email"] = _text(body.get("email"), 254)
    try:
        members_upsert(
            issuer=launch.platform.issuer,
            username_prefix=f"lti{launch.platform.id}",
            course=context.course,
            members=[member],
        )
    except ApplicationError as error:
        raise LaunchError(error.status, error.code, error.message) from None
    identity = LmsIdentity.objects.select_related("user").get(
        issuer=launch.platform.issuer, lms_user_id=body["sub"]
    )
    return identity.user


def quiz_for_target(target_link_uri: str) -> Quiz | None:
    """The quiz a target link names (`/lti/quizzes/<slug>/` on this site), if any."""
    try:
        match = resolve(urlsplit(target_link_uri).path)
    except Resolver404:
        return None
    if match.view_name != "lti:quiz":
        return None
    return Quiz.objects.filter(slug=match.kwargs["slug"], is_published=True).first()


def _link(launch: Launch, context: Context, user: User) -> ResourceLink:
    claim = launch.claims[claims.RESOURCE_LINK]
    ags = launch.claims.get(claims.AGS_ENDPOINT)
    lineitem = _text(ags.get("lineitem"), 1000) if isinstance(ags, dict) else ""
    link, _ = ResourceLink.objects.get_or_create(
        context=context, resource_link_id=claim["id"], defaults={"title": _text(claim.get("title"))}
    )
    quiz = quiz_for_target(launch.claims[claims.TARGET_LINK_URI])
    changes: dict[str, Any] = {"title": _text(claim.get("title")) or link.title}
    if quiz is not None:
        changes["quiz"] = quiz
    if lineitem:
        changes["lineitem_url"] = lineitem
    stale = [name for name, value in changes.items() if getattr(link, name) != value]
    if stale:
        for name in stale:
            setattr(link, name, changes[name])
        link.save(update_fields=[*stale, "updated_at"])
    if not launch.teaches:
        LinkLearner.objects.update_or_create(
            link=link, user=user, defaults={"sub": launch.claims["sub"]}
        )
    return link


@transaction.atomic
def launch_apply(launch: Launch) -> tuple[User, Context, ResourceLink | None]:
    """Make what a valid launch needs: course, person, enrollment and resource link."""
    context = _context(launch)
    user = _person(launch, context)
    link = None
    if launch.message_type == claims.RESOURCE_LINK_REQUEST:
        link = _link(launch, context, user)
    return user, context, link


def destination(launch: Launch, context: Context, link: ResourceLink | None) -> str:
    """Where the person goes: instructors to the course's analytics, learners to the quiz
    their link names (or their course's quiz list)."""
    if launch.teaches:
        return reverse("analytics:course_dashboard", args=[context.course_id])
    if link is not None and link.quiz is not None:
        return reverse("lti:quiz", args=[link.quiz.slug])
    return reverse("assessments:my_quizzes")


def handoff_create(state: LaunchState, user: User, next_url: str) -> str:
    """A one-time token that lets a top-level window continue a cookieless launch."""
    token = secrets.token_urlsafe(32)
    state.handoff_hash = hashlib.sha256(token.encode()).hexdigest()
    state.handoff_user = user
    state.handoff_next = next_url
    state.save(update_fields=["handoff_hash", "handoff_user", "handoff_next"])
    return token


def handoff_take(token: str) -> LaunchState | None:
    """The launch a handoff token continues, if it is fresh and unused (then it is used)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = timezone.now()
    taken = LaunchState.objects.filter(
        handoff_hash=digest,
        handoff_used_at__isnull=True,
        used_at__gt=now - timedelta(seconds=HANDOFF_SECONDS),
    ).update(handoff_used_at=now)
    if not taken:
        return None
    return LaunchState.objects.select_related("handoff_user").get(handoff_hash=digest)
