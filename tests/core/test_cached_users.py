"""The signed-in user comes from Redis, and any change to the user is seen on the next request."""

import pytest
from django.contrib.auth.models import User

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/api/v1/quizzes/"


@pytest.fixture
def signed_in(client):
    user = UserFactory.create(username="grace")
    client.force_login(user)
    assert client.get(PAGE).status_code == 200  # now cached
    return client, user


def test_a_new_password_ends_the_other_sessions_at_once(signed_in):
    client, user = signed_in
    user.set_password("a brand new passphrase")
    user.save()
    assert client.get(PAGE).status_code == 403


def test_a_deactivated_user_is_refused_on_the_next_request(signed_in):
    client, user = signed_in
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(PAGE).status_code == 403


def test_a_deleted_user_is_refused_on_the_next_request(signed_in):
    client, user = signed_in
    User.objects.filter(id=user.id).delete()
    assert client.get(PAGE).status_code == 403


def test_a_renamed_user_is_seen_renamed(signed_in):
    client, user = signed_in
    user.username = "grace-hopper"
    user.save()
    assert "grace-hopper" in client.get("/").content.decode()
