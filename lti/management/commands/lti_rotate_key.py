"""Rotate our signing key; the old key stays in the JWKS until it is retired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lti import keys


class Command(BaseCommand):
    help = "Make a new signing key (older keys stay published); optionally retire old ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retire-older-than-days",
            type=int,
            default=None,
            help="Also stop publishing keys older than this many days (never the new key).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["retire_older_than_days"]
        from_file = keys.key_file_configured()
        if from_file and days is None:
            raise CommandError(
                "The signing key comes from LTI_PRIVATE_KEY_FILE: to rotate, put the new key "
                "in that file and restart. --retire-older-than-days still retires keys kept "
                "in the database."
            )
        if not from_file:
            key = keys.key_create()
            self.stdout.write(f"New signing key {key.kid}.")
        if days is not None:
            retired = keys.keys_retire(older_than=timezone.now() - timedelta(days=days))
            self.stdout.write(f"Retired {retired} key(s) older than {days} days.")
        published = [k["kid"] for k in keys.jwks()["keys"]]
        self.stdout.write("Published: " + ", ".join(published))
