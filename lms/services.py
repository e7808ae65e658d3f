"""Roster upserts and idempotent writes for API clients."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from assessments.errors import ConflictError
from courses.models import Course, Enrollment
from lms.models import ApiClient, IdempotentWrite, LmsIdentity


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _username(prefix: str, lms_user_id: str) -> str:
    """A unique username for the LMS's id; long ids are hashed rather than truncated."""
    name = f"{prefix}-{lms_user_id}"
    if len(name) <= 150:
        return name
    return f"{prefix}-h{hashlib.sha256(lms_user_id.encode()).hexdigest()}"


def client_issuer(client: ApiClient) -> str:
    return f"api-client:{client.id}"


def roster_upsert(
    *, client: ApiClient, course: Course, members: list[dict[str, Any]]
) -> RosterResult:
    """An API client's roster upsert: its people are known by (client, LMS user id)."""
    return members_upsert(
        issuer=client_issuer(client),
        username_prefix=f"lms{client.id}",
        course=course,
        members=members,
    )


@transaction.atomic
def members_upsert(
    *, issuer: str, username_prefix: str, course: Course, members: list[dict[str, Any]]
) -> RosterResult:
    """Create or update each member (by the LMS's user id under `issuer`); the same payload
    twice changes nothing. Learners are enrolled (source lms, external_id = the LMS id);
    instructors join the course's instructors. Members absent from the payload are left
    alone. Used by API clients' roster upserts, LTI launches and LTI roster syncs."""
    users = get_user_model()
    result = RosterResult()
    identities = {
        identity.lms_user_id: identity
        for identity in LmsIdentity.objects.select_related("user").filter(
            issuer=issuer, lms_user_id__in=[m["lms_user_id"] for m in members]
        )
    }
    instructors = set(course.instructors.values_list("id", flat=True))
    enrolled = set(Enrollment.objects.filter(course=course).values_list("learner_id", flat=True))
    for member in members:
        changed = created = False
        identity = identities.get(member["lms_user_id"])
        if identity is None:
            user = users.objects.create(
                username=_username(username_prefix, member["lms_user_id"]),
                first_name=member.get("given_name", "")[:150],
                last_name=member.get("family_name", "")[:150],
                email=member.get("email", ""),
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            identity = LmsIdentity.objects.create(
                issuer=issuer, lms_user_id=member["lms_user_id"], user=user
            )
            identities[member["lms_user_id"]] = identity
            created = True
        else:
            user = identity.user
            fields = {
                "first_name": member.get("given_name", user.first_name)[:150],
                "last_name": member.get("family_name", user.last_name)[:150],
                "email": member.get("email", user.email),
            }
            stale = [name for name, value in fields.items() if getattr(user, name) != value]
            if stale:
                for name in stale:
                    setattr(user, name, fields[name])
                user.save(update_fields=stale)
                changed = True
        if member["role"] == "instructor":
            if user.id not in instructors:
                course.instructors.add(user)
                instructors.add(user.id)
                changed = True
        elif user.id not in enrolled:
            Enrollment.objects.create(
                course=course,
                learner=user,
                source=Enrollment.Source.LMS,
                external_id=member["lms_user_id"],
            )
            enrolled.add(user.id)
            changed = True
        if created:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def idempotent(
    *, client: ApiClient, key: str | None, payload: Any, write: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `write` once per Idempotency-Key: a repeated key with the same payload gets the
    first answer again; with a different payload it is a 409."""
    if not key:
        return write()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    previous = IdempotentWrite.objects.filter(client=client, key=key).first()
    if previous is not None:
        if previous.request_hash != digest:
            raise ConflictError(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
            )
        return previous.status, previous.body
    status, body = write()
    try:
        with transaction.atomic():
            IdempotentWrite.objects.create(
                client=client, key=key[:255], request_hash=digest, status=status, body=body
            )
    except IntegrityError:
        pass  # a concurrent request with the same key stored its answer first
    return status, body
