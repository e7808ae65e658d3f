"""Load the misconception catalogue, question banks and quizzes from fixtures/."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.catalog import (
    DEMO_INSTRUCTOR,
    DEMO_LEARNERS,
    DEMO_PASSWORD,
    DEMO_REFUSED,
    FIXTURES_DIR,
    catalog_load,
    demo_class_create,
)
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Load misconceptions, banks and quizzes (idempotent); --demo-class adds demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directory", type=Path, default=FIXTURES_DIR)
        parser.add_argument(
            "--demo-class",
            action="store_true",
            help="create demo accounts (development only: DEBUG=true)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo_class"] and not settings.DEBUG:
            raise CommandError(f"--demo-class: {DEMO_REFUSED}")
        try:
            counts = catalog_load(options["directory"])
        except ApplicationError as error:
            details = "\n".join(f"  {field}: {message}" for field, message in error.fields.items())
            raise CommandError(f"{error.message}\n{details}") from error
        self.stdout.write(
            f"Loaded {counts['misconceptions']} misconceptions, {counts['banks']} banks, "
            f"{counts['quizzes']} quizzes."
        )
        if options["demo_class"]:
            demo_class_create()
            self.stdout.write(
                f"Demo accounts (password {DEMO_PASSWORD!r}): instructor {DEMO_INSTRUCTOR}, "
                f"learners {', '.join(DEMO_LEARNERS)}."
            )
