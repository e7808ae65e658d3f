from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS integration"

    def ready(self) -> None:
        from lms import schema  # noqa: F401 - registers the OpenAPI authentication scheme
