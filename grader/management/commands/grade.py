"""Grade files synchronously through the same sandbox and checks the workers use."""

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grader.exercises import EXERCISES
from grader.grading import grade
from grader.sandbox.parent import SandboxParent, SandboxUnavailable
from grader.services import grader_limits


class Command(BaseCommand):
    help = (
        "Grade FILEs for an exercise, in order, through one sandbox parent (a fresh child "
        "per file), printing one JSON object per file per line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--exercise", required=True, choices=sorted(EXERCISES))
        parser.add_argument("--format", choices=["json", "text"], default="json")
        parser.add_argument(
            "--seed", type=int, help="fix the hidden inputs (default: random per file)"
        )
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        exercise = EXERCISES[options["exercise"]]
        sources = []
        for path in options["files"]:
            try:
                sources.append((path, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read {path}: {error}") from error
        parent = SandboxParent(allow_unsandboxed=settings.GRADER_ALLOW_UNSANDBOXED)
        try:
            parent.start()
            for path, code in sources:
                seed = options["seed"] if options["seed"] is not None else secrets.randbits(62)
                report = grade(
                    exercise=exercise, code=code, seed=seed, parent=parent, limits=grader_limits()
                )
                if options["format"] == "json":
                    self.stdout.write(json.dumps(report.as_dict(exercise.slug)))
                else:
                    self.stdout.write(
                        f"{path}: {report.status} {report.score:.2f} {report.message}"
                    )
                    for check in report.checks:
                        mark = "PASS" if check.passed else "FAIL"
                        codes = ", ".join(check.misconceptions + check.defects)
                        self.stdout.write(
                            f"  {mark} {check.id}: {check.message}"
                            + (f" [{codes}]" if codes else "")
                        )
        except SandboxUnavailable as error:
            raise CommandError(str(error)) from error
        finally:
            parent.stop()
