"""Quiz and item statistics with Moodle's definitions, aggregated in the database.

Notation (Moodle's "Quiz statistics calculations"): x_ai is the mark of counted attempt a
on item i (maximum M_i), X_a = Σ_i x_ai the attempt's total, R_ai = X_a - x_ai the rest
score, s the number of counted attempts, p the number of items (slots). Sample statistics
divide by s - 1.

The test's items are its slots (CIC, effective-weight normaliser). Sections draw their
questions at random and may shuffle them, so a slot holds different questions in
different attempts; the per-item rows are therefore per question, computed over the
attempts that drew it, as Moodle does for a random slot's questions. Each row's `slot` is
the quiz section (1-based) the question is drawn into, which equals the slot when every
section draws one question and nothing is shuffled.

The database does the counting with a fixed number of GROUP BY queries whatever the class
size: it returns histograms, one row per (question, mark, attempt total), per (slot,
mark, total), per attempt total and per (question, option), never one row per response.
Marks and totals take few distinct values, so the histograms stay small (a few thousand
rows for 10,000 learners) and every statistic, including the sorted pairing behind the
discriminative efficiency's covmax, is exact when computed from them here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.cache import cached, quiz_fingerprint
from analytics.counted import POLICIES, counted_attempts_cte, query_rows
from assessments.models import Choice, Question, QuestionType, Quiz, Response

__all__ = ["POLICIES", "quiz_statistics", "test_statistics"]

LOW_EFFICIENCY = 15.0  # Moodle flags discriminative efficiency under 15 %
GUESSABLE = (QuestionType.SINGLE, QuestionType.TRUE_FALSE)


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


@dataclass(frozen=True)
class _Histogram:
    """Weighted observations of (mark x, attempt total X) for one question or slot."""

    x: np.ndarray
    total: np.ndarray
    count: np.ndarray
    max_mark: float

    @property
    def n(self) -> int:
        return int(self.count.sum())

    def mean(self, values: np.ndarray) -> float:
        return float(np.dot(self.count, values) / self.n)

    def centred_product(self, a: np.ndarray, b: np.ndarray) -> float:
        """Σ (a - ā)(b - b̄) over the observations."""
        return float(np.dot(self.count, (a - self.mean(a)) * (b - self.mean(b))))

    def sorted_pair_product(self) -> float:
        """Σ (x_(k) - x̄)(R_(k) - R̄) with x and R = X - x each sorted on its own."""
        rest = self.total - self.x
        xs = np.repeat(self.x, self.count)
        rs = np.repeat(rest, self.count)
        xs.sort()
        rs.sort()
        return float(np.dot(xs - xs.mean(), rs - rs.mean()))


def _histograms(rows: list[tuple[Any, ...]]) -> dict[int, _Histogram]:
    """Group rows of (key, x, X, count, max mark) into one histogram per key."""
    grouped: dict[int, list[tuple[float, float, int, float]]] = defaultdict(list)
    for key, x, total, count, maximum in rows:
        grouped[int(key)].append((float(x), float(total), int(count), float(maximum)))
    histograms = {}
    for key, values in grouped.items():
        data = np.array([v[:3] for v in values], dtype=np.float64)
        histograms[key] = _Histogram(
            x=data[:, 0],
            total=data[:, 1],
            count=data[:, 2].astype(np.int64),
            max_mark=max(v[3] for v in values),
        )
    return histograms


def _histogram_sql(counted: str) -> str:
    """One statement, one pass over the counted responses, four histograms tagged by kind:
    q (question, mark, total), s (slot, mark, total), o (question, option: count and sum
    of totals) and t (attempt totals)."""
    response = Response._meta.db_table
    selected = Response.selected_choices.through._meta.db_table
    return f"""{counted},
        scored AS MATERIALIZED (
            SELECT r.id, r.question_id, r.slot, r.mark, r.max_mark, c.score
              FROM {response} r JOIN counted c ON c.id = r.attempt_id
             WHERE r.max_mark > 0
        )
        SELECT 'q', question_id, mark, score, COUNT(*), MAX(max_mark)
          FROM scored GROUP BY question_id, mark, score
        UNION ALL
        SELECT 's', slot, mark, score, COUNT(*), MAX(max_mark)
          FROM scored GROUP BY slot, mark, score
        UNION ALL
        SELECT 'o', s.question_id, sc.choice_id, SUM(COALESCE(s.score, 0)), COUNT(*), 0
          FROM scored s JOIN {selected} sc ON sc.response_id = s.id
         GROUP BY s.question_id, sc.choice_id
        UNION ALL
        SELECT 't', 0, 0, score, COUNT(*), 0 FROM counted GROUP BY score"""


def _sections(quiz: Quiz) -> list[tuple[int, str, int]]:
    return list(quiz.sections.order_by("position", "id").values_list("bank_id", "form", "id"))


def _slot_of(question: Question, sections: list[tuple[int, str, int]]) -> int | None:
    """The 1-based position of the section that draws `question`."""
    for position, (bank, form, _) in enumerate(sections, start=1):
        if bank == question.bank_id and form in ("", question.form):
            return position
    return None


def quiz_statistics(*, quiz: Quiz, attempts: str = "first", fresh: bool = False) -> dict[str, Any]:
    """The statistics page's and API's data for `quiz`, counting attempts by `attempts`:
    from the cache while the quiz's attempts are unchanged, unless `fresh`."""
    if fresh:
        return _quiz_statistics(quiz, attempts)
    return cached(
        f"statistics:{quiz.id}:{attempts}",
        quiz_fingerprint(quiz),
        lambda: _quiz_statistics(quiz, attempts),
    )


def _quiz_statistics(quiz: Quiz, attempts: str) -> dict[str, Any]:
    counted, params = counted_attempts_cte(
        course_id=quiz.course_id, quiz_id=quiz.id, policy=attempts
    )
    by_kind: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for kind, key, level, value, count, maximum in query_rows(_histogram_sql(counted), params):
        by_kind[kind].append((key, level, value, count, maximum))
    per_question = _histograms(
        [(key, mark or 0, total or 0, count, m) for key, mark, total, count, m in by_kind["q"]]
    )
    per_slot = _histograms(
        [(key, mark or 0, total or 0, count, m) for key, mark, total, count, m in by_kind["s"]]
    )
    chosen = {
        (int(question), int(choice)): (int(count), float(total_sum))
        for question, choice, total_sum, count, _ in by_kind["o"]
    }
    if by_kind["t"]:
        values = np.array([float(row[2] or 0) for row in by_kind["t"]])
        counts = np.array([int(row[3]) for row in by_kind["t"]])
        totals = np.repeat(values, counts)
    else:
        totals = np.zeros(0)
    questions = {q.id: q for q in Question.objects.filter(id__in=list(per_question))}
    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in (
        Choice.objects.filter(question_id__in=list(per_question))
        .prefetch_related("misconceptions")
        .order_by("question_id", "tier", "position", "id")
    ):
        choices[choice.question_id].append(choice)
    sections = _sections(quiz)

    max_total = sum(h.max_mark for h in per_slot.values())
    slot_variances = [h.centred_product(h.x, h.x) / (h.n - 1) for h in per_slot.values() if h.n > 1]
    slot_covariances = [
        h.centred_product(h.x, h.total) / (h.n - 1) for h in per_slot.values() if h.n > 1
    ]
    root_sum = sum(math.sqrt(c) for c in slot_covariances if c >= 0)
    items = []
    for question_id, h in per_question.items():
        question = questions[question_id]
        items.append(
            _item(question, h, choices.get(question_id, []), chosen, max_total, root_sum, sections)
        )
    items.sort(key=lambda item: (item["slot"] or 0, item["question_slug"]))
    return {
        "quiz": quiz.id,
        "attempts_policy": attempts,
        "attempts_counted": int(totals.size),
        "items_count": len(per_slot),
        "test": test_statistics(totals, max_total, slot_variances),
        "items": items,
    }


def _item(
    question: Question,
    h: _Histogram,
    options: list[Choice],
    chosen: dict[tuple[int, int], tuple[int, float]],
    max_total: float,
    root_sum: float,
    sections: list[tuple[int, str, int]],
) -> dict[str, Any]:
    """One question's row: Moodle's item statistics from its (x, X) histogram."""
    n, m = h.n, h.max_mark
    rest = h.total - h.x
    sxx = h.centred_product(h.x, h.x)
    srr = h.centred_product(rest, rest)
    sxr = h.centred_product(h.x, rest)
    sxt = h.centred_product(h.x, h.total)
    stt = h.centred_product(h.total, h.total)
    sd = math.sqrt(sxx / (n - 1)) if n > 1 else None
    corr = _ratio(sxr, math.sqrt(sxx * srr)) if sxx > 0 and srr > 0 else None
    sxr_max = h.sorted_pair_product()
    efficiency = _ratio(sxr, sxr_max) if sxr_max > 0 else None
    covariance = sxt / (n - 1) if n > 1 else None
    effective = (
        _ratio(math.sqrt(covariance), root_sum)
        if covariance is not None and covariance >= 0
        else None
    )
    flags = []
    if corr is not None and corr < 0:
        flags.append("negative_discrimination")
    if efficiency is not None and 100 * efficiency < LOW_EFFICIENCY:
        flags.append("low_discriminative_efficiency")
    if covariance is not None and covariance < 0:
        flags.append("negative_covariance")
    mean_t = h.mean(h.total)
    return {
        "question": question.id,
        "question_slug": question.slug,
        "stem": question.stem[:200],
        "qtype": question.qtype,
        "slot": _slot_of(question, sections),
        "attempts": n,
        "max_mark": m,
        "facility": _pct(h.mean(h.x) / m if m else None),
        "sd": _pct(sd / m if sd is not None and m else None),
        "random_guess_score": _pct(_random_guess(question, options)),
        "intended_weight": _pct(m / max_total if max_total else None),
        "effective_weight": _pct(effective),
        "discrimination_index": _pct(corr),
        "discriminative_efficiency": _pct(efficiency),
        "flags": flags,
        "options": [
            _option(c, *chosen.get((question.id, c.id), (0, 0.0)), n=n, mean_t=mean_t, stt=stt)
            for c in options
        ],
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
