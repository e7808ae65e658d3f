"""Every statistic against an independent numpy computation on small hand-made classes."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from analytics.statistics import quiz_statistics
from assessments.models import Attempt, Choice, Question, Quiz, Response
from courses.models import Course
from tests.factories import UserFactory, quiz_of, single, true_false

pytestmark = pytest.mark.django_db

# Six learners, three slots with maxima 1, 1, 2 (the third gives partial marks): ties,
# a negatively discriminating item and a spread of totals.
MARKS = np.array(
    [
        [1.0, 0.0, 2.0],
        [1.0, 1.0, 1.5],
        [0.0, 1.0, 0.5],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 2.0],
        [1.0, 1.0, 1.0],
        [0.0, 0.0, 1.0],
    ]
)
MAXIMA = np.array([1.0, 1.0, 2.0])


def _quiz(maxima: np.ndarray = MAXIMA) -> tuple[Quiz, list[Question]]:
    questions = [single(mark=Decimal(str(m))) for m in maxima[:-1]]
    questions.append(true_false())
    questions[-1].mark = Decimal(str(maxima[-1]))
    questions[-1].save()
    course = Course.objects.create(slug="c1", title="Course")
    return quiz_of(*questions, course=course), questions


def _attempt(
    quiz: Quiz,
    learner: Any,
    marks: np.ndarray,
    questions: list[Question],
    *,
    number: int = 1,
    preview: bool = False,
    picks: list[Choice] | None = None,
) -> Attempt:
    attempt = Attempt.objects.create(
        quiz=quiz, learner=learner, number=number, seed=1, state=Attempt.State.SUBMITTED,
        started_at=timezone.now(), submitted_at=timezone.now(), is_preview=preview,
        score=Decimal(str(float(marks.sum()))), max_score=Decimal(str(float(MAXIMA.sum()))),
    )  # fmt: skip
    for slot, (question, mark) in enumerate(zip(questions, marks, strict=True), start=1):
        response = Response.objects.create(
            attempt=attempt, slot=slot, question=question, mark=Decimal(str(mark)),
            max_mark=question.mark, is_correct=bool(mark == float(question.mark)), confidence=3,
        )  # fmt: skip
        if picks is not None:
            response.selected_choices.add(picks[slot - 1])
    return attempt


def _class(marks: np.ndarray = MARKS) -> tuple[Quiz, list[Question]]:
    quiz, questions = _quiz()
    for row in marks:
        picks = [_pick(q, mark, float(q.mark)) for q, mark in zip(questions, row, strict=True)]
        _attempt(quiz, UserFactory.create(), row, questions, picks=picks)
    return quiz, questions


def _pick(question: Question, mark: float, maximum: float) -> Choice:
    """Right answers pick the right option; wrong ones alternate between the distractors."""
    choices = list(question.choices.order_by("position"))
    right = [c for c in choices if c.is_correct]
    wrong = [c for c in choices if not c.is_correct]
    if mark == maximum:
        return right[0]
    return wrong[int(mark * 2) % len(wrong)]


def _item(stats: dict[str, Any], slot: int) -> dict[str, Any]:
    return next(item for item in stats["items"] if item["slot"] == slot)


def test_item_statistics_match_moodles_definitions():
    quiz, _ = _class()
    stats = quiz_statistics(quiz=quiz)
    x, total = MARKS, MARKS.sum(axis=1)
    assert stats["attempts_counted"] == len(MARKS)
    root = np.sqrt([max(np.cov(x[:, i], total)[0, 1], 0) for i in range(3)])
    for i in range(3):
        item = _item(stats, i + 1)
        rest = total - x[:, i]
        covmax = np.cov(np.sort(x[:, i]), np.sort(rest))[0, 1]
        assert item["facility"] == pytest.approx(100 * x[:, i].mean() / MAXIMA[i])
        assert item["sd"] == pytest.approx(100 * x[:, i].std(ddof=1) / MAXIMA[i])
        assert item["discrimination_index"] == pytest.approx(100 * np.corrcoef(x[:, i], rest)[0, 1])
        assert item["discriminative_efficiency"] == pytest.approx(
            100 * np.cov(x[:, i], rest)[0, 1] / covmax
        )
        assert item["intended_weight"] == pytest.approx(100 * MAXIMA[i] / MAXIMA.sum())
        covariance = np.cov(x[:, i], total)[0, 1]
        if covariance >= 0:
            assert item["effective_weight"] == pytest.approx(
                100 * math.sqrt(covariance) / root.sum()
            )
        else:
            assert item["effective_weight"] is None
            assert "negative_covariance" in item["flags"]
    assert _item(stats, 1)["random_guess_score"] == pytest.approx(100 / 3)
    assert _item(stats, 3)["random_guess_score"] == pytest.approx(50)


def test_flags_name_negative_discrimination_and_low_efficiency():
    quiz, _ = _class()
    stats = quiz_statistics(quiz=quiz)
    for item in stats["items"]:
        if item["discrimination_index"] < 0:
            assert "negative_discrimination" in item["flags"]
        if item["discriminative_efficiency"] < 15:
            assert "low_discriminative_efficiency" in item["flags"]
    assert any(item["flags"] for item in stats["items"])


def test_test_statistics_match_independent_formulas():
    quiz, _ = _class()
    test = quiz_statistics(quiz=quiz)["test"]
    total = MARKS.sum(axis=1)
    n, scale = len(total), 100 / MAXIMA.sum()
    assert test["mean"] == pytest.approx(total.mean() * scale)
    assert test["median"] == pytest.approx(np.median(total) * scale)
    assert test["sd"] == pytest.approx(total.std(ddof=1) * scale)
    # Moodle's k-statistic ratios are the adjusted Fisher-Pearson coefficients G1 and G2.
    d = total - total.mean()
    m2, m3, m4 = (np.mean(d**k) for k in (2, 3, 4))
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    assert test["skewness"] == pytest.approx(math.sqrt(n * (n - 1)) / (n - 2) * g1, rel=1e-5)
    assert test["kurtosis"] == pytest.approx(
        (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6), rel=1e-5
    )
    p = MARKS.shape[1]
    alpha = p / (p - 1) * (1 - MARKS.var(axis=0, ddof=1).sum() / total.var(ddof=1))
    assert test["cic"] == pytest.approx(100 * alpha)
    error_ratio = 100 * math.sqrt(1 - alpha)
    assert test["error_ratio"] == pytest.approx(error_ratio)
    assert test["standard_error"] == pytest.approx(error_ratio / 100 * total.std(ddof=1) * scale)


def test_kr20_on_right_or_wrong_items():
    binary = (MARKS >= MAXIMA).astype(float) * MAXIMA
    quiz, _ = _class(binary)
    test = quiz_statistics(quiz=quiz)["test"]
    right = (binary > 0).astype(float)
    q = right.mean(axis=0)
    total = binary.sum(axis=1)
    # KR-20 with the items' own weights is Cronbach's alpha on the weighted marks.
    variances = (MAXIMA**2 * q * (1 - q) * len(total) / (len(total) - 1)).sum()
    kr20 = 3 / 2 * (1 - variances / total.var(ddof=1))
    assert test["cic"] == pytest.approx(100 * kr20)


def test_option_counts_and_point_biserials():
    quiz, questions = _class()
    stats = quiz_statistics(quiz=quiz)
    total = MARKS.sum(axis=1)
    for slot, question in enumerate(questions, start=1):
        item = _item(stats, slot)
        picks = [_pick(question, mark, float(question.mark)).id for mark in MARKS[:, slot - 1]]
        for option in item["options"]:
            chosen = np.array([pick == option["choice"] for pick in picks], dtype=float)
            assert option["count"] == int(chosen.sum())
            if 0 < chosen.sum() < len(chosen):
                assert option["point_biserial"] == pytest.approx(np.corrcoef(chosen, total)[0, 1])
                if not option["is_correct"] and option["point_biserial"] > 0:
                    assert option["flag"] == "distractor_positive"
            else:
                assert option["point_biserial"] is None
        assert {code for o in item["options"] for code in o["misconceptions"]} >= {"DO-DATA"}


def test_an_item_everyone_got_right_has_no_discrimination():
    marks = MARKS.copy()
    marks[:, 0] = 1.0
    quiz, _ = _class(marks)
    item = _item(quiz_statistics(quiz=quiz), 1)
    assert item["facility"] == 100
    assert item["sd"] == 0
    assert item["discrimination_index"] is None
    assert item["discriminative_efficiency"] is None


def test_a_single_attempt_says_why_spread_statistics_are_missing():
    quiz, questions = _quiz()
    _attempt(quiz, UserFactory.create(), MARKS[0], questions)
    stats = quiz_statistics(quiz=quiz)
    assert stats["attempts_counted"] == 1
    test = stats["test"]
    assert test["mean"] == pytest.approx(100 * MARKS[0].sum() / MAXIMA.sum())
    assert test["sd"] is None and test["skewness"] is None and test["cic"] is None
    assert "at least 2" in test["notes"]["sd"]
    assert _item(stats, 1)["discrimination_index"] is None


def test_no_attempts_yet():
    quiz, _ = _quiz()
    stats = quiz_statistics(quiz=quiz)
    assert stats["attempts_counted"] == 0
    assert stats["items"] == []
    assert "No finished attempt" in stats["test"]["notes"]["all"]


@pytest.mark.parametrize(
    ("policy", "expected"), [("first", 1.0), ("last", 3.0), ("highest", 4.0), ("all", 8.0)]
)
def test_which_attempts_count(policy, expected):
    quiz, questions = _quiz()
    learner = UserFactory.create()
    for number, row in enumerate(
        ([1, 0, 0], [1, 1, 2], [1, 0, 2], [0, 0, 0]), start=1
    ):  # totals 1, 4, 3, 0: highest is the 2nd
        _attempt(quiz, learner, np.array(row, dtype=float), questions, number=number)
    # reorder so "last" is the 3rd attempt (total 3): drop the 4th
    Attempt.objects.filter(quiz=quiz, number=4).delete()
    # an instructor's preview and the instructor's own attempt never count
    teacher = UserFactory.create()
    assert quiz.course is not None
    quiz.course.instructors.add(teacher)
    _attempt(quiz, teacher, np.array([1.0, 1.0, 2.0]), questions, number=1)
    _attempt(quiz, UserFactory.create(), np.array([1.0, 1.0, 2.0]), questions, preview=True)
    stats = quiz_statistics(quiz=quiz, attempts=policy)
    counted = 3 if policy == "all" else 1
    assert stats["attempts_counted"] == counted
    assert stats["test"]["mean"] == pytest.approx(100 * expected / counted / MAXIMA.sum())


def test_highest_ties_go_to_the_earlier_attempt():
    quiz, questions = _quiz()
    learner = UserFactory.create()
    _attempt(quiz, learner, np.array([1.0, 0.0, 0.0]), questions, number=1)
    _attempt(quiz, learner, np.array([0.0, 1.0, 0.0]), questions, number=2)
    stats = quiz_statistics(quiz=quiz, attempts="highest")
    assert _item(stats, 1)["facility"] == 100


def test_the_number_of_queries_does_not_grow_with_the_class(django_assert_max_num_queries):
    quiz, questions = _class()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        quiz_statistics(quiz=quiz)
    for row in MARKS[::-1]:
        for _ in range(4):
            _attempt(quiz, UserFactory.create(), row, questions)
    with django_assert_max_num_queries(len(small.captured_queries)):
        quiz_statistics(quiz=quiz)


def test_results_are_cached_until_an_attempt_changes(django_assert_max_num_queries):
    quiz, questions = _class()
    first = quiz_statistics(quiz=quiz)
    with django_assert_max_num_queries(2):  # the fingerprint only
        assert quiz_statistics(quiz=quiz) == first
    _attempt(quiz, UserFactory.create(), MARKS[0], questions)
    assert quiz_statistics(quiz=quiz)["attempts_counted"] == first["attempts_counted"] + 1
    fresh = quiz_statistics(quiz=quiz, fresh=True)
    assert fresh["attempts_counted"] == first["attempts_counted"] + 1


def test_the_warmer_fills_the_cache(django_assert_max_num_queries):
    from analytics.misconceptions import course_gain, course_misconceptions
    from analytics.tasks import analytics_warm

    quiz, _ = _class()
    assert quiz.course is not None
    assert analytics_warm() >= 3
    with django_assert_max_num_queries(2):
        quiz_statistics(quiz=quiz)
    with django_assert_max_num_queries(4):
        course_gain(course=quiz.course)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as warm:
        course_misconceptions(course=quiz.course)
    with CaptureQueriesContext(connection) as fresh:
        course_misconceptions(course=quiz.course, fresh=True)

    # the warm call reads the evidence from the cache: no counted-attempts statement
    def evidence_statements(context: CaptureQueriesContext) -> int:
        return sum("WITH ranked" in query["sql"] for query in context.captured_queries)

    assert evidence_statements(warm) == 0
    assert evidence_statements(fresh) >= 1
