"""BKT state: a learner's P(known) per misconception, seeded from their quiz answers and
moved by each practice answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from assessments.models import (
    Misconception,
)
from courses.models import Course
from practice.bkt import BktParams, bkt_update
from practice.evidence import quiz_observations
from practice.fitting import fit_annotations, parameters_annotated, parameters_for
from practice.models import (
    Mastery,
    PracticeSession,
)


def mastery_threshold() -> float:
    """Return P(known) at which a misconception counts as mastered."""
    return float(settings.PRACTICE_MASTERY_THRESHOLD)


def masteries(course: Course, learner: User, codes: Iterable[str]) -> dict[str, Mastery]:
    """Return the learner's mastery rows for `codes`, made from their quiz answers if new."""
    codes = list(dict.fromkeys(codes))
    # With each row its fitted parameters, so that an answer reads them in the same query.
    read = Mastery.objects.select_related("misconception").annotate(
        **fit_annotations(course=course)
    )
    rows = {
        m.misconception.code: m
        for m in read.filter(course=course, learner=learner, misconception__code__in=codes)
    }
    missing = [code for code in codes if code not in rows]
    if not missing:
        return rows
    params = parameters_for(course=course, codes=missing)
    catalogue = Misconception.objects.in_bulk(missing, field_name="code")
    seeded = {
        code: Mastery(
            course=course,
            learner=learner,
            misconception=catalogue[code],
            p_known=params[code].prior,
        )
        for code in missing
        if code in catalogue
    }
    # The learner's own quiz answers in this course are evidence too, in the order given.
    history = sorted(quiz_observations(course=course, learner_id=learner.id), key=lambda o: o.at)
    for observation in history:
        row = seeded.get(observation.code)
        if row is not None:
            _observe(row, observation.correct, params[observation.code])
    now = timezone.now()
    for row in seeded.values():
        if row.p_known >= mastery_threshold():
            row.mastered_at = now
    Mastery.objects.bulk_create(seeded.values(), ignore_conflicts=True)
    return {
        m.misconception.code: m
        for m in read.filter(course=course, learner=learner, misconception__code__in=codes)
    }


def _observe(row: Mastery, correct: bool, params: BktParams) -> None:
    row.p_known = min(1.0, max(0.0, bkt_update(row.p_known, correct, params)))
    row.observations += 1
    row.correct += int(correct)


def mastery_apply(
    session: PracticeSession,
    observations: list[tuple[str, bool]],
    *,
    confident: bool,
    now: datetime,
    rows: dict[str, Mastery] | None = None,
) -> dict[str, float]:
    """Update the learner's mastery with one answer's observations (one UPDATE for all the
    rows; `rows` are the learner's rows read already, updated in place); return P(known)
    after."""
    if not observations:
        return {}
    codes = [code for code, _ in observations]
    rows = rows if rows is not None else {}
    missing = [code for code in codes if code not in rows]
    if missing:
        rows.update(masteries(session.course, session.learner, missing))
    after: dict[str, float] = {}
    changed: dict[str, Mastery] = {}
    for code, correct in observations:
        row = rows.get(code)
        if row is None:
            continue
        _observe(row, correct, parameters_annotated(row, row.misconception.kind))
        if not correct:
            row.held = True
            row.held_confidently = row.held_confidently or confident
        reached = row.p_known >= mastery_threshold()
        row.mastered_at = (row.mastered_at or now) if reached else None
        row.updated_at = timezone.now()  # bulk_update does not apply auto_now
        changed[code] = row
        after[code] = round(row.p_known, 4)
    Mastery.objects.bulk_update(
        changed.values(),
        fields=[
            "p_known",
            "observations",
            "correct",
            "held",
            "held_confidently",
            "mastered_at",
            "updated_at",
        ],
    )
    return after
