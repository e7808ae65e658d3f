from django.apps import AppConfig
from django.db.models import Exists, OuterRef, Q


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI 1.3"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assessments.scores import score_consumer_register
        from lti.models import LinkLearner
        from lti.tasks import SCORE_CONSUMER, attempt_score_passback

        # Scores go to the gradebook of every LTI link the learner opened the quiz from.
        score_consumer_register(
            name=SCORE_CONSUMER,
            task=attempt_score_passback.name,
            wants=Q(is_preview=False)
            & Q(
                Exists(
                    LinkLearner.objects.filter(
                        user_id=OuterRef("learner_id"), link__quiz_id=OuterRef("quiz_id")
                    )
                )
            ),
        )
