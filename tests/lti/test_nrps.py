"""Names and Role Provisioning against the fake platform: page size (`limit`), `next`
links, resource-link scope (`rlid`), and later syncs through the `differences` link."""

from __future__ import annotations

from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from courses.models import Enrollment
from lti.models import Context
from lti.platform_client import PlatformError
from lti.roster import PAGE_LIMIT, roster_sync
from tests.lti.conftest import Launcher
from tests.lti.platform import INSTRUCTOR, LEARNER, FakePlatform

MEMBERSHIP_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def member(user_id: str, status: str = "Active", roles: list[str] | None = None) -> dict[str, Any]:
    return {"user_id": user_id, "roles": roles or [LEARNER], "status": status}


def page_requests(platform: FakePlatform) -> list[dict[str, str]]:
    """The query of every roster page the tool asked for, in order."""
    return [
        {k: v[0] for k, v in parse_qs(urlsplit(r.path).query).items()}
        for r in platform.received
        if r.path.startswith("/memberships")
    ]


def enrolled(context: Context) -> set[str]:
    return set(
        Enrollment.objects.filter(course=context.course).values_list("external_id", flat=True)
    )


@pytest.fixture
def context(launcher: Launcher) -> Context:
    assert launcher.full(roles=[INSTRUCTOR]).status_code == 302
    return Context.objects.get()


def test_the_tool_asks_for_a_page_size_and_follows_next_links(
    context: Context, platform: FakePlatform
) -> None:
    platform.members = [member(f"m{i}") for i in range(5)]
    result = roster_sync(context.id)
    assert (result.created, result.removed) == (5, 0)
    queries = page_requests(platform)
    assert len(queries) == 3  # the platform caps pages at two members
    assert all(q["limit"] == str(PAGE_LIMIT) for q in queries)
    assert [q.get("page") for q in queries] == [None, "2", "3"]
    pages = [r for r in platform.received if r.path.startswith("/memberships")]
    assert all(r.headers["Accept"] == MEMBERSHIP_MEDIA for r in pages)
    assert enrolled(context) == {f"m{i}" for i in range(5)}


def test_a_sync_scoped_to_a_resource_link_reads_its_members_only(
    context: Context, platform: FakePlatform
) -> None:
    platform.members = [member("a"), member("b"), member("c")]
    platform.link_members = {"link-1": ["a", "c"]}
    result = roster_sync(context.id, resource_link_id="link-1")
    assert result.created == 2
    assert all(q["rlid"] == "link-1" for q in page_requests(platform))
    assert enrolled(context) == {"a", "c"}
    with pytest.raises(PlatformError, match="404"):
        roster_sync(context.id, resource_link_id="not-a-link")


def test_later_syncs_read_the_differences_and_apply_them(
    context: Context, platform: FakePlatform
) -> None:
    # given a first, full sync whose last page ends with a differences link
    platform.members = [
        member("stays"),
        member("leaves"),
        member("paused"),
        member("t", roles=[INSTRUCTOR]),
    ]
    platform.member_changes = [
        member("joins"),
        member("leaves", status="Deleted"),
        member("paused", status="Inactive"),
        member("t", status="Deleted", roles=[INSTRUCTOR]),
    ]
    first = roster_sync(context.id)
    assert first.as_dict() == {"created": 4, "updated": 0, "unchanged": 0, "removed": 0}
    context.refresh_from_db()
    assert context.memberships_differences_url == platform.url("/memberships?since=1")
    assert context.course.instructors.filter(lms_identities__lms_user_id="t").exists()

    # when the next sync runs
    platform.received.clear()
    second = roster_sync(context.id)

    # then it read only the changes, and applied them by status
    assert [r.path for r in platform.received if r.path.startswith("/memberships")] == [
        "/memberships?since=1"
    ]
    assert second.as_dict() == {"created": 1, "updated": 0, "unchanged": 0, "removed": 3}
    assert enrolled(context) == {"stays", "joins"}
    assert not context.course.instructors.filter(lms_identities__lms_user_id="t").exists()
    context.refresh_from_db()
    assert context.memberships_differences_url == platform.url("/memberships?since=2")

    # and a full sync can still be asked for: Inactive members stay out
    platform.received.clear()
    platform.members = [member("stays"), member("paused", status="Inactive")]
    third = roster_sync(context.id, full=True)
    assert third.as_dict() == {"created": 0, "updated": 0, "unchanged": 1, "removed": 0}
    assert "since" not in page_requests(platform)[0]
    assert enrolled(context) == {"stays", "joins"}


def test_removal_keeps_enrolments_made_by_hand(context: Context, platform: FakePlatform) -> None:
    platform.members = [member("kept")]
    roster_sync(context.id)
    Enrollment.objects.filter(external_id="kept").update(source=Enrollment.Source.MANUAL)
    platform.members = [member("kept", status="Inactive")]
    assert roster_sync(context.id, full=True).removed == 0
    assert enrolled(context) == {"kept"}


def test_the_command_reads_the_whole_list_when_asked(
    context: Context, platform: FakePlatform
) -> None:
    platform.members = [member("a")]
    platform.member_changes = []
    call_command("lti_sync_roster", course=context.course.slug, stdout=StringIO())
    platform.received.clear()
    call_command("lti_sync_roster", course=context.course.slug, stdout=StringIO())
    assert "since" in page_requests(platform)[0]
    platform.received.clear()
    out = StringIO()
    call_command("lti_sync_roster", "--full", course=context.course.slug, stdout=out)
    assert "since" not in page_requests(platform)[0]
    assert '"unchanged": 1' in out.getvalue() and '"removed": 0' in out.getvalue()
