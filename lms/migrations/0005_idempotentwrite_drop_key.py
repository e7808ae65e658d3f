"""Idempotency-Keys become hashes (schema, step 3 of 3): the hash is required and unique per
client, and the keys themselves are no longer kept."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("lms", "0004_hash_idempotency_keys"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="idempotentwrite",
            name="key",
        ),
        migrations.AlterField(
            model_name="idempotentwrite",
            name="key_hash",
            field=models.CharField(help_text="SHA-256 of the Idempotency-Key.", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="idempotentwrite",
            constraint=models.UniqueConstraint(
                fields=("client", "key_hash"), name="idempotency_key_once"
            ),
        ),
    ]
