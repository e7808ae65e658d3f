"""The parameters a mastery row reads in its own query (fit_annotations, one JSON subquery)
are the ones parameters_for chooses: the course's fit, else the overall one, else the kind's
defaults. The JSON object is built and decoded by the database, so this runs on both engines."""

from __future__ import annotations

import pytest
from django.utils import timezone

from assessments.models import Misconception
from courses.models import Course
from practice.bkt import BktParams
from practice.fitting import parameters_annotated, parameters_for
from practice.mastery import masteries
from practice.models import BktParameters
from tests.factories import MisconceptionFactory, UserFactory, code

CODES = ["DO-SPEED", "DO-DATA", "DO-TEST", "PRE-NEURON"]


def _fit(course: Course | None, code_: str, prior: float, learn: float, guess: float) -> None:
    BktParameters.objects.create(
        course=course, misconception=code(code_), prior=prior, learn=learn, guess=guess,
        slip=0.125, fitted_at=timezone.now(),
    )  # fmt: skip


@pytest.mark.django_db
def test_a_mastery_row_reads_the_fit_parameters_for_would_choose():
    MisconceptionFactory.create(code="PRE-NEURON", kind=Misconception.Kind.PREREQUISITE)
    code("DO-TEST")  # in the catalogue, never fitted
    course = Course.objects.create(slug="c", title="C")
    other = Course.objects.create(slug="d", title="D")
    _fit(None, "DO-SPEED", 0.4, 0.2, 0.25)
    _fit(course, "DO-SPEED", 0.6, 0.3, 0.1)
    _fit(course, "DO-DATA", 0.7, 0.05, 0.3)
    learner = UserFactory.create()

    for each in (course, other):
        masteries(each, learner, CODES)  # seeds the rows
        rows = masteries(each, learner, CODES)  # reads them back, annotated
        read = {c: parameters_annotated(row, row.misconception.kind) for c, row in rows.items()}
        assert read == parameters_for(course=each, codes=CODES)

    own = masteries(course, learner, ["DO-SPEED"])["DO-SPEED"]
    assert parameters_annotated(own, own.misconception.kind) == BktParams(
        prior=0.6, learn=0.3, guess=0.1, slip=0.125
    )
