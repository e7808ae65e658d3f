"""The signed-in user, read from Redis instead of the database on each request.

Every request of a signed-in learner loads their user row (Django's `get_user`); an autosave
is about a fifth cheaper without that query. The cached row is dropped whenever the user is
saved or deleted (a new password, a deactivation, a login's `last_login`), at once and again
when the transaction commits, so a request in between cannot put the old row back for long.
Writes that send no signal (`QuerySet.update`, raw SQL) are seen when the entry expires,
after USER_CACHE_SECONDS; the code base makes none to users.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

USER_CACHE_SECONDS = 120


def _key(user_id: Any) -> str:
    return f"auth-user:{user_id}"


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend, with `get_user` served from the cache."""

    def get_user(self, user_id: Any) -> Any:
        """Return the active user with this id, or None."""
        user = cache.get(_key(user_id))
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(_key(user_id), user, USER_CACHE_SECONDS)
            return user
        return user if self.user_can_authenticate(user) else None


def user_cache_forget(*, user_id: Any) -> None:
    """Drop the cached row of the user now and once the current transaction commits."""
    cache.delete(_key(user_id))
    transaction.on_commit(lambda: cache.delete(_key(user_id)))


def _forget(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_cache_forget(user_id=instance.pk)


def connect_receivers() -> None:
    """Forget a user's cached row whenever it is saved or deleted."""
    from django.conf import settings
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="cached-user-save")
    post_delete.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="cached-user-delete")
