"""Fit BKT parameters per misconception to a course's answers, or to every course's.

    python manage.py bkt_fit --course dropout-demo
    python manage.py bkt_fit --all --min-sequences 20 --dry-run

Prints one table row per fitted misconception and one line per misconception with too few
learners' sequences, which keeps the parameters it had.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course
from practice.fitting import (
    DEFAULT_MIN_SEQUENCES,
    CodeFit,
    course_parameters_estimate,
    course_parameters_fit,
)

KEPT = {
    "defaults": "kept defaults",
    "overall": "kept the all-courses fit",
    "course": "kept its earlier fit",
}
NUMBERS = ("sequences", "observations", "prior", "learn", "guess", "slip", "log-likelihood")


class Command(BaseCommand):
    help = (
        "Fit BKT parameters (prior, learn, guess, slip) per misconception by EM to one "
        "course's answers (--course SLUG) or to every course's together (--all), and save them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--course", help="the course's slug")
        scope.add_argument(
            "--all", action="store_true", help="pool every course (the fallback parameters)"
        )
        parser.add_argument(
            "--min-sequences",
            type=int,
            default=DEFAULT_MIN_SEQUENCES,
            help=f"learners' sequences a misconception needs to be fitted "
            f"(default {DEFAULT_MIN_SEQUENCES})",
        )
        parser.add_argument("--dry-run", action="store_true", help="fit and print, save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        min_sequences: int = options["min_sequences"]
        if min_sequences < 1:
            raise CommandError(f"--min-sequences must be at least 1, not {min_sequences}.")
        course = None
        if options["course"]:
            course = Course.objects.filter(slug=options["course"]).first()
            if course is None:
                raise CommandError(f"No course with slug {options['course']!r}.")
        if options["dry_run"]:
            results = course_parameters_estimate(course=course, min_sequences=min_sequences)
        else:
            results = course_parameters_fit(course=course, min_sequences=min_sequences)
        where = f"course {course.slug}" if course else "all courses"
        if not results:
            self.stdout.write(f"No answers bear on any misconception in {where}.")
            return
        self.stdout.write(f"BKT fit on {where} (at least {min_sequences} sequences):")
        self._table(results)
        fitted = sum(1 for result in results if result.is_fitted)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing saved.")
        else:
            self.stdout.write(f"Saved {fitted} fit{'' if fitted == 1 else 's'}.")

    def _table(self, results: list[CodeFit]) -> None:
        width = max(len("code"), *(len(result.code) for result in results))
        self.stdout.write(
            f"{'code':<{width}}  {NUMBERS[0]:>9}  {NUMBERS[1]:>12}  "
            + "  ".join(f"{name:>6}" for name in NUMBERS[2:6])
            + f"  {NUMBERS[6]:>14}"
        )
        for result in results:
            if result.fit is None:
                kept = KEPT[result.kept or "defaults"]
                self.stdout.write(f"{result.code:<{width}}  {kept}: {result.skipped}")
                continue
            params = result.params
            self.stdout.write(
                f"{result.code:<{width}}  {result.sequences:>9}  {result.observations:>12}  "
                f"{params.prior:>6.3f}  {params.learn:>6.3f}  {params.guess:>6.3f}  "
                f"{params.slip:>6.3f}  {result.fit.log_likelihood:>14.3f}"
            )
