"""Print the URL an LMS administrator pastes to register the tool (Dynamic Registration)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from lti.registration import registration_url_token


class Command(BaseCommand):
    help = "Print a registration URL for LTI Dynamic Registration (Moodle 4.1+, Canvas)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tool-url", required=True, help="Our public origin, e.g. https://quiz.example.edu."
        )
        parser.add_argument(
            "--days", type=int, default=7, help="How many days the URL works (default 7)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        origin = options["tool_url"].rstrip("/")
        if not origin.startswith(("https://", "http://")):
            raise CommandError(f"--tool-url: {origin!r} is not an http(s) origin.")
        if not 1 <= options["days"] <= 365:
            raise CommandError("--days: give a number of days from 1 to 365.")
        token = registration_url_token(valid_days=options["days"])
        url = origin + reverse("lti:registration", args=[token])
        self.stdout.write(url)
        self.stdout.write(
            f"Paste it into the LMS within {options['days']} days; anyone holding it can "
            "register an LMS with this service until then."
        )
