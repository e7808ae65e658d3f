"""Names and Role Provisioning Services: the course roster, from the platform.

A sync reads every page of the context's membership container (`limit` members a page,
following the `Link: <…>; rel="next"` headers) and upserts each Active member as a
learner or instructor, just as a launch would. A member the platform marks Inactive or
Deleted loses what the LMS gave them here: their LMS enrolment, or their place among the
course's instructors (their attempts stay). A member missing from a full list is left as
they are: an LMS's roster is not ours to delete by omission.

The platform may answer with a `rel="differences"` link; it is kept on the context, and
the next sync reads only the changes since then. A sync may also be scoped to one
resource link (`rlid`): the members who can reach that placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.db import transaction
from django.utils import timezone

from courses.models import Course, Enrollment
from lms.models import LmsIdentity
from lms.services import RosterResult, members_upsert
from lti import claims
from lti.models import Context
from lti.platform_client import PlatformError, service_request

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 500
# Members asked for per page: platforms cap it themselves (Canvas at 50, Moodle pages by
# what it is given); 100 keeps a 300-learner course to a few requests.
PAGE_LIMIT = 100
GONE = ("Inactive", "Deleted")


@dataclass
class RosterSyncResult(RosterResult):
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {**super().as_dict(), "removed": self.removed}


@dataclass
class Roster:
    """What the platform's pages said: members to upsert, ids to remove, the next link."""

    active: dict[str, dict[str, Any]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    differences_url: str = ""


def _member(raw: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {
        "lms_user_id": raw["user_id"][:200],
        "role": "instructor" if claims.roles_teach(raw.get("roles")) else "learner",
    }
    for name in ("given_name", "family_name"):
        if isinstance(raw.get(name), str) and raw[name]:
            member[name] = raw[name][:150]
    if isinstance(raw.get("email"), str) and "@" in raw["email"]:
        member["email"] = raw["email"][:254]
    return member


def memberships_url(context: Context, *, resource_link_id: str = "") -> str:
    """The context's membership URL with `limit` (and `rlid` for one link) added."""
    parts = urlsplit(context.memberships_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("limit", "rlid")]
    query.append(("limit", str(PAGE_LIMIT)))
    if resource_link_id:
        query.append(("rlid", resource_link_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


def members_read(context: Context, url: str) -> Roster:
    """Every member on every page from `url`, by status, and the differences link."""
    platform = context.deployment.platform
    roster = Roster()
    next_url: str | None = url
    pages = 0
    while next_url:
        pages += 1
        if pages > MAX_PAGES:
            raise PlatformError(f"The roster has more than {MAX_PAGES} pages.", retry=False)
        response: requests.Response = service_request(
            platform, [claims.SCOPE_MEMBERSHIPS], "GET", next_url, accept=MEMBERSHIP_MEDIA_TYPE
        )
        try:
            body = response.json()
        except ValueError as error:
            raise PlatformError("The roster page is not JSON.") from error
        for raw in body.get("members", []) if isinstance(body, dict) else []:
            if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str):
                continue
            user_id = raw["user_id"][:200]
            if raw.get("status", "Active") in GONE:
                roster.gone.add(user_id)
                roster.active.pop(user_id, None)
            else:
                roster.active[user_id] = _member(raw)
                roster.gone.discard(user_id)
        roster.differences_url = (
            response.links.get("differences", {}).get("url") or roster.differences_url
        )
        next_url = response.links.get("next", {}).get("url")
    return roster


def members_remove(*, issuer: str, course: Course, lms_user_ids: set[str]) -> int:
    """Take back what the LMS gave these members here: LMS enrolments, instructor places."""
    users = list(
        LmsIdentity.objects.filter(issuer=issuer, lms_user_id__in=lms_user_ids).values_list(
            "user_id", flat=True
        )
    )
    if not users:
        return 0
    removed, _ = Enrollment.objects.filter(
        course=course, learner_id__in=users, source=Enrollment.Source.LMS
    ).delete()
    teaching = list(course.instructors.filter(id__in=users))
    course.instructors.remove(*teaching)
    return removed + len(teaching)


def roster_sync(
    context_id: int, *, resource_link_id: str = "", full: bool = False
) -> RosterSyncResult:
    """Sync the course's roster from its platform: the changes since the last sync when
    the platform gave a differences link (unless `full`), else the whole list."""
    context = Context.objects.select_related("deployment__platform", "course").get(id=context_id)
    if not context.memberships_url:
        raise PlatformError("This course's platform offers no roster service.", retry=False)
    whole_course = not resource_link_id
    if whole_course and not full and context.memberships_differences_url:
        url = context.memberships_differences_url
    else:
        url = memberships_url(context, resource_link_id=resource_link_id)
    roster = members_read(context, url)
    issuer = context.deployment.platform.issuer
    with transaction.atomic():
        upserted = members_upsert(
            issuer=issuer,
            username_prefix=f"lti{context.deployment.platform_id}",
            course=context.course,
            members=list(roster.active.values()),
        )
        removed = members_remove(issuer=issuer, course=context.course, lms_user_ids=roster.gone)
        context.roster_synced_at = timezone.now()
        fields = ["roster_synced_at", "updated_at"]
        # A link's differences describe that link's members, not the course's.
        if whole_course and roster.differences_url:
            context.memberships_differences_url = roster.differences_url[:2000]
            fields.append("memberships_differences_url")
        context.save(update_fields=fields)
    return RosterSyncResult(**upserted.as_dict(), removed=removed)


def contexts_with_memberships() -> list[int]:
    return list(
        Context.objects.exclude(memberships_url="")
        .filter(deployment__platform__is_active=True)
        .values_list("id", flat=True)
    )
