"""The roles people hold in Django's admin, as groups of model permissions.

- Bank authors manage the catalogue: misconceptions, banks, questions with their choices and
  numeric distractors, quizzes with their sections and blueprint rules. A course's quiz
  stays its instructors' (the admin shows an author the catalogue's quizzes and those of
  the courses they teach).
- Instructors read their learners' work: attempts with their responses, explanations,
  practice sessions with their steps, mastery. The admin shows each of them only the
  courses they teach (`courses.admin.CourseDataAdmin`).

Neither role grants a course: teaching one does (`Course.instructors`), and superusers see
every course. Staff status is only what the admin needs to let someone log in.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

BANK_AUTHORS = "Bank authors"
INSTRUCTORS = "Instructors"
# Holding it makes someone a bank author (superusers hold every permission).
BANK_AUTHORING = "assessments.change_question"

CATALOGUE_MODELS = (
    "misconception",
    "questionbank",
    "question",
    "choice",
    "numericdistractor",
    "quiz",
    "quizsection",
    "blueprintrule",
)
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    BANK_AUTHORS: tuple(
        f"assessments.{action}_{model}"
        for model in CATALOGUE_MODELS
        for action in ("add", "change", "delete", "view")
    ),
    INSTRUCTORS: (
        "assessments.view_attempt",
        "assessments.view_response",
        "assessments.view_explanation",
        "practice.view_practicesession",
        "practice.view_practicestep",
        "practice.view_mastery",
    ),
}


def role_permissions(name: str) -> list[Permission]:
    """Return the permissions of the role `name`, as stored."""
    wanted = Q(pk__in=[])
    for permission in ROLE_PERMISSIONS[name]:
        app_label, codename = permission.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(wanted))


def role_group(name: str) -> Group:
    """Return the role's group, made with the role's permissions if it is missing or empty
    (a migration sets them on existing sites; someone may since have changed them)."""
    group, created = Group.objects.get_or_create(name=name)
    if created or not group.permissions.exists():
        group.permissions.set(role_permissions(name))
    return group


def is_bank_author(user: Any) -> bool:
    """Return whether `user` authors banks (a superuser does too)."""
    return bool(user.is_authenticated and user.has_perm(BANK_AUTHORING))
