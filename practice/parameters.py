"""Which BKT parameters hold for a course: its own fit, else the fit on every course, else
the documented defaults (one set for misconceptions, one for prerequisites)."""

from __future__ import annotations

from collections.abc import Iterable

from assessments.models import Misconception
from courses.models import Course
from practice.bkt import DEFAULT_PARAMS, PREREQUISITE_PARAMS, BktParams
from practice.models import BktParameters


def default_params(kind: str) -> BktParams:
    """Return the documented defaults for a misconception or a prerequisite."""
    return PREREQUISITE_PARAMS if kind == Misconception.Kind.PREREQUISITE else DEFAULT_PARAMS


def parameters_for(*, course: Course | None, codes: Iterable[str]) -> dict[str, BktParams]:
    """Return the BKT parameters in force for each of `codes` in `course`."""
    codes = list(dict.fromkeys(codes))
    kinds = dict(Misconception.objects.filter(code__in=codes).values_list("code", "kind"))
    found: dict[str, BktParams] = {code: default_params(kinds.get(code, "")) for code in codes}
    rows = BktParameters.objects.filter(misconception__code__in=codes).select_related(
        "misconception"
    )
    # The overall fit first, then the course's own on top of it.
    for row in sorted(rows, key=lambda r: r.course_id is not None):
        if row.course_id is None or (course is not None and row.course_id == course.id):
            found[row.misconception.code] = BktParams(
                prior=row.prior, learn=row.learn, guess=row.guess, slip=row.slip
            )
    return found
