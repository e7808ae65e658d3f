"""The statistics' histograms change kind (one row per response, kind r, becomes the moments
q and the rest-of-test distribution R): the stored ones are dropped, so their checksums
no longer match the attempts, the reads compute from the raw rows, and the beat task
(analytics.tasks.analytics_warm) or `manage.py rebuild_analytics` rebuilds them."""

from django.db import migrations


def _drop_quiz_counts(apps, schema_editor):
    apps.get_model("analytics", "QuizCount").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_counts_striped_with_moments")]

    operations = [migrations.RunPython(_drop_quiz_counts, migrations.RunPython.noop)]
