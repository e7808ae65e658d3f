"""Every statistic against an independent numpy computation: small hand-made classes, and a
class taking a demo-shaped quiz (shuffled random sections, an unscored item) through the
services."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db.models import F
from django.utils import timezone

from analytics.statistics import quiz_statistics
from assessments import services
from assessments.answers import AnswerInput
from assessments.models import (
    Attempt,
    Choice,
    Question,
    QuestionType,
    Quiz,
    QuizSection,
    Response,
)
from courses.models import Course, Enrollment
from tests.factories import (
    BankFactory,
    UserFactory,
    explain,
    multiple,
    numeric,
    quiz_of,
    single,
    true_false,
)

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
            attempt=attempt, slot=slot, structural_slot=slot, question=question,
            mark=Decimal(str(mark)),
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

    # the warm call reads the class's counters from the cache: no read of the aggregates
    def evidence_statements(context: CaptureQueriesContext) -> int:
        return sum("analytics_coursecount" in query["sql"] for query in context.captured_queries)

    assert evidence_statements(warm) == 0
    assert evidence_statements(fresh) >= 1


# --- A quiz shaped like the demo tests -----------------------------------------------------
# Sections draw at random from banks larger than their draw counts, the display is shuffled,
# one section draws an unscored explain-back item (max mark 0) and one draws 2-mark
# multiple-response questions with partial credit. Learners answer through the services.

LEARNERS = 40


def _scored_banks() -> list[tuple[list[Question], int]]:
    """(bank questions, draw count) per section, in section order."""
    prerequisites = BankFactory.create(slug="prerequisites")
    purpose = BankFactory.create(slug="purpose")
    partial = BankFactory.create(slug="partial")
    numbers = BankFactory.create(slug="numbers")
    explaining = BankFactory.create(slug="explaining")
    return [
        ([single(prerequisites, slug=f"pre-{i}") for i in range(4)], 2),
        ([single(purpose, slug=f"pur-{i}") for i in range(3)] + [true_false(purpose)], 3),
        ([_marked(multiple(partial), 2) for _ in range(3)], 1),
        ([numeric(numbers) for _ in range(3)], 1),
        ([explain(explaining) for _ in range(2)], 1),
    ]


def _marked(question: Question, mark: int) -> Question:
    question.mark = Decimal(mark)
    question.save(update_fields=["mark"])
    return question


def _demo_quiz(banks: list[tuple[list[Question], int]]) -> Quiz:
    course = Course.objects.create(slug="demo", title="Dropout")
    quiz = Quiz.objects.create(
        slug="demo-pre", title="Pre-test", course=course, shuffle_questions=True,
        shuffle_choices=True, role=Quiz.Role.PRE,
    )  # fmt: skip
    for position, (questions, draws) in enumerate(banks):
        QuizSection.objects.create(
            quiz=quiz, bank=questions[0].bank, draw_count=draws, position=position
        )
    return quiz


def _answer(
    question: Question, parameters: dict[str, float], ability: float, rng: random.Random
) -> AnswerInput:
    """Right with a probability that grows with the learner's ability and varies by
    question (a Rasch model); wrong answers vary too."""
    easiness = ((question.id * 7919) % 11) / 5 - 1
    right = rng.random() < 1 / (1 + math.exp(-(1.5 * ability + easiness)))
    confidence = rng.randrange(6)
    options = list(question.choices.order_by("position"))
    if question.qtype == QuestionType.EXPLAIN:
        return AnswerInput(text="Dropout drops units at random in training.", confidence=3)
    if question.qtype == QuestionType.NUMERIC:
        p = parameters["p"]
        return AnswerInput(
            numeric_value=(1 - p) * 1000 if right else p * 1000, confidence=confidence
        )
    if question.qtype == QuestionType.MULTIPLE:
        rights = [c.id for c in options if c.is_correct]
        wrongs = [c.id for c in options if not c.is_correct]
        picks = [rights, rights[:1], rights[:1] + wrongs[:1], wrongs] if not right else [rights]
        return AnswerInput(choice_ids=rng.choice(picks), confidence=confidence)
    pick = rng.choice([c for c in options if c.is_correct == right])
    return AnswerInput(choice_ids=[pick.id], confidence=confidence)


def _take(quiz: Quiz, learners: int, rng: random.Random) -> None:
    """`learners` new learners enrol, start, answer every question and submit."""
    assert quiz.course is not None
    for _ in range(learners):
        learner = UserFactory.create()
        ability = rng.gauss(0, 1)
        Enrollment.objects.create(course=quiz.course, learner=learner)
        # the draw and the shuffles follow the test's seed, so the class is the same each run
        seed = rng.randrange(2**32)
        attempt = services.attempt_start(quiz=quiz, learner=learner, seed=seed)
        for response in attempt.responses.select_related("question").order_by("slot"):
            answer = _answer(response.question, response.parameters, ability, rng)
            services.response_save(
                attempt_id=attempt.id, learner=learner, slot=response.slot, answer=answer
            )
        services.attempt_submit(attempt_id=attempt.id, learner=learner)


def _expected(quiz: Quiz) -> dict[str, Any]:
    """Every statistic recomputed with numpy from the raw rows read back from the database.

    Moodle's definitions: items are the structural slots that carry marks; each attempt is
    a percentage P of its own maximum (the sum of its max marks) and an item's mark enters
    as x = 100 mark / that maximum, so that the items sum to P. Undefined values (no
    spread) come out as nan."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _recomputed(quiz)


def _recomputed(quiz: Quiz) -> dict[str, Any]:
    rows = list(
        Response.objects.filter(attempt__quiz=quiz).values_list(
            "id", "attempt_id", "structural_slot", "question_id", "mark", "max_mark"
        )
    )
    picked: dict[int, set[int]] = {}
    for response_id, choice_id in Response.selected_choices.through.objects.filter(
        response__attempt__quiz=quiz
    ).values_list("response_id", "choice_id"):
        picked.setdefault(response_id, set()).add(choice_id)
    assert all(row[2] is not None for row in rows)  # the service records every slot
    attempts = sorted({row[1] for row in rows})
    slots = sorted({int(row[2] or 0) for row in rows})
    a_index = {a: i for i, a in enumerate(attempts)}
    s_index = {s: j for j, s in enumerate(slots)}
    mark = np.zeros((len(attempts), len(slots)))
    top = np.zeros_like(mark)
    question = np.full(mark.shape, -1)
    response = np.full(mark.shape, -1)
    for rid, attempt, slot, qid, m, mm in rows:
        i, j = a_index[attempt], s_index[int(slot or 0)]
        mark[i, j] = float(m or 0)
        top[i, j] = float(mm)
        question[i, j] = qid
        response[i, j] = rid
    items = top.max(axis=0) > 0
    maximum = top.sum(axis=1)
    total = mark.sum(axis=1)
    pct = 100 * total / maximum
    shares = 100 * mark[:, items] / maximum[:, None]
    n, p = len(pct), int(items.sum())
    d = pct - pct.mean()
    m2, m3, m4 = (np.mean(d**k) for k in (2, 3, 4))
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    alpha = p / (p - 1) * (1 - shares.var(axis=0, ddof=1).sum() / pct.var(ddof=1))
    error_ratio = 100 * math.sqrt(1 - alpha)
    roots = sum(math.sqrt(c) for c in (np.cov(shares[:, k], pct)[0, 1] for k in range(p)) if c >= 0)
    test = {
        "mean": pct.mean(),
        "median": np.median(pct),
        "sd": pct.std(ddof=1),
        "skewness": math.sqrt(n * (n - 1)) / (n - 2) * g1,
        "kurtosis": (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6),
        "cic": 100 * alpha,
        "error_ratio": error_ratio,
        "standard_error": error_ratio / 100 * pct.std(ddof=1),
    }
    rows_by_question = {}
    for qid in sorted({q for q in question.ravel() if q >= 0}):
        at, col = np.nonzero((question == qid) & (top > 0))
        if not at.size:
            continue
        x = 100 * mark[at, col] / maximum[at]
        fraction = mark[at, col] / top[at, col]
        total_q = pct[at]
        rest = total_q - x
        covmax = np.cov(np.sort(x), np.sort(rest))[0, 1]
        covariance = np.cov(x, total_q)[0, 1]
        options = {}
        for choice_id in Choice.objects.filter(question_id=qid).values_list("id", flat=True):
            chose = np.array([choice_id in picked.get(r, set()) for r in response[at, col]])
            options[choice_id] = (
                int(chose.sum()),
                np.corrcoef(chose, total_q)[0, 1] if 0 < chose.sum() < chose.size else None,
            )
        rows_by_question[qid] = {
            "slots": sorted({slots[j] for j in col}),
            "attempts": int(at.size),
            "facility": 100 * fraction.mean(),
            "sd": 100 * fraction.std(ddof=1),
            "intended_weight": np.mean(100 * top[at, col] / maximum[at]),
            "effective_weight": 100 * math.sqrt(covariance) / roots if covariance >= 0 else None,
            "discrimination_index": 100 * np.corrcoef(x, rest)[0, 1],
            "discriminative_efficiency": 100 * np.cov(x, rest)[0, 1] / covmax,
            "options": options,
        }
    raw = mark[:, items]
    return {
        "attempts": n,
        "items": p,
        # Moodle's CIC on the raw marks, which equals the one on shares when maxima agree
        "raw_cic": 100 * p / (p - 1) * (1 - raw.var(axis=0, ddof=1).sum() / total.var(ddof=1)),
        "item_slots": [s for s, keep in zip(slots, items, strict=True) if keep],
        "maxima": sorted(set(maximum)),
        "test": test,
        "questions": rows_by_question,
        "display_differs": bool(
            Response.objects.filter(attempt__quiz=quiz).exclude(slot=F("structural_slot")).exists()
        ),
    }


def _assert_matches(stats: dict[str, Any], expected: dict[str, Any]) -> None:
    assert stats["attempts_counted"] == expected["attempts"]
    assert stats["items_count"] == expected["items"]
    for name, value in expected["test"].items():
        assert stats["test"][name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    assert {item["question"] for item in stats["items"]} == set(expected["questions"])
    for item in stats["items"]:
        want = expected["questions"][item["question"]]
        assert item["slots"] == want["slots"] and item["slot"] == want["slots"][0]
        assert item["attempts"] == want["attempts"]
        for name in (
            "facility", "sd", "intended_weight", "effective_weight", "discrimination_index",
            "discriminative_efficiency",
        ):  # fmt: skip
            if want[name] is None or not math.isfinite(want[name]):
                assert item[name] is None, (item["question_slug"], name)
            else:
                assert item[name] == pytest.approx(want[name], rel=1e-9, abs=1e-9), name
        for option in item["options"]:
            count, point_biserial = want["options"][option["choice"]]
            assert option["count"] == count
            if point_biserial is None or not math.isfinite(point_biserial):
                assert option["point_biserial"] is None
            else:
                assert option["point_biserial"] == pytest.approx(point_biserial, rel=1e-9)


def test_every_statistic_on_shuffled_random_sections_with_an_unscored_item():
    # given: the demo-shaped quiz, taken by a class through the services
    banks = _scored_banks()
    quiz = _demo_quiz(banks)
    _take(quiz, LEARNERS, random.Random(4))
    expected = _expected(quiz)
    # when
    stats = quiz_statistics(quiz=quiz, fresh=True)
    # then: the data is what the defect needs (shuffled, drawn from larger banks, unscored)
    assert expected["display_differs"]
    drawn = Response.objects.filter(attempt__quiz=quiz).values("question_id").distinct().count()
    assert drawn > sum(draws for _, draws in banks)
    assert any(len(row["slots"]) > 1 for row in expected["questions"].values())
    # and the items are the 7 structural slots with marks; the explain slot (8) is not one
    assert expected["item_slots"] == [1, 2, 3, 4, 5, 6, 7]
    assert stats["items_count"] == 7
    assert not any(item["qtype"] == QuestionType.EXPLAIN for item in stats["items"])
    # and every attempt is out of 8 (2 + 3 + 2 + 1 marks), as its learner was told
    assert expected["maxima"] == [8.0] and stats["max_mark"] == 8.0
    assert set(Attempt.objects.filter(quiz=quiz).values_list("max_score", flat=True)) == {8}
    _assert_matches(stats, expected)
    # and with one maximum these are Moodle's formulas on the raw marks
    totals = np.array([float(a.score) for a in Attempt.objects.filter(quiz=quiz).order_by("id")])
    assert stats["test"]["mean"] == pytest.approx(100 * totals.mean() / 8)
    assert stats["test"]["sd"] == pytest.approx(100 * totals.std(ddof=1) / 8)
    assert stats["test"]["cic"] == pytest.approx(expected["raw_cic"])
    multiple_rows = [i for i in stats["items"] if i["qtype"] == QuestionType.MULTIPLE]
    assert multiple_rows and all(
        i["intended_weight"] == pytest.approx(200 / 8) for i in multiple_rows
    )
    assert all(
        i["intended_weight"] == pytest.approx(100 / 8)
        for i in stats["items"]
        if i["qtype"] != QuestionType.MULTIPLE
    )
    guess = {i["qtype"]: i["random_guess_score"] for i in stats["items"]}
    assert guess[QuestionType.SINGLE] == pytest.approx(100 / 3)
    assert guess[QuestionType.TRUE_FALSE] == pytest.approx(50)
    assert guess[QuestionType.NUMERIC] is None and guess[QuestionType.MULTIPLE] is None


def test_the_display_order_changes_nothing():
    quiz = _demo_quiz(_scored_banks())
    _take(quiz, 12, random.Random(5))
    before = quiz_statistics(quiz=quiz, fresh=True)
    # when: every attempt shows its questions in reverse order
    responses = list(Response.objects.filter(attempt__quiz=quiz))
    Response.objects.filter(attempt__quiz=quiz).update(slot=F("slot") + 100)
    for response in responses:
        response.slot = 9 - response.slot
    Response.objects.bulk_update(responses, ["slot"])
    # then
    assert quiz_statistics(quiz=quiz, fresh=True) == before


def test_attempts_out_of_different_maxima_count_on_their_own():
    # given: a bank that mixes an explain item with scored ones, and a mark an instructor
    # changes from 1 to 3 after half the class has finished
    banks = _scored_banks()
    purpose, _ = banks[1]
    explain(purpose[0].bank)
    quiz = _demo_quiz(banks)
    rng = random.Random(6)
    _take(quiz, 20, rng)
    prerequisite = banks[0][0][0]
    _marked(prerequisite, 3)
    _take(quiz, 20, rng)
    expected = _expected(quiz)
    # when
    stats = quiz_statistics(quiz=quiz, fresh=True)
    # then: attempts differ in maximum, and each counts as its learner was graded
    assert len(expected["maxima"]) > 2
    assert stats["max_mark"] is None
    assert "different maxima" in stats["test"]["notes"]["maximum"]
    percentages = sorted(
        100 * float(a.score) / float(a.max_score) for a in Attempt.objects.filter(quiz=quiz)
    )
    assert stats["test"]["median"] == pytest.approx(np.median(percentages))
    _assert_matches(stats, expected)


def test_a_quiz_of_unscored_items_has_no_statistics_and_says_why():
    course = Course.objects.create(slug="c2", title="Course")
    quiz = quiz_of(explain(), explain(), course=course)
    _take(quiz, 3, random.Random(7))
    stats = quiz_statistics(quiz=quiz, fresh=True)
    assert stats["items_count"] == 0 and stats["items"] == []
    assert stats["test"]["mean"] is None
    assert "no question of this quiz is scored" in stats["test"]["notes"]["all"]


def test_highest_is_the_best_percentage_when_maxima_differ():
    quiz, questions = _quiz()
    learner = UserFactory.create()
    first = _attempt(quiz, learner, np.array([1.0, 1.0, 1.0]), questions)  # 3 of 4: 75 %
    second = _attempt(quiz, learner, np.array([1.0, 1.0, 1.0]), questions, number=2)
    Attempt.objects.filter(id=second.id).update(max_score=Decimal(3))  # 3 of 3: 100 %
    Response.objects.filter(attempt=second, structural_slot=3).update(max_mark=Decimal(1))
    Attempt.objects.filter(id=first.id).update(score=Decimal("3.5"))  # still < 100 %
    Response.objects.filter(attempt=first, structural_slot=3).update(mark=Decimal("1.5"))
    stats = quiz_statistics(quiz=quiz, attempts="highest", fresh=True)
    assert stats["test"]["mean"] == pytest.approx(100)


def test_responses_that_fill_no_slot_count_in_the_totals_and_are_noted():
    # given: one attempt's first response was saved before slots were recorded and could
    # not be placed (its quiz's sections changed since)
    quiz, _ = _class()
    first = Attempt.objects.filter(quiz=quiz).order_by("id")[0]
    Response.objects.filter(attempt=first, structural_slot=1).update(structural_slot=None)
    # when
    stats = quiz_statistics(quiz=quiz, fresh=True)
    # then: the totals are unchanged and the note says what is left out
    total = MARKS.sum(axis=1)
    assert stats["test"]["mean"] == pytest.approx(100 * total.mean() / MAXIMA.sum())
    assert stats["items_count"] == 3
    assert "1 scored response(s) fill no slot" in stats["test"]["notes"]["slots"]
    assert _item(stats, 1)["attempts"] == len(MARKS)
