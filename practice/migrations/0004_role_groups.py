"""Separate the roles (see courses.roles): "Bank authors" manage the catalogue, and
"Instructors" only read learners' work, which the admin limits to the courses each teaches.

Until now "Instructors" held every permission of assessments, deleting attempts included:
its members were the bank authors, and they stay authors as members of "Bank authors".
The permissions are written out as they are today, so later changes to the roles do not
rewrite history. Here, in practice, because the roles span assessments' and practice's
models. Data only: no schema change.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

BANK_AUTHORS = "Bank authors"
INSTRUCTORS = "Instructors"
AUTHORING = [
    ("assessments", f"{action}_{model}")
    for model in (
        "misconception",
        "questionbank",
        "question",
        "choice",
        "numericdistractor",
        "quiz",
        "quizsection",
        "blueprintrule",
    )
    for action in ("add", "change", "delete", "view")
]
READING = [
    ("assessments", "view_attempt"),
    ("assessments", "view_response"),
    ("assessments", "view_explanation"),
    ("practice", "view_practicesession"),
    ("practice", "view_practicestep"),
    ("practice", "view_mastery"),
]


def _permissions(apps: Any, names: list[tuple[str, str]]) -> list[Any]:
    # On a new database Django makes permissions after the last migration (post_migrate):
    # make those of the models known here first (existing ones are left alone).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    wanted = Q(pk__in=[])
    for app_label, codename in names:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return list(apps.get_model("auth", "Permission").objects.filter(wanted))


def roles_separate(apps: Any, schema_editor: Any) -> None:
    group = apps.get_model("auth", "Group")
    users = apps.get_model(settings.AUTH_USER_MODEL)
    authors, _ = group.objects.get_or_create(name=BANK_AUTHORS)
    authors.permissions.add(*_permissions(apps, AUTHORING))
    instructors, created = group.objects.get_or_create(name=INSTRUCTORS)
    if (
        not created
        and instructors.permissions.filter(
            content_type__app_label="assessments", codename="change_question"
        ).exists()
    ):
        authors.user_set.add(*users.objects.filter(groups=instructors))
    instructors.permissions.set(_permissions(apps, READING))


def roles_merge(apps: Any, schema_editor: Any) -> None:
    group = apps.get_model("auth", "Group")
    users = apps.get_model(settings.AUTH_USER_MODEL)
    instructors, _ = group.objects.get_or_create(name=INSTRUCTORS)
    instructors.permissions.set(
        apps.get_model("auth", "Permission").objects.filter(content_type__app_label="assessments")
    )
    authors = group.objects.filter(name=BANK_AUTHORS).first()
    if authors is not None:
        instructors.user_set.add(*users.objects.filter(groups=authors))
        authors.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0009_explanation_reading"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("practice", "0003_practice_settings_catalogue_prompts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(roles_separate, roles_merge)]
