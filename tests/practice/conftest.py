"""Fixtures for practice: the real catalogue, a course and an enrolled learner."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.catalog import catalog_load
from courses.models import Course, Enrollment


@pytest.fixture
def catalog(db: None) -> None:
    catalog_load()


@pytest.fixture
def course(catalog: None) -> Course:
    return Course.objects.create(slug="dl-101", title="Deep learning 101")


@pytest.fixture
def enrolled(course: Course, learner: Any) -> Any:
    Enrollment.objects.create(course=course, learner=learner)
    return learner
