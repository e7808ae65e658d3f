"""Load the fixtures: the misconception catalogue, the banks, the quizzes and a demo class."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from assessments.bank_format import bank_import
from assessments.errors import ApplicationError
from assessments.models import Misconception, QuestionBank, Quiz, QuizSection

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_PASSWORD = "dropout-demo"  # noqa: S105 - published demo accounts for a local run
DEMO_INSTRUCTOR = "teacher"
DEMO_LEARNERS = ("ada", "grace", "alan")
INSTRUCTORS_GROUP = "Instructors"


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


@transaction.atomic
def quizzes_load(items: list[dict[str, Any]]) -> int:
    """Create or update quizzes by slug, replacing their sections; return how many."""
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
    return len(items)


def instructors_group() -> Group:
    """Return the group whose members manage banks and quizzes in the admin."""
    group, created = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    if created or not group.permissions.exists():
        group.permissions.set(Permission.objects.filter(content_type__app_label="assessments"))
    return group


@transaction.atomic
def demo_class_create() -> None:
    """Create the demo instructor and learners (idempotent; resets their passwords)."""
    users = get_user_model()
    teacher, _ = users.objects.get_or_create(
        username=DEMO_INSTRUCTOR, defaults={"first_name": "Tess", "last_name": "Teacher"}
    )
    teacher.is_staff = True
    teacher.set_password(DEMO_PASSWORD)
    teacher.save()
    teacher.groups.add(instructors_group())
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
