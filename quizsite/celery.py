"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun

# Whether the settings module below is our default rather than the caller's choice: the
# dev stack (imported through this package) then leaves it out of its children's
# environment, so pytest uses its own (quizsite.development) and the rest the default.
SETTINGS_DEFAULTED = "DJANGO_SETTINGS_MODULE" not in os.environ
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")

app = Celery("quizsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connections_checked(**kwargs: Any) -> None:
    """Drop a connection that broke or grew old before the task uses it, as Django does at the
    start of each request: with CELERY_DB_REUSE_MAX the connection outlives a task."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
