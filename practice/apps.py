from django.apps import AppConfig
from django.db.models import Q


class PracticeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "practice"

    def ready(self) -> None:
        from grader.verdicts import verdict_consumer_register
        from practice.tasks import VERDICT_CONSUMER, step_verdict_apply

        # A code step moves on when its submission's verdict is in.
        verdict_consumer_register(
            name=VERDICT_CONSUMER,
            task=step_verdict_apply.name,
            wants=Q(practice_steps__isnull=False),
        )
