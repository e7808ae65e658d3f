from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS integration"

    def ready(self) -> None:
        from assessments.signals import attempt_scored
        from lms import schema  # noqa: F401 - registers the OpenAPI authentication scheme
        from lms.webhooks import on_attempt_scored

        attempt_scored.connect(on_attempt_scored, dispatch_uid="lms.webhooks")
