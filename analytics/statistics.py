"""Quiz and item statistics with Moodle's definitions, aggregated in the database.

Notation (Moodle's "Quiz statistics calculations"): x_ai is the mark of counted attempt a
on item i (maximum M_i), X_a = Σ_i x_ai the attempt's total, R_ai = X_a - x_ai the rest
score, s the number of counted attempts, p the number of items (slots). Sample statistics
divide by s - 1.

Items are the quiz's slots. A slot may draw different questions for different attempts
(sections draw from banks), so the per-item rows are per (slot, question), computed over
the attempts that got that question, as Moodle does for random questions' sub-questions;
the test's CIC and the effective weights use the slot as the item.

The work is done by a fixed number of SQL queries whatever the class size: sums, centred
sums (means come from window functions, so nothing is lost to cancellation) and the
sorted pairing for the discriminative efficiency's covmax are computed by the database;
Python only combines one row per item, per option and per attempt total.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from analytics.counted import POLICIES, counted_attempts_cte
from assessments.models import Choice, Question, QuestionType, Quiz, Response

__all__ = ["POLICIES", "quiz_statistics", "test_statistics"]

LOW_EFFICIENCY = 15.0  # Moodle flags discriminative efficiency under 15 %
GUESSABLE = (QuestionType.SINGLE, QuestionType.TRUE_FALSE)


@dataclass(frozen=True)
class _Tables:
    response: str = Response._meta.db_table
    selected: str = Response.selected_choices.through._meta.db_table


def _counted_cte(quiz: Quiz, policy: str) -> tuple[str, list[Any]]:
    """SQL for the CTEs `counted` (see analytics.counted) and `item_rows` (one row per
    scored response of a counted attempt, with x, M, the attempt total X and the rest R)."""
    counted, params = counted_attempts_cte(course_id=quiz.course_id, quiz_id=quiz.id, policy=policy)
    t = _Tables()
    sql = f"""{counted},
        scored AS (
            SELECT r.id AS response_id, r.attempt_id, r.slot, r.question_id,
                   CAST(COALESCE(r.mark, 0) AS DOUBLE PRECISION) AS x,
                   CAST(r.max_mark AS DOUBLE PRECISION) AS m
              FROM {t.response} r JOIN counted c ON c.id = r.attempt_id
             WHERE r.max_mark > 0
        ),
        item_rows AS (
            SELECT scored.*,
                   SUM(x) OVER (PARTITION BY attempt_id) AS total,
                   SUM(x) OVER (PARTITION BY attempt_id) - x AS rest
              FROM scored
        )
    """
    return sql, params


def _query(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _pct(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else 100.0 * value


def test_statistics(
    totals: np.ndarray, max_total: float, item_variances: list[float]
) -> dict[str, Any]:
    """Moodle's test statistics of the attempt totals, as percentages of `max_total`.

    Skewness and kurtosis are Moodle's k-statistic ratios k3/k2^1.5 and k4/k2²; CIC is
    Cronbach's alpha (KR-20 on 0/1 items) on the p slots' sample variances."""
    s = int(totals.size)
    p = len(item_variances)
    notes: dict[str, str] = {}
    result: dict[str, Any] = dict.fromkeys(
        ("mean", "median", "sd", "skewness", "kurtosis", "cic", "error_ratio", "standard_error")
    )
    if s == 0:
        notes["all"] = "No finished attempt counts yet."
        return {**result, "notes": notes}
    scale = 100.0 / max_total if max_total > 0 else 0.0
    mean = float(totals.mean())
    result["mean"] = mean * scale
    result["median"] = float(np.median(totals)) * scale
    if s < 2:
        notes["sd"] = "The standard deviation needs at least 2 counted attempts."
    else:
        d = totals - mean
        power2, power3, power4 = (float(np.sum(d**k)) for k in (2, 3, 4))
        sd = math.sqrt(power2 / (s - 1))
        result["sd"] = sd * scale
        k2 = power2 / (s - 1)
        if s < 3:
            notes["skewness"] = "Skewness, kurtosis and CIC need at least 3 counted attempts."
        elif k2 == 0:
            notes["skewness"] = "Every counted attempt has the same total: no spread to describe."
        else:
            m2, m3, m4 = power2 / s, power3 / s, power4 / s
            k3 = s * s * m3 / ((s - 1) * (s - 2))
            result["skewness"] = k3 / k2**1.5
            if s > 3:
                k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
                result["kurtosis"] = k4 / (k2 * k2)
            else:
                notes["kurtosis"] = "Kurtosis needs at least 4 counted attempts."
            if p > 1:
                cic = 100.0 * p / (p - 1) * (1.0 - sum(item_variances) / k2)
                result["cic"] = cic
                if cic < 0:
                    notes["cic"] = (
                        "The CIC is negative: the items' marks vary more than the totals, "
                        "so they do not measure one thing together (or too few attempts "
                        "count); the error ratio above 100% follows from it."
                    )
                if cic <= 100:
                    error_ratio = 100.0 * math.sqrt(max(0.0, 1.0 - cic / 100.0))
                    result["error_ratio"] = error_ratio
                    result["standard_error"] = error_ratio / 100.0 * sd * scale
            else:
                notes["cic"] = "CIC needs more than one item."
    return {**result, "notes": notes}


def quiz_statistics(*, quiz: Quiz, attempts: str = "first") -> dict[str, Any]:
    """The statistics page's and API's data for `quiz`, counting attempts by `attempts`."""
    cte, params = _counted_cte(quiz, attempts)
    totals_rows = _query(
        cte + "SELECT attempt_id, MAX(total) FROM item_rows GROUP BY attempt_id", params
    )
    totals = np.array([float(row[1]) for row in totals_rows], dtype=np.float64)
    # Per slot: the item of the test (CIC, intended and effective weights).
    slot_rows = _query(
        cte
        + """, slot_centred AS (
            SELECT slot, x, m, total,
                   AVG(x) OVER (PARTITION BY slot) AS mx,
                   AVG(total) OVER (PARTITION BY slot) AS mt
              FROM item_rows)
        SELECT slot, COUNT(*), MAX(m), SUM((x - mx) * (x - mx)), SUM((x - mx) * (total - mt))
          FROM slot_centred GROUP BY slot ORDER BY slot""",
        params,
    )
    # Per (slot, question): facility, SD, discrimination, discriminative efficiency.
    item_rows = _query(
        cte
        + """, centred AS (
            SELECT slot, question_id, x, m, total, rest,
                   AVG(x) OVER (PARTITION BY slot, question_id) AS mx,
                   AVG(rest) OVER (PARTITION BY slot, question_id) AS mr,
                   AVG(total) OVER (PARTITION BY slot, question_id) AS mt,
                   ROW_NUMBER() OVER (PARTITION BY slot, question_id ORDER BY x) AS rank_x,
                   ROW_NUMBER() OVER (PARTITION BY slot, question_id ORDER BY rest) AS rank_r
              FROM item_rows),
        sorted_pairs AS (
            SELECT a.slot, a.question_id, SUM((a.x - a.mx) * (b.rest - b.mr)) AS sxr_max
              FROM centred a JOIN centred b
                ON b.slot = a.slot AND b.question_id = a.question_id AND b.rank_r = a.rank_x
             GROUP BY a.slot, a.question_id)
        SELECT c.slot, c.question_id, COUNT(*), MAX(c.m), AVG(c.x),
               SUM((c.x - c.mx) * (c.x - c.mx)), SUM((c.rest - c.mr) * (c.rest - c.mr)),
               SUM((c.x - c.mx) * (c.rest - c.mr)), SUM((c.total - c.mt) * (c.total - c.mt)),
               AVG(c.total), MAX(sp.sxr_max)
          FROM centred c JOIN sorted_pairs sp
            ON sp.slot = c.slot AND sp.question_id = c.question_id
         GROUP BY c.slot, c.question_id ORDER BY c.slot, c.question_id""",
        params,
    )
    t = _Tables()
    option_rows = _query(
        cte
        + f"""SELECT ir.slot, ir.question_id, sc.choice_id, COUNT(*), SUM(ir.total)
          FROM item_rows ir JOIN {t.selected} sc ON sc.response_id = ir.response_id
         GROUP BY ir.slot, ir.question_id, sc.choice_id""",
        params,
    )
    question_ids = sorted({row[1] for row in item_rows})
    questions = {q.id: q for q in Question.objects.filter(id__in=question_ids)}
    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in (
        Choice.objects.filter(question_id__in=question_ids)
        .prefetch_related("misconceptions")
        .order_by("question_id", "tier", "position", "id")
    ):
        choices[choice.question_id].append(choice)
    chosen = {(row[0], row[1], row[2]): (int(row[3]), float(row[4])) for row in option_rows}

    slot_max = {int(row[0]): float(row[2]) for row in slot_rows}
    max_total = sum(slot_max.values())
    slot_variances = [float(row[3]) / (int(row[1]) - 1) for row in slot_rows if int(row[1]) > 1]
    covariances = {
        int(row[0]): float(row[4]) / (int(row[1]) - 1) if int(row[1]) > 1 else None
        for row in slot_rows
    }
    root_sum = sum(math.sqrt(c) for c in covariances.values() if c is not None and c >= 0)
    items = []
    for row in item_rows:
        slot, question_id, n = int(row[0]), int(row[1]), int(row[2])
        m, mean_x = float(row[3]), float(row[4])
        sxx, srr, sxr, stt, mean_t, sxr_max = (float(v) for v in row[5:11])
        question = questions[question_id]
        sd = math.sqrt(sxx / (n - 1)) if n > 1 else None
        corr = _ratio(sxr, math.sqrt(sxx * srr)) if sxx > 0 and srr > 0 else None
        efficiency = _ratio(sxr, sxr_max) if sxr_max > 0 else None
        covariance = covariances.get(slot)
        effective = (
            _ratio(math.sqrt(covariance), root_sum)
            if covariance is not None and covariance >= 0
            else None
        )
        options = []
        for choice in choices.get(question_id, []):
            count, total_sum = chosen.get((slot, question_id, choice.id), (0, 0.0))
            options.append(_option(choice, count, total_sum, n=n, mean_t=mean_t, stt=stt))
        flags = []
        if corr is not None and corr < 0:
            flags.append("negative_discrimination")
        if efficiency is not None and 100 * efficiency < LOW_EFFICIENCY:
            flags.append("low_discriminative_efficiency")
        if covariance is not None and covariance < 0:
            flags.append("negative_covariance")
        items.append(
            {
                "question": question_id,
                "question_slug": question.slug,
                "stem": question.stem[:200],
                "qtype": question.qtype,
                "slot": slot,
                "attempts": n,
                "max_mark": m,
                "facility": _pct(mean_x / m if m else None),
                "sd": _pct(sd / m if sd is not None and m else None),
                "random_guess_score": _pct(_random_guess(question, choices.get(question_id, []))),
                "intended_weight": _pct(slot_max.get(slot, 0.0) / max_total if max_total else None),
                "effective_weight": _pct(effective),
                "discrimination_index": _pct(corr),
                "discriminative_efficiency": _pct(efficiency),
                "flags": flags,
                "options": options,
            }
        )
    return {
        "quiz": quiz.id,
        "attempts_policy": attempts,
        "attempts_counted": int(totals.size),
        "items_count": len(slot_rows),
        "test": test_statistics(totals, max_total, slot_variances),
        "items": items,
    }


def _random_guess(question: Question, options: list[Choice]) -> float | None:
    """Single choice and true/false: the mean of the options' fractions (right = 1)."""
    if question.qtype not in GUESSABLE:
        return None
    first_tier = [c for c in options if c.tier == 1] or options
    if not first_tier:
        return None
    return sum(1.0 for c in first_tier if c.is_correct) / len(first_tier)


def _option(
    choice: Choice, count: int, total_sum: float, *, n: int, mean_t: float, stt: float
) -> dict[str, Any]:
    """One option's count and point-biserial correlation with the attempt total.

    r_pb = cov(d, X) / (sd(d) sd(X)) for the indicator d of choosing the option, from the
    count n1 and the choosers' total Σ X: cov = (Σ_chosen X - n1 X̄)/(n-1),
    var(d) = n1 (n - n1) / (n (n - 1)), var(X) = Σ (X - X̄)² / (n - 1)."""
    point_biserial = None
    if n > 1 and 0 < count < n and stt > 0:
        covariance = (total_sum - count * mean_t) / (n - 1)
        variance_d = count * (n - count) / (n * (n - 1))
        point_biserial = covariance / math.sqrt(variance_d * stt / (n - 1))
    codes = sorted(m.code for m in choice.misconceptions.all())
    flag = None
    if not choice.is_correct and point_biserial is not None and point_biserial > 0:
        flag = "distractor_positive"
    return {
        "choice": choice.id,
        "text": choice.text,
        "tier": choice.tier,
        "is_correct": choice.is_correct,
        "count": count,
        "point_biserial": None if point_biserial is None else point_biserial,
        "misconceptions": codes,
        "flag": flag,
    }
