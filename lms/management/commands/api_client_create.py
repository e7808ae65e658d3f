"""Create an API client for an LMS server and print its token once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course
from lms.models import SCOPES, ApiClient


class Command(BaseCommand):
    help = "Create an API client bound to courses, with scopes; prints the token ONCE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--course", action="append", default=[], help="course slug")
        parser.add_argument(
            "--scope", action="append", default=[], help=f"one of {', '.join(sorted(SCOPES))}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = sorted(set(options["scope"]) - set(SCOPES))
        if unknown or not options["scope"]:
            raise CommandError(
                f"--scope must be given, from: {', '.join(sorted(SCOPES))}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        courses = list(Course.objects.filter(slug__in=options["course"]))
        missing = sorted(set(options["course"]) - {c.slug for c in courses})
        if missing:
            raise CommandError(f"No course with slug {', '.join(missing)}.")
        client, token = ApiClient.issue(name=options["name"], scopes=options["scope"])
        client.courses.set(courses)
        self.stdout.write(f"API client {client.id} '{client.name}' created.")
        self.stdout.write(f"Token (shown once, store it now): {token}")
