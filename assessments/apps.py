from django.apps import AppConfig
from django.db.models import Q


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from assessments.receivers import receivers_connect
        from assessments.tasks import VERDICT_CONSUMER, submission_verdict_apply
        from grader.verdicts import verdict_consumer_register

        # A code question's slot is re-scored when its submission's verdict is in.
        verdict_consumer_register(
            name=VERDICT_CONSUMER,
            task=submission_verdict_apply.name,
            wants=Q(response__isnull=False),
        )
        receivers_connect()
