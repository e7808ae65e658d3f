"""Load the fixtures: the misconception catalogue, the banks, the quizzes and a demo class."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from assessments.bank_transfer import bank_import
from assessments.models import (
    BlueprintRule,
    Misconception,
    QuestionBank,
    QuestionType,
    Quiz,
    QuizSection,
)
from assessments.selectors import quiz_blueprint_problem
from core.errors import ApplicationError
from courses.roles import BANK_AUTHORS, INSTRUCTORS, role_group

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_PASSWORD = "dropout-demo"  # noqa: S105 - published demo accounts for a local run
DEMO_INSTRUCTOR = "teacher"
DEMO_LEARNERS = ("ada", "grace", "alan")


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@transaction.atomic
def misconceptions_load(items: list[dict[str, Any]]) -> int:
    """Create or update misconceptions by code; return how many were given."""
    for item in items:
        Misconception.objects.update_or_create(
            code=item["code"],
            defaults={
                "kind": item.get("kind", Misconception.Kind.MISCONCEPTION),
                "title": item["title"],
                "belief": item["belief"],
                "truth": item["truth"],
                "evidence": item.get("evidence", ""),
                "references": item.get("references", []),
                "explain_prompt": item["explain_prompt"],
                "analogy": item.get("analogy", ""),
            },
        )
    return len(items)


BLUEPRINT_KEYS = frozenset({"misconception", "qtype", "minimum"})


def _rule_error(slug: str, index: int, message: str, key: str = "") -> ApplicationError:
    field = f"{slug}.blueprint[{index}]" + (f".{key}" if key else "")
    return ApplicationError(
        f"Quiz {slug!r}, blueprint rule {index + 1}: {message}", fields={field: message}
    )


def _blueprint_rules(quiz: Quiz, entries: Any) -> list[BlueprintRule]:
    """Return the quiz's blueprint as unsaved rules; raise, naming the entry, on bad input."""
    if not isinstance(entries, list):
        message = "the blueprint is a list of {misconception, qtype, minimum} objects."
        raise ApplicationError(
            f"Quiz {quiz.slug!r}: {message}", fields={f"{quiz.slug}.blueprint": message}
        )
    codes = {m.code: m for m in Misconception.objects.all()}
    rules: list[BlueprintRule] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _rule_error(
                quiz.slug, index, "expected a {misconception, qtype, minimum} object."
            )
        unknown = sorted(set(entry) - BLUEPRINT_KEYS)
        if unknown:
            keys = ", ".join(map(repr, unknown))
            raise _rule_error(quiz.slug, index, f"unknown key(s) {keys}.", unknown[0])
        code = entry.get("misconception") or ""
        qtype = entry.get("qtype") or ""
        minimum = entry.get("minimum", 1)
        if not isinstance(code, str) or (code and code not in codes):
            message = f"unknown misconception {code!r}."
            raise _rule_error(quiz.slug, index, message, "misconception")
        if not isinstance(qtype, str) or (qtype and qtype not in QuestionType.values):
            message = f"unknown question type {qtype!r}; one of {', '.join(QuestionType.values)}."
            raise _rule_error(quiz.slug, index, message, "qtype")
        if not code and not qtype:
            raise _rule_error(quiz.slug, index, "name a misconception, a question type, or both.")
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
            message = f"minimum must be a whole number of at least 1, not {minimum!r}."
            raise _rule_error(quiz.slug, index, message, "minimum")
        if (code, qtype) in seen:
            message = f"a second rule for {code or 'any code'} and {qtype or 'any type'}."
            raise _rule_error(quiz.slug, index, message)
        seen.add((code, qtype))
        rules.append(
            BlueprintRule(quiz=quiz, misconception=codes.get(code), qtype=qtype, minimum=minimum)
        )
    return rules


@transaction.atomic
def quizzes_load(items: list[dict[str, Any]]) -> int:
    """Create or update quizzes by slug, replacing their sections and blueprints (checked
    to be feasible with the loaded banks); return how many."""
    for item in items:
        minutes = item.get("time_limit_minutes")
        quiz, _ = Quiz.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "title": item["title"],
                "description": item.get("description", ""),
                "shuffle_questions": item.get("shuffle_questions", True),
                "shuffle_choices": item.get("shuffle_choices", True),
                "time_limit": timedelta(minutes=minutes) if minutes else None,
                "attempts_allowed": item.get("attempts_allowed"),
            },
        )
        quiz.sections.all().delete()
        for position, section in enumerate(item["sections"]):
            bank = QuestionBank.objects.filter(slug=section["bank"]).first()
            if bank is None:
                raise ApplicationError(
                    f"Quiz {item['slug']!r} draws from unknown bank {section['bank']!r}.",
                    fields={f"{item['slug']}.sections[{position}].bank": "Unknown bank."},
                )
            QuizSection.objects.create(
                quiz=quiz,
                bank=bank,
                draw_count=section["count"],
                form=section.get("form", ""),
                position=position,
            )
        rules = _blueprint_rules(quiz, item.get("blueprint", []))
        problem = quiz_blueprint_problem(quiz=quiz, rules=rules)
        if problem is not None:
            raise ApplicationError(
                f"Quiz {item['slug']!r}: no attempt could honour its blueprint. {problem}",
                fields={f"{item['slug']}.blueprint": problem},
            )
        quiz.blueprint_rules.all().delete()
        BlueprintRule.objects.bulk_create(rules)
    return len(items)


DEMO_REFUSED = (
    "Demo accounts have a published password (a staff account among them): they are made "
    "only in development (DEBUG=true)."
)


@transaction.atomic
def demo_class_create() -> None:
    """Create the demo instructor and learners (idempotent; resets their passwords)."""
    if not settings.DEBUG:
        raise ApplicationError(DEMO_REFUSED)
    users = get_user_model()
    teacher, _ = users.objects.get_or_create(
        username=DEMO_INSTRUCTOR, defaults={"first_name": "Tess", "last_name": "Teacher"}
    )
    teacher.is_staff = True  # only what Django's admin needs to let them log in
    teacher.set_password(DEMO_PASSWORD)
    teacher.save()
    # They author banks and read their courses' learners' work in the admin; which courses
    # they teach is the courses' business (simulate_class --instructor teacher).
    teacher.groups.add(role_group(BANK_AUTHORS), role_group(INSTRUCTORS))
    names = {"ada": ("Ada", "Lovelace"), "grace": ("Grace", "Hopper"), "alan": ("Alan", "Turing")}
    for username in DEMO_LEARNERS:
        first, last = names[username]
        learner, _ = users.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        learner.set_password(DEMO_PASSWORD)
        learner.save()


def catalog_load(directory: Path = FIXTURES_DIR) -> dict[str, int]:
    """Load misconceptions, every bank file and the quizzes from `directory`."""
    with transaction.atomic():
        counts = {"misconceptions": misconceptions_load(_read(directory / "misconceptions.json"))}
        banks = sorted((directory / "banks").glob("*.json"))
        for path in banks:
            try:
                bank_import(_read(path))
            except ApplicationError as error:
                raise ApplicationError(
                    f"{path.name}: {error.message}", fields=error.fields
                ) from error
        counts["banks"] = len(banks)
        counts["quizzes"] = quizzes_load(_read(directory / "quizzes.json"))
    return counts
