"""The roles: bank authors and instructors are groups of model permissions, and neither
grants a course."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from assessments.catalog import DEMO_INSTRUCTOR, demo_class_create
from courses.roles import BANK_AUTHORS, INSTRUCTORS, ROLE_PERMISSIONS, role_group
from courses.selectors import courses_taught
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _held(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_splits_the_old_instructors_group_and_keeps_its_authors():
    # given a site from before: "Instructors" held every permission of assessments
    Group.objects.filter(name__in=ROLE_PERMISSIONS).delete()
    old = Group.objects.create(name=INSTRUCTORS)
    old.permissions.set(Permission.objects.filter(content_type__app_label="assessments"))
    teacher = UserFactory.create(username="old-teacher", is_staff=True)
    teacher.groups.add(old)
    # when
    migration = importlib.import_module("practice.migrations.0004_role_groups")
    state = MigrationLoader(connection).project_state(("practice", "0004_role_groups"))
    migration.roles_separate(state.apps, None)
    # then each group holds its role's permissions and no more; the old members author banks
    for name, permissions in ROLE_PERMISSIONS.items():
        assert _held(Group.objects.get(name=name)) == set(permissions), name
    assert {g.name for g in teacher.groups.all()} == {BANK_AUTHORS, INSTRUCTORS}
    assert not get_user_model().objects.get(id=teacher.id).has_perm("assessments.delete_attempt")


def test_a_missing_group_is_made_with_its_roles_permissions():
    Group.objects.filter(name=BANK_AUTHORS).delete()
    assert _held(role_group(BANK_AUTHORS)) == set(ROLE_PERMISSIONS[BANK_AUTHORS])


def test_the_demo_teacher_authors_banks_and_reads_learners_work_but_deletes_none(settings):
    # given
    settings.DEBUG = True  # demo accounts are made only in development
    # when
    demo_class_create()
    demo_class_create()
    # then
    teacher = get_user_model().objects.get(username=DEMO_INSTRUCTOR)
    assert teacher.is_staff and not teacher.is_superuser
    assert {g.name for g in teacher.groups.all()} == {BANK_AUTHORS, INSTRUCTORS}
    assert teacher.has_perms(["assessments.change_question", "assessments.view_attempt"])
    assert not teacher.has_perm("assessments.delete_attempt")
    assert not teacher.has_perm("assessments.change_attempt")
    # and the groups give no course: teaching one does
    assert not courses_taught(teacher).exists()


@pytest.mark.parametrize(
    ("staff", "groups", "shown"),
    [
        (True, [BANK_AUTHORS], True),
        (True, [INSTRUCTORS], False),
        (False, [BANK_AUTHORS], False),  # the admin would not let them in
    ],
)
def test_the_nav_offers_the_banks_to_staff_bank_authors(client, staff, groups, shown):
    user = UserFactory.create(username="someone", is_staff=staff)
    user.groups.add(*(role_group(name) for name in groups))
    client.force_login(user)
    assert ('href="/admin/">Manage banks</a>' in client.get("/").content.decode()) is shown
