"""Names and Role Provisioning Services: the course roster, from the platform.

A sync reads every page of the context's membership container (following the `Link:
<…>; rel="next"` headers), and upserts each active member as a learner or instructor,
just as a launch would. Members the platform marks Inactive or Deleted, and members
missing from the list, are left as they are: an LMS's roster is not ours to delete.
"""

from __future__ import annotations

from typing import Any

import requests
from django.utils import timezone

from lms.services import RosterResult, members_upsert
from lti import claims
from lti.models import Context
from lti.platform_client import PlatformError, service_request

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 500


def _member(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str):
        return None
    if raw.get("status", "Active") != "Active":
        return None
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


def members_read(context: Context) -> list[dict[str, Any]]:
    """Every active member on every page of the context's roster."""
    platform = context.deployment.platform
    url: str | None = context.memberships_url
    members: dict[str, dict[str, Any]] = {}
    pages = 0
    while url:
        pages += 1
        if pages > MAX_PAGES:
            raise PlatformError(f"The roster has more than {MAX_PAGES} pages.", retry=False)
        response: requests.Response = service_request(
            platform, [claims.SCOPE_MEMBERSHIPS], "GET", url, accept=MEMBERSHIP_MEDIA_TYPE
        )
        try:
            body = response.json()
        except ValueError as error:
            raise PlatformError("The roster page is not JSON.") from error
        for raw in body.get("members", []) if isinstance(body, dict) else []:
            member = _member(raw)
            if member is not None:
                members[member["lms_user_id"]] = member
        url = response.links.get("next", {}).get("url")
    return list(members.values())


def roster_sync(context_id: int) -> RosterResult:
    context = Context.objects.select_related("deployment__platform", "course").get(id=context_id)
    if not context.memberships_url:
        raise PlatformError("This course's platform offers no roster service.", retry=False)
    members = members_read(context)
    result = members_upsert(
        issuer=context.deployment.platform.issuer,
        username_prefix=f"lti{context.deployment.platform_id}",
        course=context.course,
        members=members,
    )
    context.roster_synced_at = timezone.now()
    context.save(update_fields=["roster_synced_at", "updated_at"])
    return result


def contexts_with_memberships() -> list[int]:
    return list(
        Context.objects.exclude(memberships_url="")
        .filter(deployment__platform__is_active=True)
        .values_list("id", flat=True)
    )
