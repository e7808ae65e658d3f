"""Which items and grader checks name each misconception: the catalogue's coverage table."""

from __future__ import annotations

from dataclasses import dataclass, field

from assessments.models import Misconception, Question
from grader.exercises import misconception_checks


@dataclass
class CodeCoverage:
    """One code: the items that name it, by form, and the checks that can name it."""

    code: str
    title: str
    items: dict[str, list[str]] = field(default_factory=dict)  # form ("A", "B", "") -> slugs
    checks: list[str] = field(default_factory=list)  # "exercise:check"

    @property
    def named(self) -> bool:
        """Return whether anything at all can name this code."""
        return bool(self.checks) or any(self.items.values())


def _codes_named_by(question: Question) -> set[str]:
    codes = {m.code for m in question.probes.all()}
    codes |= {m.code for c in question.choices.all() for m in c.misconceptions.all()}
    codes |= {m.code for d in question.distractors.all() for m in d.misconceptions.all()}
    codes |= {code for idea in question.key_idea_probes for code in idea}
    return codes


def misconception_coverage() -> list[CodeCoverage]:
    """Return, per catalogue code in code order, the questions and checks that name it."""
    rows = {
        code: CodeCoverage(code=code, title=title)
        for code, title in Misconception.objects.order_by("code").values_list("code", "title")
    }
    questions = Question.objects.select_related("bank").prefetch_related(
        "probes", "choices__misconceptions", "distractors__misconceptions"
    )
    for question in questions.order_by("bank__slug", "position", "id"):
        for code in sorted(_codes_named_by(question)):
            if code in rows:
                rows[code].items.setdefault(question.form, []).append(question.slug)
    for code, checks in misconception_checks().items():
        if code in rows:
            rows[code].checks = [f"{slug}:{check}" for slug, check in checks]
    return list(rows.values())


def coverage_markdown(rows: list[CodeCoverage]) -> str:
    """Return the coverage as a Markdown table (one row per code)."""
    lines = [
        "| code | form A items | form B items | items of either form | grader checks |",
        "|---|---|---|---|---|",
    ]
    for row in rows:

        def cell(slugs: list[str]) -> str:
            return f"{len(slugs)}: " + ", ".join(f"`{s}`" for s in slugs) if slugs else "0"

        lines.append(
            f"| {row.code} | {cell(row.items.get('A', []))} | {cell(row.items.get('B', []))} | "
            f"{cell(row.items.get('', []))} | {cell(row.checks)} |"
        )
    return "\n".join(lines)
