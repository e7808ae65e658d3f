"""Measure the automatic reading of explain-backs against hand-labelled explanations."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.explanation_agreement import (
    CorpusError,
    Judged,
    agreement_report,
    corpus_parse,
    corpus_read,
)
from assessments.explanation_reading import IdeaCriteria, criteria_of
from assessments.models import Question, QuestionType

DEFAULT_FILE = Path(settings.BASE_DIR) / "fixtures" / "explanations_labelled.json"


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from error


def _criteria_from_banks(paths: list[Path]) -> dict[str, tuple[IdeaCriteria, ...]]:
    found: dict[str, tuple[IdeaCriteria, ...]] = {}
    for path in paths:
        bank = _read_json(path)
        for item in bank.get("questions", []) if isinstance(bank, dict) else []:
            if isinstance(item, dict) and item.get("type") == QuestionType.EXPLAIN:
                found[item["slug"]] = criteria_of(
                    item.get("key_ideas", []), item.get("key_idea_criteria", [])
                )
    return found


def _criteria_from_database(slugs: set[str]) -> dict[str, tuple[IdeaCriteria, ...]]:
    rows = Question.objects.filter(slug__in=slugs, qtype=QuestionType.EXPLAIN).values_list(
        "slug", "key_ideas", "key_idea_criteria"
    )
    return {slug: criteria_of(ideas, criteria) for slug, ideas, criteria in rows}


def _figure(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Compare the automatic reading of explain-backs with hand labels: agreement and "
        "Cohen's kappa per (explanation, key idea), overall, held out and per item."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", type=Path, default=DEFAULT_FILE, help="the labelled corpus (JSON)"
        )
        parser.add_argument(
            "--bank",
            type=Path,
            action="append",
            default=[],
            help="read the items' criteria from this bank file instead of the database "
            "(repeat for several banks)",
        )
        parser.add_argument(
            "--split",
            choices=["all", "tune", "held_out"],
            default="all",
            help="measure only this part of the corpus",
        )
        parser.add_argument(
            "--disagreements", action="store_true", help="list every cell where they differ"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            corpus = corpus_parse(_read_json(options["file"]))
        except CorpusError as error:
            raise CommandError(f"{options['file']}: {error}") from error
        if options["split"] != "all":
            corpus = [entry for entry in corpus if entry.split == options["split"]]
        slugs = {entry.item for entry in corpus}
        if options["bank"]:
            criteria = _criteria_from_banks(options["bank"])
        else:
            criteria = _criteria_from_database(slugs)
        missing = sorted(slug for slug in slugs if not criteria.get(slug))
        if missing:
            raise CommandError(
                f"No criteria to read against for {', '.join(missing)}: load the banks "
                "(manage.py load_catalog) or name bank files with --bank."
            )
        try:
            judged = corpus_read(corpus, criteria)
        except CorpusError as error:
            raise CommandError(str(error)) from error
        report = agreement_report(judged)
        self._table(report)
        if options["disagreements"]:
            self._disagreements(judged)
        self.stdout.write(json.dumps(report, sort_keys=True))

    def _table(self, report: dict[str, Any]) -> None:
        header = (
            f"{'':28} {'texts':>5} {'cells':>5} {'agree':>6} {'kappa':>6} "
            f"{'codes':>6} {'judged alike':>12}"
        )
        self.stdout.write(header)
        rows = [(f"  {item}", figures) for item, figures in report["items"].items()]
        rows += [
            ("all", report["all"]),
            ("  held out (not tuned on)", report["held_out"]),
            ("  tuned on", report["tune"]),
        ]
        for name, figures in rows:
            if not figures["cells"]:
                continue
            codes = f"{figures['codes_matching']}/{figures['codes_compared']}"
            alike = f"{figures['judged_alike']}/{figures['explanations']}"
            self.stdout.write(
                f"{name:28} {figures['explanations']:>5} {figures['cells']:>5} "
                f"{_figure(figures['agreement']):>6} {_figure(figures['kappa']):>6} "
                f"{codes:>6} {alike:>12}"
            )
        confusion = report["all"]["confusion"]
        self.stdout.write("\nlabel \\ reading   found  missing  contradicts")
        for label, row in confusion.items():
            self.stdout.write(
                f"{label:16} {row['found']:>6} {row['missing']:>8} {row['contradicts']:>12}"
            )

    def _disagreements(self, judged: list[Judged]) -> None:
        self.stdout.write("\nwhere they differ:")
        for entry in judged:
            for cell in entry.cells:
                if cell.label != cell.read:
                    label = cell.label + (
                        f":{'+'.join(sorted(cell.label_codes))}" if cell.label_codes else ""
                    )
                    read = cell.read + (
                        f":{'+'.join(sorted(cell.read_codes))}" if cell.read_codes else ""
                    )
                    self.stdout.write(
                        f"  {cell.explanation} idea {cell.idea + 1} ({cell.split}): "
                        f"label {label}, reading {read} {cell.quote!r}"
                    )
