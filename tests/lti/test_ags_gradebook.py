"""The instructor's page of LMS gradebook columns: list, change, delete, read results."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.test import Client

from courses.models import Course
from lti.models import Context
from tests.factories import UserFactory
from tests.lti.conftest import Launcher
from tests.lti.platform import (
    AGS,
    INSTRUCTOR,
    SCOPE_LINEITEM,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    FakePlatform,
)


def instructor_in_course(launcher: Launcher) -> Context:
    platform = launcher.platform
    for number in (1, 2):
        item_id = platform.url(f"/lineitems/{number}")
        platform.lineitems[item_id] = {
            "id": item_id,
            "label": f"Dropout quiz {number}",
            "scoreMaximum": 7,
            "tag": "quiz",
        }
    claims: dict[str, Any] = {
        AGS: {
            "scope": [SCOPE_SCORE, SCOPE_LINEITEM, SCOPE_RESULT_READONLY],
            "lineitems": platform.url("/lineitems"),
        }
    }
    assert launcher.full(roles=[INSTRUCTOR], **claims).status_code == 302
    return Context.objects.get()


def test_an_instructor_changes_a_column_on_the_lms(
    launcher: Launcher, platform: FakePlatform
) -> None:
    context = instructor_in_course(launcher)
    page_url = f"/lti/courses/{context.course_id}/gradebook/"
    page = launcher.client.get(page_url).content.decode()
    assert "Dropout quiz 1" in page and "Dropout quiz 2" in page

    item = platform.url("/lineitems/1")
    form = {
        "lineitem": item,
        "label": "Dropout, week 3",
        "scoreMaximum": "7",
        "tag": "quiz",
        "resourceId": "",
        "startDateTime": "",
        "endDateTime": "2026-12-08T17:00:00+00:00",
    }
    response = launcher.client.post(page_url + "update/", form, follow=True)
    assert "Saved “Dropout, week 3” on the LMS." in response.content.decode()
    assert platform.lineitems[item] == {
        "id": item,
        "label": "Dropout, week 3",
        "scoreMaximum": 7.0,
        "tag": "quiz",
        "endDateTime": "2026-12-08T17:00:00+00:00",
    }

    refused = launcher.client.post(
        page_url + "update/", {**form, "endDateTime": "next friday"}, follow=True
    )
    assert (
        "The line item was not changed. endDateTime: Give a date and time with its offset"
        in refused.content.decode()
    )
    assert platform.lineitems[item]["endDateTime"] == "2026-12-08T17:00:00+00:00"

    launcher.client.post(page_url + "delete/", {"lineitem": item})
    assert list(platform.lineitems) == [platform.url("/lineitems/2")]


def test_an_instructor_reads_a_columns_results(launcher: Launcher, platform: FakePlatform) -> None:
    context = instructor_in_course(launcher)
    item = platform.url("/lineitems/2")
    platform.results[item] = [
        {"id": item + "/results/u", "scoreOf": item, "userId": "user-1", "resultScore": 5,
         "resultMaximum": 7, "comment": "Misconceptions held: Belief DO-TEST (DO-TEST)."}
    ]  # fmt: skip
    page = launcher.client.get(
        f"/lti/courses/{context.course_id}/gradebook/?results={quote(item, safe='')}"
    ).content.decode()
    assert "Results of Dropout quiz 2" in page
    assert "Grace Hopper" in page  # the launch's user-1, by the name we know
    assert "Misconceptions held: Belief DO-TEST (DO-TEST)." in page


def test_the_page_is_for_the_courses_instructors_only(
    launcher: Launcher, platform: FakePlatform
) -> None:
    context = instructor_in_course(launcher)
    stranger = Client()
    stranger.force_login(UserFactory.create())
    page_url = f"/lti/courses/{context.course_id}/gradebook/"
    assert stranger.get(page_url).status_code == 404
    item = platform.url("/lineitems/1")
    assert stranger.post(page_url + "delete/", {"lineitem": item}).status_code == 404
    assert item in platform.lineitems
    assert Client().get(page_url).status_code == 302  # to the login page


def test_a_course_not_from_an_lms_says_it_has_no_columns_there(db: None, client: Client) -> None:
    teacher = UserFactory.create()
    course = Course.objects.create(slug="by-hand", title="By hand")
    course.instructors.add(teacher)
    client.force_login(teacher)
    page = client.get(f"/lti/courses/{course.id}/gradebook/")
    assert page.status_code == 200
    assert "was not launched from an LMS" in page.content.decode()
    refused = client.post(f"/lti/courses/{course.id}/gradebook/delete/", {"lineitem": "x"})
    assert refused.status_code == 302
