"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

# Whether the settings module below is our default rather than the caller's choice: the
# dev stack (imported through this package) then leaves it out of its children's
# environment, so pytest uses its own (quizsite.development) and the rest the default.
SETTINGS_DEFAULTED = "DJANGO_SETTINGS_MODULE" not in os.environ
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")

app = Celery("quizsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
