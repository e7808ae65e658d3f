"""Roster upserts and idempotent writes for API clients."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from core.errors import ConflictError
from courses.models import Course, Enrollment
from lms.models import ApiClient, IdempotentWrite, LmsIdentity, idempotency_key_hash
from lms.selectors import client_issuer


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def lms_username(prefix: str, lms_user_id: str) -> str:
    """Return the username of the LMS's id: `<prefix>-<id>`, or `<prefix>_<SHA-256 of the id>`
    when that is too long.

    Prefixes (`lms<client id>`, `lti<platform id>`) end in a digit, so the character after
    the prefix tells the two forms (and the prefixes) apart: no two ids get one name."""
    name = f"{prefix}-{lms_user_id}"
    if len(name) <= 150:
        return name
    return f"{prefix}_{hashlib.sha256(lms_user_id.encode()).hexdigest()}"


def _identity_get_or_create(
    issuer: str, username_prefix: str, member: dict[str, Any]
) -> tuple[LmsIdentity, bool]:
    """Return the member's identity, made with its user unless a simultaneous request made
    it first (then that one, found once its transaction has committed)."""
    users = get_user_model()
    username = lms_username(username_prefix, member["lms_user_id"])
    user = users(
        username=username,
        first_name=member.get("given_name", "")[:150],
        last_name=member.get("family_name", "")[:150],
        email=member.get("email", ""),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            identity = LmsIdentity.objects.create(
                issuer=issuer, lms_user_id=member["lms_user_id"], user=user
            )
        return identity, True
    except IntegrityError:
        # On PostgreSQL the insert waited for the other transaction, which has committed.
        theirs = (
            LmsIdentity.objects.select_related("user")
            .filter(issuer=issuer, lms_user_id=member["lms_user_id"])
            .first()
        )
        if theirs is None:
            raise ConflictError(
                f"The username {username!r} of LMS user {member['lms_user_id'][:80]!r} is "
                "taken by an account that is not theirs; rename that account.",
                code="username_taken",
            ) from None
        return theirs, False


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
            identity, created = _identity_get_or_create(issuer, username_prefix, member)
            identities[member["lms_user_id"]] = identity
        user = identity.user
        if not created:
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
            # Conflicts ignored: a simultaneous upsert may have enrolled them since `enrolled`.
            Enrollment.objects.bulk_create(
                [
                    Enrollment(
                        course=course,
                        learner=user,
                        source=Enrollment.Source.LMS,
                        external_id=member["lms_user_id"],
                    )
                ],
                ignore_conflicts=True,
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


def write_once_per_key(
    *, client: ApiClient, key: str | None, payload: Any, write: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `write` once per Idempotency-Key: a repeated key with the same payload gets the
    first answer again; with a different payload it is a 409.

    The key's row is inserted first and committed with the write and its answer, so a
    simultaneous request with the same key waits on the key's unique index (PostgreSQL) or
    the write lock (SQLite) until the first has committed, then replays it; if the first
    fails, nothing of it stays and the second runs."""
    if not key:
        return write()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    key_hash = idempotency_key_hash(key)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentWrite.objects.create(
                    client=client, key_hash=key_hash, request_hash=digest, status=0, body={}
                )
        except IntegrityError:
            previous = IdempotentWrite.objects.get(client=client, key_hash=key_hash)
            if previous.request_hash != digest:
                raise ConflictError(
                    "This Idempotency-Key was used with a different request.",
                    code="idempotency_key_reused",
                ) from None
            return previous.status, previous.body
        record.status, record.body = write()
        record.save(update_fields=["status", "body"])
    return record.status, record.body
