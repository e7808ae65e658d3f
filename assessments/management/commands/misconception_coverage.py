"""Print, per misconception code, the items and grader checks that name it (Markdown).

    python manage.py misconception_coverage

The README's coverage table is this command's output on the shipped catalogue.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from assessments.coverage import coverage_markdown, misconception_coverage


class Command(BaseCommand):
    help = "Print, per misconception code, the items and grader checks that name it."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = misconception_coverage()
        self.stdout.write(coverage_markdown(rows))
        silent = [row.code for row in rows if not row.named]
        if silent:
            self.stderr.write(f"Nothing names: {', '.join(silent)}")
