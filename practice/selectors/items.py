"""The items of a course's practice, in order, and the pairs of ideas its learners mix up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import QuerySet

from assessments.models import (
    Misconception,
    Question,
    Quiz,
    QuizSection,
)
from assessments.selectors import pools_read
from core.inputs import MAX_ID
from courses.models import Course
from practice import policy
from practice.models import (
    ConfusedPair,
    PracticeItem,
    PracticeSettings,
)
from practice.selectors.bank_items import CACHE_SECONDS, bank_items, banks_version

# Pairs learners are known to mix up (misconceptions.md); instructors add their own.
# "No scaling" and "scaling at the wrong time" are both wrong expectations of the scale.
BUILT_IN_PAIRS = (
    ("DO-ENSEMBLE", "DO-PERMANENT"),
    ("DO-NOSCALE", "DO-TEST"),
    ("DO-NOSCALE", "DO-SCHEME"),
)


def _post_test_pools(
    sections: QuerySet[QuizSection], version: str | None = None
) -> dict[int, set[int]]:
    """Return, per course, the questions the given post-test sections can draw (their pools
    cached under the banks' fingerprint `version` when given)."""
    rows = list(sections.select_related("bank", "quiz").order_by("id"))
    reserved: dict[int, set[int]] = defaultdict(set)
    if not rows:
        return reserved
    # The pools as attempts draw them: the section's bank, only its form when it names one.
    if version is None:
        pools = pools_read(sections=rows, probes=False)
    else:
        drawn = ",".join(f"{section.bank_id}{section.form}" for section in rows)
        key = f"practice:held-pools:{version}:{drawn}"
        pools = cache.get(key)
        if pools is None:
            pools = pools_read(sections=rows, probes=False)
            cache.set(key, pools, CACHE_SECONDS)
    for section, pool in zip(rows, pools.sections, strict=True):
        course_id = section.quiz.course_id
        assert course_id is not None  # filtered on by the callers
        reserved[course_id].update(pool.pool)
    return reserved


def post_test_questions(*, course_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return, per course, the questions its post-tests can draw (one query without one)."""
    ids = list(course_ids)
    pools = _post_test_pools(
        QuizSection.objects.filter(quiz__course_id__in=ids, quiz__role=Quiz.Role.POST)
    )
    return {course_id: pools.get(course_id, set()) for course_id in ids}


def held_questions(*, course_ids: Iterable[int], version: str | None = None) -> dict[int, set[int]]:
    """Return, per course, the questions practice holds back: those its post-tests can draw,
    unless its instructors chose to use them in practice (one query with `version`, the
    banks' fingerprint, or without a post-test)."""
    ids = list(course_ids)
    pools = _post_test_pools(
        QuizSection.objects.filter(quiz__course_id__in=ids, quiz__role=Quiz.Role.POST).exclude(
            quiz__course__practice_settings__use_post_test_items=True
        ),
        version,
    )
    return {course_id: pools.get(course_id, set()) for course_id in ids}


def practice_settings_of(*, course: Course) -> PracticeSettings:
    """Return the course's practice settings (the defaults, unsaved, if never changed)."""
    return PracticeSettings.objects.filter(course=course).first() or PracticeSettings(course=course)


class BankPlace(NamedTuple):
    """Where a question stands in the banks: practice's default order."""

    question_id: int
    is_prerequisite: bool
    bank_slug: str
    position: int

    def default_rank(self) -> tuple[bool, str, int, int]:
        """Prerequisites first, then by bank and position in it."""
        return (not self.is_prerequisite, self.bank_slug, self.position, self.question_id)


def _course_order(course: Course, questions: Sequence[BankPlace]) -> tuple[list[int], set[int]]:
    """Order the questions as the course's practice: the instructor's positions first, the
    rest in bank order with prerequisites first; return the ids in order and the disabled
    ones."""
    default = sorted(questions, key=BankPlace.default_rank)
    default_index = {q.question_id: index for index, q in enumerate(default)}
    rows = list(
        PracticeItem.objects.filter(course=course).values_list(
            "question_id", "position", "is_enabled"
        )
    )
    placed = {question_id: position for question_id, position, _ in rows}
    disabled = {question_id for question_id, _, enabled in rows if not enabled}

    def rank(question_id: int) -> tuple[int, int]:
        if question_id in placed:
            return (placed[question_id], 0)
        return (len(default) + default_index[question_id], 1)

    return sorted(default_index, key=rank), disabled


def practice_questions(*, course: Course, include_disabled: bool = False) -> list[Question]:
    """Return the questions of the course's practice in the instructor's order."""
    questions = Question.objects.select_related("bank").in_bulk()
    order, disabled = _course_order(
        course,
        [
            BankPlace(q.id, q.bank.is_prerequisite, q.bank.slug, q.position)
            for q in questions.values()
        ],
    )
    return [questions[i] for i in order if include_disabled or i not in disabled]


def practice_items(*, course: Course, version: str | None = None) -> list[policy.Item]:
    """Return the course's enabled practice items, in order, as the policy sees them.

    The banks' part comes from the cache under `version` (the banks' fingerprint; read when
    not given), so an answer reads only the course's own order and held items (two queries).
    """
    version = version or banks_version()
    bank = bank_items(version=version)
    order, disabled = _course_order(
        course,
        [
            BankPlace(i, entry.item.is_prerequisite, entry.bank_slug, entry.position)
            for i, entry in bank.items()
        ],
    )
    # The post-test's items stay out of practice, so that it measures without being taught to.
    disabled |= held_questions(course_ids=[course.id], version=version)[course.id]
    return [bank[i].item for i in order if i not in disabled]


def confused_pairs(*, course: Course) -> list[tuple[str, str]]:
    """Return the course's confused pairs: the built-in ones and the instructors'."""
    pairs = {tuple(sorted(pair)) for pair in BUILT_IN_PAIRS}
    for first, second in ConfusedPair.objects.filter(course=course).values_list(
        "first__code", "second__code"
    ):
        pairs.add(tuple(sorted((first, second))))
    return sorted((a, b) for a, b in pairs)


def confused_pairs_linked(*, course: Course) -> QuerySet[ConfusedPair]:
    """Return the pairs the course's instructors linked, with their misconceptions."""
    return ConfusedPair.objects.filter(course=course).select_related("first", "second")


def confused_pair_linked(*, course: Course, pair_id: int) -> ConfusedPair | None:
    """Return one pair the course's instructors linked, if it exists."""
    if pair_id > MAX_ID:
        return None
    return confused_pairs_linked(course=course).filter(id=pair_id).first()


def items_enabled(*, course: Course) -> dict[int, bool]:
    """Return whether each question the instructors placed is enabled in the practice."""
    return dict(PracticeItem.objects.filter(course=course).values_list("question_id", "is_enabled"))


def misconceptions_catalogue() -> QuerySet[Misconception]:
    """Return the catalogue's misconceptions, by code."""
    return Misconception.objects.order_by("code")


def agenda_codes(items: Sequence[policy.Item]) -> list[str]:
    """Every code the course's items probe: prerequisites first, then in item order."""
    seen: dict[str, bool] = {}
    for prerequisite in (True, False):
        for item in items:
            if item.is_explain or item.is_prerequisite != prerequisite:
                continue
            for code in sorted(item.probes):
                seen.setdefault(code, prerequisite)
    return list(seen)
