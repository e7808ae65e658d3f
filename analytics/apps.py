from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.receivers import receivers_connect

        # The aggregates change in the transaction of every submit, re-score and deletion.
        receivers_connect()
