"""The LMS API under simultaneous requests and awkward ids: idempotent writes run once per
key, however long the key; people are made once, with usernames that cannot collide."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from courses.models import Course, Enrollment
from lms.models import ApiClient, IdempotentWrite, LmsIdentity
from tests.simultaneous import at_once

SCOPES = ["roster:read", "roster:write"]
ROSTER = {
    "members": [
        {"lms_user_id": "u1", "role": "learner", "given_name": "Ada"},
        {"lms_user_id": "u2", "role": "learner"},
        {"lms_user_id": "t1", "role": "instructor"},
    ]
}


@pytest.fixture
def course():
    return Course.objects.create(slug="bio101", title="Biology 101")


def _client(*courses: Course) -> tuple[ApiClient, str]:
    client, token = ApiClient.issue(name="Canvas", scopes=SCOPES)
    client.courses.set(courses)
    return client, token


def _put(token: str, course: Course, roster: dict[str, Any], key: str | None = None):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    if key is not None:
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=key)
    return http.put(f"/api/v1/courses/{course.id}/roster/", roster, format="json")


@pytest.mark.django_db
def test_a_long_idempotency_key_reused_with_another_payload_is_a_409(course):
    # given: a key of 300 characters, longer than any column would hold it
    client, token = _client(course)
    key = "k" * 300
    assert _put(token, course, ROSTER, key).status_code == 200
    # when: the same key comes with another payload
    other = {"members": [{"lms_user_id": "u9", "role": "learner"}]}
    reused = _put(token, course, other, key)
    # then: refused, the write not run again, and the key stored as its fixed-length hash
    assert reused.status_code == 409, reused.json()
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert not LmsIdentity.objects.filter(lms_user_id="u9").exists()
    [stored] = IdempotentWrite.objects.filter(client=client)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # a key differing only after the 255th character is another key
    assert _put(token, course, other, "k" * 299 + "x").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_simultaneous_writes_with_one_key_run_the_write_once(course):
    # given
    _, token = _client(course)
    # when: the same request with the same key arrives twice at the same moment
    first, second = at_once([lambda: _put(token, course, ROSTER, "k1")] * 2)
    # then: both get the one answer; the people were made once
    assert first.status_code == second.status_code == 200, (first, second)
    assert first.json() == second.json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert User.objects.count() == 3
    assert Enrollment.objects.filter(course=course).count() == 2
    assert IdempotentWrite.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_writes_with_one_key_and_two_payloads_run_one_and_refuse_the_other(course):
    # given
    _, token = _client(course)
    other = {"members": [{"lms_user_id": "u9", "role": "learner"}]}
    # when
    answers = at_once(
        [lambda: _put(token, course, ROSTER, "k1"), lambda: _put(token, course, other, "k1")]
    )
    # then: one ran, the other is a 409, and only the one that ran changed anything
    assert sorted(a.status_code for a in answers) == [200, 409], answers
    ran = ROSTER if answers[0].status_code == 200 else other
    made = {m["lms_user_id"] for m in ran["members"]}
    assert set(LmsIdentity.objects.values_list("lms_user_id", flat=True)) == made


@pytest.mark.django_db(transaction=True)
def test_simultaneous_roster_upserts_of_the_same_people_make_each_person_once(course):
    # given: two courses of one client, and no Idempotency-Key
    second = Course.objects.create(slug="bio102", title="Biology 102")
    _, token = _client(course, second)
    # when: both rosters, with the same new people, arrive at the same moment
    answers = at_once(
        [lambda: _put(token, course, ROSTER), lambda: _put(token, second, ROSTER)] * 2
    )
    # then: no error; each person made once and enrolled once in each course
    assert Counter(a.status_code for a in answers) == {200: 4}, answers
    assert sum(a.json()["created"] for a in answers) == 3
    assert User.objects.count() == LmsIdentity.objects.count() == 3
    assert Enrollment.objects.filter(course=course).count() == 2
    assert Enrollment.objects.filter(course=second).count() == 2
    assert course.instructors.count() == second.instructors.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("long_first", [True, False])
def test_a_short_id_spelling_a_long_ids_hash_is_another_person(course, long_first):
    # given: a long LMS id (hashed into its username) and a short id that spells that hash
    client, token = _client(course)
    long_id = "u" * 200
    short_id = "h" + hashlib.sha256(long_id.encode()).hexdigest()
    people = [long_id, short_id] if long_first else [short_id, long_id]
    # when: both come, one after the other
    for lms_user_id in people:
        roster = {"members": [{"lms_user_id": lms_user_id, "role": "learner"}]}
        response = _put(token, course, roster)
        # then: each is made, as a person of their own
        assert response.status_code == 200, response.content
        assert response.json()["created"] == 1
    names = {i.lms_user_id: i.user.username for i in LmsIdentity.objects.select_related("user")}
    assert names[short_id] == f"lms{client.id}-{short_id}"
    assert names[long_id] == f"lms{client.id}_{hashlib.sha256(long_id.encode()).hexdigest()}"
    assert Enrollment.objects.filter(course=course).count() == 2


@pytest.mark.django_db
def test_a_username_taken_by_someone_else_is_a_409_not_a_500(course):
    # given: an account made by hand with the name an LMS person would get
    client, token = _client(course)
    User.objects.create(username=f"lms{client.id}-u1")
    # when
    response = _put(token, course, {"members": [{"lms_user_id": "u1", "role": "learner"}]})
    # then: a clear refusal that changes nothing
    assert response.status_code == 409, response.content
    assert "username" in response.json()["error"]["message"]
    assert not LmsIdentity.objects.exists()
