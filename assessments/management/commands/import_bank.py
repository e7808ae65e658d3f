"""Create or update a question bank from a JSON file in the fixture format."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.bank_transfer import bank_import
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Import a question bank from JSON; every problem is reported by question and field."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(options["file"].read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        try:
            bank = bank_import(data)
        except ApplicationError as error:
            details = "\n".join(f"  {field}: {message}" for field, message in error.fields.items())
            raise CommandError(f"{error.message}\n{details}") from error
        self.stdout.write(f"Imported bank {bank.slug!r} with {bank.questions.count()} questions.")
