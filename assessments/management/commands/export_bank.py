"""Print or write question banks in one of the bank formats (our JSON by default, Moodle
XML, a QTI package)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.formats.registry import EXPORTERS
from assessments.models import QuestionBank
from core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Export question banks: JSON (the fixture format, one bank), Moodle XML (one "
        "category per bank) or an IMS QTI 2.1 package (a zip: give --output). Questions a "
        "format cannot express are listed on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="json")
        parser.add_argument(
            "--output", type=Path, help="write the file here instead of printing it"
        )
        parser.add_argument("slug", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        found = QuestionBank.objects.in_bulk(options["slug"], field_name="slug")
        missing = [slug for slug in options["slug"] if slug not in found]
        if missing:
            raise CommandError(f"No bank with slug {', '.join(map(repr, missing))}.")
        try:
            exported = EXPORTERS[options["format"]]([found[slug] for slug in options["slug"]])
        except ApplicationError as error:
            raise CommandError(error.message) from error
        for where, reason in exported.left_out.items():
            self.stderr.write(f"Left out {where}: {reason}")
        if options["output"] is not None:
            try:
                options["output"].write_bytes(exported.content)
            except OSError as error:
                raise CommandError(f"Cannot write {options['output']}: {error}") from error
            self.stderr.write(f"Wrote {options['output']} ({len(exported.content)} bytes).")
        elif exported.extension == "zip":
            raise CommandError(
                f"{options['format']} is a zip package: give --output FILE.{exported.extension}"
            )
        else:
            self.stdout.write(exported.content.decode("utf-8"))
