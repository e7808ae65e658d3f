"""Idempotency-Keys become hashes (data, step 2 of 3): each stored key's SHA-256.

A key longer than 255 characters was stored cut, so its hash is the hash of the cut key and
that key's next retry is new: nothing can restore what was cut. Going back cannot unhash the
keys either: the hashes are put where the keys were (still unique per client), so keys sent
before going back are new to the old code."""

import hashlib

from django.db import migrations
from django.db.models import F

BATCH = 2000


def hash_keys(apps, schema_editor):
    IdempotentWrite = apps.get_model("lms", "IdempotentWrite")
    batch = []
    rows = IdempotentWrite.objects.filter(key_hash__isnull=True).only("id", "key")
    for row in rows.iterator(chunk_size=BATCH):
        row.key_hash = hashlib.sha256(row.key.encode()).hexdigest()
        batch.append(row)
        if len(batch) >= BATCH:
            IdempotentWrite.objects.bulk_update(batch, ["key_hash"])
            batch = []
    if batch:
        IdempotentWrite.objects.bulk_update(batch, ["key_hash"])


def keys_from_hashes(apps, schema_editor):
    IdempotentWrite = apps.get_model("lms", "IdempotentWrite")
    IdempotentWrite.objects.filter(key__isnull=True).update(key=F("key_hash"))


class Migration(migrations.Migration):

    dependencies = [
        ("lms", "0003_idempotentwrite_key_hash"),
    ]

    operations = [
        migrations.RunPython(hash_keys, keys_from_hashes),
    ]
