"""Print a question bank as JSON in the fixture format."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.bank_transfer import bank_export
from assessments.models import QuestionBank


class Command(BaseCommand):
    help = "Export a question bank as JSON (the fixture format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, **options: Any) -> None:
        bank = QuestionBank.objects.filter(slug=options["slug"]).first()
        if bank is None:
            raise CommandError(f"No bank with slug {options['slug']!r}.")
        self.stdout.write(json.dumps(bank_export(bank), indent=2, ensure_ascii=False))
