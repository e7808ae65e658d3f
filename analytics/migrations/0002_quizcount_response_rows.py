"""Forget the statistics histograms kept before a response became one row (kind r instead
of q, s and p): their checksums go with them, so every read sees the quiz as drifted and
uses the raw rows until the beat task (analytics_warm) or `manage.py rebuild_analytics`
rebuilds it. Data only; the aggregates are derived, so either direction just empties them."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def quiz_counts_forget(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("analytics", "QuizCount").objects.using(schema_editor.connection.alias).delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(quiz_counts_forget, quiz_counts_forget)]
