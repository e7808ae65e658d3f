"""Read a course's roster from its LMS now (Names and Role Provisioning)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti.models import Context
from lti.platform_client import PlatformError
from lti.roster import roster_sync


class Command(BaseCommand):
    help = "Sync the roster of one course (--course SLUG) or of every LTI course (--all)."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--course", help="The course's slug.")
        group.add_argument("--all", action="store_true")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read the whole roster, not only the changes since the last sync.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        contexts = Context.objects.exclude(memberships_url="")
        if options["course"]:
            contexts = contexts.filter(course__slug=options["course"])
            if not contexts.exists():
                raise CommandError(f"No LTI course {options['course']!r} with a roster service.")
        for context in contexts:
            try:
                result = roster_sync(context.id, full=options["full"])
            except PlatformError as error:
                raise CommandError(f"{context.course.slug}: {error}") from error
            self.stdout.write(json.dumps({"course": context.course.slug, **result.as_dict()}))
