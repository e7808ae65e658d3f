"""Rebuild the analytics' aggregates from the raw rows: every course's, or one course's."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.aggregates import aggregates_rebuild
from assessments.models import Quiz
from courses.models import Course


class Command(BaseCommand):
    help = "Rebuild the statistics', heatmap's and gain's aggregates from attempts and responses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="the course's slug or id (default: every course)")

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = options["course"]
        courses = Course.objects.order_by("id")
        if chosen:
            courses = (
                courses.filter(slug=chosen)
                if not chosen.isdigit()
                else courses.filter(id=int(chosen))
            )
            if not courses.exists():
                raise CommandError(f"No course {chosen!r}.")
        for course in courses:
            started = time.perf_counter()
            rows = aggregates_rebuild(course=course)
            seconds = time.perf_counter() - started
            self.stdout.write(f"{course.slug}: {rows} aggregate rows in {seconds:.1f} s")
        if not chosen:
            for quiz in Quiz.objects.filter(course__isnull=True).order_by("id"):
                rows = aggregates_rebuild(quiz=quiz)
                self.stdout.write(f"quiz {quiz.slug} (no course): {rows} aggregate rows")
