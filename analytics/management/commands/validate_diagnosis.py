"""Check that the diagnosis recovers what simulated learners believe.

    python manage.py validate_diagnosis --learners 1000 --seed 1

Simulates learners whose beliefs are known (the model is in
`analytics/diagnosis_validation.py`), drives them through both forms of the catalogue's
pre- and post-test with the real services, and compares their results pages and the
instructor heatmap with the truth. Prints, per misconception and per form, sensitivity,
specificity and the share of learners with no evidence either way; the last line of stdout
is one JSON object. Nothing is written: the run is rolled back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.diagnosis_validation import ValidationSettings, report_json, validate_diagnosis
from analytics.simulation import ClassModel, SimulationError
from core.errors import ApplicationError

PROGRESS_EVERY = 50


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Simulate learners with known beliefs through the pre- and post-test and report, per "
        "misconception and form, how well the diagnosis recovers them (nothing is saved)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, required=True, help="how many learners")
        parser.add_argument("--seed", type=int, required=True, help="a non-negative integer")
        parser.add_argument(
            "--prevalence",
            type=_probability,
            default=0.3,
            help="chance that a learner holds each misconception (default 0.3)",
        )
        parser.add_argument(
            "--illusion-prevalence",
            type=_probability,
            default=0.3,
            help="chance of the illusion of understanding, DO-ILLUSION (default 0.3)",
        )
        parser.add_argument(
            "--lacking-prevalence",
            type=_probability,
            default=0.2,
            help="chance that a learner lacks each prerequisite (default 0.2)",
        )
        parser.add_argument(
            "--follow",
            type=_probability,
            default=ClassModel.follow_probability,
            help="chance that a holder picks an option tagged with the belief (default 0.85)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["learners"] < 1:
            raise CommandError("--learners must be at least 1.")
        if options["seed"] < 0:
            raise CommandError("--seed must be a non-negative integer.")
        settings = ValidationSettings(
            learners=options["learners"],
            seed=options["seed"],
            prevalence=options["prevalence"],
            illusion_prevalence=options["illusion_prevalence"],
            lacking_prevalence=options["lacking_prevalence"],
            model=ClassModel(follow_probability=options["follow"]),
        )
        total = settings.learners
        self.verbosity = int(options["verbosity"])

        def progress(done: int) -> None:
            if self.verbosity > 0 and (done % PROGRESS_EVERY == 0 or done == total):
                self.stderr.write(f"  {done} of {total} learners simulated")

        try:
            report = validate_diagnosis(settings, progress=progress)
        except (SimulationError, ApplicationError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report.table())
        self.stdout.write(report_json(report))
