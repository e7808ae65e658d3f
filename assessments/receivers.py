"""Move a question's `updated_at` when what it shows changes outside its own row.

Caches keyed on assessments.bank_fingerprint read a bank's questions through their
`updated_at`; a choice, a numeric distractor, a misconception link or the bank's own row is
saved by the admin's inlines, by bank_import and by the catalogue's load without saving the
question, so these receivers move it. Receivers, not calls in each write path: every path,
the admin's included, then moves the fingerprint without remembering to.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone

from assessments.models import Choice, Misconception, NumericDistractor, Question, QuestionBank

ChoiceLinks = Choice.misconceptions.through
DistractorLinks = NumericDistractor.misconceptions.through
ProbeLinks = Question.probes.through


def questions_touch(question_filter: Q) -> None:
    """Set `updated_at` to now on the questions the filter selects."""
    Question.objects.filter(question_filter).update(updated_at=timezone.now())


def _part_saved_or_deleted(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    questions_touch(Q(pk=instance.question_id))


def _links_changed(
    sender: type[Model],
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    # A clear is seen before it happens: afterwards no link names the questions it changed.
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # the choice, distractor or question itself
        questions_touch(Q(pk=instance.pk if sender is ProbeLinks else instance.question_id))
        return
    # From the misconception's side: pk_set holds the other ends (None for a clear).
    if sender is ChoiceLinks:
        ends = Q(choices__misconceptions=instance) if pk_set is None else Q(choices__in=pk_set)
    elif sender is DistractorLinks:
        ends = (
            Q(distractors__misconceptions=instance) if pk_set is None else Q(distractors__in=pk_set)
        )
    else:
        ends = Q(probes=instance) if pk_set is None else Q(pk__in=pk_set)
    questions_touch(Q(pk__in=Question.objects.filter(ends).values("pk")))


def _naming(misconception: Misconception) -> Q:
    """Select the questions that name the misconception anywhere."""
    naming = (
        Q(probes=misconception)
        | Q(choices__misconceptions=misconception)
        | Q(distractors__misconceptions=misconception)
    )
    return Q(pk__in=Question.objects.filter(naming).values("pk"))


def _misconception_deleted(sender: type[Model], instance: Misconception, **kwargs: Any) -> None:
    # Seen before the deletion: Django deletes the links without a signal.
    questions_touch(_naming(instance))


def _misconception_saved(sender: type[Model], instance: Misconception, **kwargs: Any) -> None:
    # Items carry misconception codes: a renamed code changes every question that names it.
    if not kwargs.get("created"):
        questions_touch(_naming(instance))


def _bank_saved(sender: type[Model], instance: QuestionBank, **kwargs: Any) -> None:
    # Items carry their bank's slug and whether it holds prerequisites.
    questions_touch(Q(bank_id=instance.pk))


def receivers_connect() -> None:
    """Connect the receivers that keep questions' `updated_at` true to what they show."""
    for part in (Choice, NumericDistractor):
        post_save.connect(_part_saved_or_deleted, sender=part, dispatch_uid=f"touch-{part}")
        post_delete.connect(_part_saved_or_deleted, sender=part, dispatch_uid=f"untouch-{part}")
    for links in (ChoiceLinks, DistractorLinks, ProbeLinks):
        m2m_changed.connect(_links_changed, sender=links, dispatch_uid=f"links-{links}")
    post_save.connect(_misconception_saved, sender=Misconception, dispatch_uid="touch-codes")
    pre_delete.connect(_misconception_deleted, sender=Misconception, dispatch_uid="untouch-codes")
    post_save.connect(_bank_saved, sender=QuestionBank, dispatch_uid="touch-bank")
