from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI 1.3"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assessments.signals import attempt_scored
        from lti import passback

        attempt_scored.connect(passback.on_attempt_scored, dispatch_uid="lti-passback")
