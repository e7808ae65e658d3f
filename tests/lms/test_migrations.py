"""The lms data migrations: stored Idempotency-Keys become hashes, and people named in the
old hashed form get the new one; both go back."""

from __future__ import annotations

import hashlib

import pytest

from tests.migrating import back_to_latest, migrate_to

BEFORE_HASHES = ("lms", "0002_webhooks")
HASHED = ("lms", "0005_idempotentwrite_drop_key")
RENAMED = ("lms", "0006_lms_usernames_hashed_form")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_stored_idempotency_keys_are_hashed_and_go_back():
    with back_to_latest():
        # given: answers stored under their keys, before keys were hashed
        old = migrate_to(BEFORE_HASHES)
        client = old.get_model("lms", "ApiClient").objects.create(
            name="Canvas", token_prefix="qz_1", token_hash="0" * 64
        )
        writes = old.get_model("lms", "IdempotentWrite").objects
        for key in ("k1", "k" * 255):
            writes.create(client=client, key=key, request_hash="r", status=200, body={"k": key})
        # when
        new = migrate_to(HASHED)
        # then: each answer is found by its key's hash
        stored = new.get_model("lms", "IdempotentWrite").objects.order_by("id")
        assert [(w.key_hash, w.body) for w in stored] == [
            (sha("k1"), {"k": "k1"}),
            (sha("k" * 255), {"k": "k" * 255}),
        ]
        # and going back leaves the rows, unique, under their hashes
        old = migrate_to(BEFORE_HASHES)
        back = old.get_model("lms", "IdempotentWrite").objects.order_by("id")
        assert [w.key for w in back] == [sha("k1"), sha("k" * 255)]


@pytest.mark.django_db(transaction=True)
def test_people_named_in_the_old_hashed_form_are_renamed_and_go_back():
    with back_to_latest():
        # given: a long id named in the old hashed form, and a short id that spells a hash
        old = migrate_to(HASHED)
        users = old.get_model("auth", "User").objects
        identities = old.get_model("lms", "LmsIdentity").objects
        long_id, looks_hashed = "u" * 200, "h" + sha("someone else")
        for lms_user_id, username in (
            (long_id, f"lti3-h{sha(long_id)}"),
            (looks_hashed, f"lms1-{looks_hashed}"),
        ):
            user = users.create(username=username)
            identities.create(issuer="https://lms.example", lms_user_id=lms_user_id, user=user)
        # when
        new = migrate_to(RENAMED)
        # then: the long id gets the new hashed form; the short id keeps its name
        names = dict(
            new.get_model("lms", "LmsIdentity").objects.values_list("lms_user_id", "user__username")
        )
        assert names == {long_id: f"lti3_{sha(long_id)}", looks_hashed: f"lms1-{looks_hashed}"}
        # and back
        old = migrate_to(HASHED)
        names = dict(
            old.get_model("lms", "LmsIdentity").objects.values_list("lms_user_id", "user__username")
        )
        assert names == {long_id: f"lti3-h{sha(long_id)}", looks_hashed: f"lms1-{looks_hashed}"}
