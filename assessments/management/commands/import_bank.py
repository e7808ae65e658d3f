"""Create or update question banks from a file: our JSON, Moodle XML or GIFT."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.formats.conversion_import import conversion_import
from assessments.formats.moodle_xml_read import file_refuse_if_too_large
from assessments.formats.registry import READERS
from core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import question banks from a file; every problem is reported by question and field. "
        "Nothing is written unless all of it is valid, or with --partial, its valid questions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(READERS), default="json")
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Import the valid questions and report the others (default: all or nothing).",
        )
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            file_refuse_if_too_large(size=path.stat().st_size)
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        except ApplicationError as error:
            raise CommandError(error.message) from error
        try:
            conversion = READERS[options["format"]](data, path.stem)
            report = conversion_import(conversion=conversion, partial=options["partial"])
        except ApplicationError as error:
            details = "\n".join(f"  {field}: {message}" for field, message in error.fields.items())
            raise CommandError(f"{error.message}\n{details}") from error
        for slug, count in report.banks.items():
            self.stdout.write(f"Imported bank {slug!r} with {count} questions.")
        for where, note in report.skipped.items():
            self.stdout.write(f"Skipped {where}: {note}")
        for where, message in report.refused.items():
            self.stderr.write(f"Not imported: {where}: {message}")
        if not report.banks:
            raise CommandError("No question was imported.")
