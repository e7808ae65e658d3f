"""Write what a format reader found: every bank validated by bank_format, all of them in one
transaction. All or nothing by default; with `partial`, the valid questions are written and
the others reported, each named as the file names it and by the field at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from assessments.bank_format import bank_validate
from assessments.bank_transfer import bank_import
from assessments.formats.conversion import Conversion
from core.errors import ApplicationError

_QUESTION_PATH = re.compile(r"questions\[(\d+)\](?: '[^']*')?\s*(.*)", re.DOTALL)


@dataclass
class ImportReport:
    """The banks written (slug: questions), and what was skipped or refused, by question."""

    banks: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


@transaction.atomic
def conversion_import(*, conversion: Conversion, partial: bool = False) -> ImportReport:
    """Validate and write every bank of `conversion`; raise ApplicationError, writing
    nothing, if anything was refused and `partial` is false."""
    report = ImportReport(skipped=dict(conversion.skipped), refused=dict(conversion.refused))
    owners: dict[str, str] = {}
    ready: list[dict[str, Any]] = []
    for bank in conversion.banks:
        if _refused_as_malformed(bank, report.refused):
            continue
        questions: list[dict[str, Any]] = []
        bank_slug = str(bank.get("slug"))
        for question in bank["questions"]:
            slug = question.get("slug")
            if isinstance(slug, str) and owners.setdefault(slug, bank_slug) != bank_slug:
                label = conversion.origins.get(slug, f"question {slug!r}")
                report.refused[f"{label} slug"] = (
                    f"Slug {slug!r} is also a question of bank {owners[slug]!r} in this file."
                )
            else:
                questions.append(question)
        valid = _valid_questions(bank, questions, conversion.origins, report.refused, partial)
        if valid:
            ready.append({**bank, "questions": valid})
    if report.refused and not partial:
        problems = report.refused
        raise ApplicationError(
            f"Nothing was imported: {len(problems)} problem(s). "
            + "; ".join(f"{where}: {message}" for where, message in list(problems.items())[:5]),
            code="invalid_bank",
            fields=problems,
        )
    for bank in ready:
        written = bank_import(bank)
        report.banks[written.slug] = len(bank["questions"])
    return report


def _refused_as_malformed(bank: dict[str, Any], refused: dict[str, str]) -> bool:
    """Note why a bank is not even shaped as one (a hand-written JSON file may not be), as
    validation says it; return whether it was not."""
    questions = bank.get("questions")
    if isinstance(questions, list) and all(isinstance(q, dict) for q in questions):
        return False
    try:
        bank_validate(bank)
    except ApplicationError as error:
        for path, message in error.fields.items():
            refused[f"{_bank_label(bank)} {path}"] = message
    return True


def _valid_questions(
    bank: dict[str, Any],
    questions: list[dict[str, Any]],
    origins: dict[str, str],
    refused: dict[str, str],
    partial: bool,
) -> list[dict[str, Any]]:
    """Return the bank's questions that validate; note the problems of the others.

    Without `partial` the first validation's problems are all there is to report; with it,
    failing questions are dropped and the rest validated again (a question may only fail
    beside another, e.g. a repeated slug), until what is left is valid.
    """
    while questions:
        try:
            bank_validate({**bank, "questions": questions})
        except ApplicationError as error:
            failing: set[int] = set()
            for path, message in error.fields.items():
                where, index = _where(path, bank, questions, origins)
                refused[where] = message
                if index is None:
                    return []  # a problem of the bank itself: none of it can be written
                failing.add(index)
            if not partial:
                return []
            questions = [q for i, q in enumerate(questions) if i not in failing]
        else:
            return questions
    return []


def _where(
    path: str, bank: dict[str, Any], questions: list[dict[str, Any]], origins: dict[str, str]
) -> tuple[str, int | None]:
    """Return a problem's place as the file names it, and the question's index if any."""
    match = _QUESTION_PATH.fullmatch(path)
    if match is None:
        return f"{_bank_label(bank)} {path}".strip(), None
    index = int(match.group(1))
    slug = questions[index].get("slug") if index < len(questions) else None
    label = origins.get(slug, "") if isinstance(slug, str) else ""
    label = label or f"{_bank_label(bank)} questions[{index}] {slug!r}"
    return f"{label} {match.group(2)}".strip(), index


def _bank_label(bank: dict[str, Any]) -> str:
    slug = bank.get("slug")
    return f"bank {slug!r}" if isinstance(slug, str) else "bank"
