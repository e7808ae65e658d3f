"""Demo accounts (a published password, a staff account among them) exist only in development."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from assessments.catalog import DEMO_INSTRUCTOR, DEMO_PASSWORD, demo_class_create
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_load_catalog_refuses_demo_accounts_without_debug(settings):
    # given: production (DEBUG off) and a staff account named like the demo's, with its own password
    settings.DEBUG = False
    User.objects.create_user(DEMO_INSTRUCTOR, password="the-real-teachers-own", is_staff=True)
    # when
    with pytest.raises(CommandError, match=r"only in development \(DEBUG=true\)"):
        call_command("load_catalog", "--demo-class", stdout=io.StringIO())
    # then: nobody's password is reset, no account is made, and nothing was loaded first
    teacher = User.objects.get(username=DEMO_INSTRUCTOR)
    assert teacher.check_password("the-real-teachers-own")
    assert not teacher.check_password(DEMO_PASSWORD)
    assert not User.objects.filter(username__in=["ada", "grace", "alan"]).exists()


def test_the_service_refuses_demo_accounts_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(ApplicationError, match="published password"):
        demo_class_create()
    assert not User.objects.exists()


def test_development_gets_the_demo_accounts(settings):
    settings.DEBUG = True
    call_command("load_catalog", "--demo-class", stdout=io.StringIO())
    teacher = User.objects.get(username=DEMO_INSTRUCTOR)
    assert teacher.is_staff and teacher.check_password(DEMO_PASSWORD)
    assert User.objects.filter(username__in=["ada", "grace", "alan"]).count() == 3
