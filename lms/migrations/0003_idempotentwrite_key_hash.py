"""Idempotency-Keys become hashes (schema, step 1 of 3): a column for the key's hash, and the
old key column and its uniqueness loosened so that 0004 can fill the hashes and 0005 can drop
the keys (and, going back, so that the keys can be refilled before they are unique again)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("lms", "0002_webhooks"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="idempotentwrite",
            name="idempotency_key_once",
        ),
        migrations.AlterField(
            model_name="idempotentwrite",
            name="key",
            field=models.CharField(max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="idempotentwrite",
            name="key_hash",
            field=models.CharField(max_length=64, null=True),
        ),
    ]
