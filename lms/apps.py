from django.apps import AppConfig
from django.db.models import Q


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS integration"

    def ready(self) -> None:
        from assessments.scores import score_consumer_register
        from lms import schema  # noqa: F401 - registers the OpenAPI authentication scheme
        from lms.tasks import SCORE_CONSUMER, attempt_score_webhooks

        # Scores of a course's attempts go to the grade webhooks of its API clients.
        score_consumer_register(
            name=SCORE_CONSUMER,
            task=attempt_score_webhooks.name,
            wants=Q(is_preview=False, quiz__course__api_clients__webhooks__is_active=True),
        )
