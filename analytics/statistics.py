"""Quiz and item statistics with Moodle's definitions, aggregated in the database.

Notation (Moodle's "Quiz statistics calculations"): s counted attempts; x_ai the mark of
attempt a on item i (maximum M_i); X_a = Σ_i x_ai the attempt's total out of its maximum
M_a; R_ai = X_a - x_ai the rest of the test; p the number of items. Sample statistics
divide by s - 1.

Items. The items are the quiz's structural slots (`Response.structural_slot`: sections in
order, draws within a section in draw order), never the display positions: shuffling the
display does not change which slot a question belongs to (Moodle keys every statistic by
slot). A slot that carries no marks (max mark 0, as the explain-back item) is not an item,
as Moodle's report counts only real questions (quiz_report_get_significant_questions): it
is in neither p, CIC, the weights nor the totals. Sections draw at random, so a slot holds
different questions in different attempts; the per-item rows are per question, over the
attempts that drew it, as Moodle does for a random slot's questions. A row's `slots` are
the structural slots the question filled (Moodle's "positions"), `slot` the first of them.
CIC and the effective-weight normaliser are over the slots, each over every counted
attempt (x = 0 where the slot carried no marks in that attempt).

Scale. An attempt's total X_a is its `score` (the sum of its marks) out of M_a, its
`max_score` (the sum of its scored questions' marks: the "out of" on the learner's page).
The test statistics describe the percentages P_a = 100 X_a / M_a, and item marks enter as
shares of the same maximum, x'_ai = 100 x_ai / M_a, so that Σ_i x'_ai = P_a. When the
counted attempts share one maximum this is exactly Moodle's 100 stat(X) / quiz sumgrades.
Moodle keeps one maximum by rewriting past attempts when a slot's mark changes
(question_engine::set_max_mark_in_attempts); this service never regrades a submitted
attempt (the learner's and the LMS's grades stay), so when maxima differ (a mark changed,
or a section draws questions of different marks) each attempt counts on the maximum it
was graded out of, and `notes` says so.

The counting is done before a page asks: analytics/aggregates.py keeps, per quiz and under
the mask of the policies counting each attempt, the moments of each (question, slot, max
mark, attempt maximum) (how many responses, Σ mark, Σ mark², Σ total, Σ total², Σ
mark·total, in integer units), the joint distribution of each question's mark and rest
of the test, the attempts' (total, maximum) and the options' choosers, never one row per
response. A question's moments sum its slots', a slot's its questions'; every mean,
variance, covariance and correlation is computed from exact fractions of them
(analytics/item_moments.py), and the discriminative efficiency's covmax by pairing the
two marginals of the distribution, each sorted. The same counts summed from the raw rows
(`from_raw`) give the same result.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from analytics.aggregate_reads import quiz_counts
from analytics.cache import cached, quiz_fingerprint
from analytics.contributions import NO_SLOT, POLICY_BITS, UNIT
from analytics.counted import POLICIES
from analytics.item_moments import Moments, attempt_moments, moments_of, sorted_pair_product
from assessments.models import Choice, Question, QuestionType, Quiz

__all__ = ["POLICIES", "quiz_statistics", "test_statistics"]

LOW_EFFICIENCY = 15.0  # Moodle flags discriminative efficiency under 15 %
GUESSABLE = (QuestionType.SINGLE, QuestionType.TRUE_FALSE)
# Part of the cache key: a change of definitions must not serve results computed before it.
DEFINITIONS = "structural-slots-1"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _pct(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else 100.0 * value


def test_statistics(percentages: np.ndarray, item_variances: list[float]) -> dict[str, Any]:
    """Moodle's test statistics of the attempts' percentages P_a.

    Skewness and kurtosis are Moodle's k-statistic ratios k3/k2^1.5 and k4/k2²; CIC is
    Cronbach's alpha (KR-20 on 0/1 items) on the p items' sample variances, which must be
    on the scale of the percentages (x'_ai, summing to P_a)."""
    s = int(percentages.size)
    p = len(item_variances)
    notes: dict[str, str] = {}
    result: dict[str, Any] = dict.fromkeys(
        ("mean", "median", "sd", "skewness", "kurtosis", "cic", "error_ratio", "standard_error")
    )
    if s == 0:
        notes["all"] = "No finished attempt counts yet."
        return {**result, "notes": notes}
    mean = float(percentages.mean())
    result["mean"] = mean
    result["median"] = float(np.median(percentages))
    if s < 2:
        notes["sd"] = "The standard deviation needs at least 2 counted attempts."
    else:
        d = percentages - mean
        power2, power3, power4 = (float(np.sum(d**k)) for k in (2, 3, 4))
        sd = math.sqrt(power2 / (s - 1))
        result["sd"] = sd
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
                    result["standard_error"] = error_ratio / 100.0 * sd
            else:
                notes["cic"] = "CIC needs more than one item."
    return {**result, "notes": notes}


def quiz_statistics(
    *, quiz: Quiz, attempts: str = "first", fresh: bool = False, from_raw: bool = False
) -> dict[str, Any]:
    """The statistics page's and API's data for `quiz`, counting attempts by `attempts`:
    from the cache while the quiz's attempts are unchanged, unless `fresh`; from the
    aggregates (analytics/aggregates.py), or from the raw rows when `from_raw`."""
    if attempts not in POLICIES:
        raise ValueError(f"attempts must be one of {', '.join(POLICIES)}")
    if fresh or from_raw:
        return _quiz_statistics(quiz, attempts, from_raw=from_raw)
    return cached(
        f"statistics:{DEFINITIONS}:{quiz.id}:{attempts}",
        quiz_fingerprint(quiz),
        lambda: _quiz_statistics(quiz, attempts, from_raw=False),
    )


def _quiz_statistics(quiz: Quiz, attempts: str, *, from_raw: bool) -> dict[str, Any]:
    by_kind: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in quiz_counts(quiz=quiz, bit=POLICY_BITS[attempts], from_raw=from_raw):
        by_kind[row[0]].append(row)
    # Per (question, slot, max mark, maximum): n and the sums of marks, totals, squares and
    # products, added up as integers per question and per slot before any fraction.
    question_sums: dict[tuple[int, int, int], list[int]] = {}
    slot_sums: dict[tuple[int, int, int], list[int]] = {}
    positions: dict[int, dict[int | None, int]] = defaultdict(dict)
    for _, question, slot, _, max_mark, _, maximum, *sums in by_kind["q"]:
        placed = None if slot == NO_SLOT else slot
        positions[question][placed] = positions[question].get(placed, 0) + sums[0]
        targets = [question_sums.setdefault((question, max_mark, maximum), [0] * len(sums))]
        if placed is not None:
            targets.append(slot_sums.setdefault((placed, max_mark, maximum), [0] * len(sums)))
        for target in targets:
            for index, value in enumerate(sums):
                target[index] += value
    per_question = _moments_by_key(question_sums)
    per_slot = _moments_by_key(slot_sums)
    marks: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for _, question, _, mark, _, _, maximum, n, *_ in by_kind["X"]:
        marks[question].append((mark, maximum, n))
    rests = _rests_by_question(by_kind["R"])
    chosen: dict[tuple[int, int], tuple[int, float]] = {}
    for _, question, choice, *_, maximum, count, total_sum, _, _, _, _ in sorted(by_kind["o"]):
        seen, percentage_sum = chosen.get((question, choice), (0, 0.0))
        chosen[(question, choice)] = (
            seen + count,
            percentage_sum + 100.0 * (total_sum / UNIT) / (maximum / UNIT),
        )
    attempt_totals: Counter[tuple[int, int]] = Counter()
    for *_, total, maximum, count, _, _, _, _, _ in by_kind["t"]:
        attempt_totals[(total, maximum)] += count
    keys = sorted(attempt_totals)
    percentages = np.repeat(
        [100.0 * (total / UNIT) / (maximum / UNIT) for total, maximum in keys],
        [attempt_totals[k] for k in keys],
    ).astype(np.float64)
    counted_total = sum(row[7] for row in by_kind["n"])

    questions = {q.id: q for q in Question.objects.filter(id__in=list(per_question))}
    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in (
        Choice.objects.filter(question_id__in=list(per_question))
        .prefetch_related("misconceptions")
        .order_by("question_id", "tier", "position", "id")
    ):
        choices[choice.question_id].append(choice)

    every_attempt = attempt_moments(attempt_totals)
    slots = [per_slot[slot].padded(every_attempt) for slot in sorted(per_slot)]
    item_variances = [h.centred(h.xx, h.x, h.x) / (h.n - 1) for h in slots if h.n > 1]
    covariances = [h.centred(h.xp, h.x, h.p) / (h.n - 1) for h in slots if h.n > 1]
    root_sum = sum(math.sqrt(c) for c in covariances if c >= 0)
    items = [
        _item(
            questions[question_id],
            h,
            marks[question_id],
            rests.get(question_id, np.empty((0, 3), dtype=np.int64)),
            positions[question_id],
            choices.get(question_id, []),
            chosen,
            root_sum,
        )
        for question_id, h in per_question.items()
    ]
    items.sort(key=lambda item: (item["slot"] or 0, item["question_slug"]))
    test = test_statistics(percentages, item_variances)
    maxima = sorted({maximum / UNIT for _, maximum in attempt_totals})
    if len(maxima) > 1:
        test["notes"]["maximum"] = (
            "The counted attempts are out of different maxima ("
            + ", ".join(f"{m:g}" for m in maxima)
            + "): each counts as a percentage of the maximum it was graded out of."
        )
    if percentages.size == 0 and counted_total:
        test["notes"]["all"] = (
            "The counted attempts carry no marks: no question of this quiz is scored."
        )
    unplaced = sum(p.get(None, 0) for p in positions.values())
    if unplaced:
        test["notes"]["slots"] = (
            f"{unplaced} scored response(s) fill no slot of the quiz's structure (saved "
            "before slots were recorded, and no longer placeable): they count in the totals "
            "and in their questions' rows, not in CIC or the effective weights."
        )
    return {
        "quiz": quiz.id,
        "attempts_policy": attempts,
        "attempts_counted": int(percentages.size),
        "items_count": len(slots),
        "max_mark": maxima[0] if len(maxima) == 1 else None,
        "test": test,
        "items": items,
    }


def _rests_by_question(rows: list[tuple[Any, ...]]) -> dict[int, np.ndarray]:
    """{question: rows of (rest, maximum, count)} from the R rows: most of a read's rows,
    split by numpy rather than one by one."""
    if not rows:
        return {}
    data = np.array([(r[1], r[5], r[6], r[7]) for r in rows], dtype=np.int64)
    data = data[np.argsort(data[:, 0], kind="stable")]
    starts = np.flatnonzero(np.diff(data[:, 0], prepend=-1))
    return {int(part[0, 0]): part[:, 1:] for part in np.split(data, starts[1:]) if len(part)}


def _moments_by_key(sums: dict[tuple[int, int, int], list[int]]) -> dict[int, Moments]:
    """{question or slot: its moments} from the integer sums of each (key, max mark,
    maximum), added in key order (fractions: the order changes nothing but the time)."""
    moments: dict[int, Moments] = defaultdict(Moments)
    for (key, max_mark, maximum), values in sorted(sums.items()):
        moments[key] += moments_of(*values, max_mark=max_mark, maximum=maximum)
    return moments


def _item(
    question: Question,
    h: Moments,
    marks: list[tuple[int, int, int]],
    rests: np.ndarray,
    positions: dict[int | None, int],
    options: list[Choice],
    chosen: dict[tuple[int, int], tuple[int, float]],
    root_sum: float,
) -> dict[str, Any]:
    """One question's row: Moodle's item statistics from its moments and its distributions
    of marks and of the rest of the test."""
    n = h.n
    sxx = h.centred(h.xx, h.x, h.x)
    srr = h.centred(h.rr, h.r, h.r)
    sxr = h.centred(h.xr, h.x, h.r)
    sxt = h.centred(h.xp, h.x, h.p)
    stt = h.centred(h.pp, h.p, h.p)
    sff = h.centred(h.ff, h.f, h.f)
    sd = math.sqrt(sff / (n - 1)) if n > 1 else None
    corr = _ratio(sxr, math.sqrt(sxx * srr)) if sxx > 0 and srr > 0 else None
    sxr_max = sorted_pair_product(marks, rests, h)
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
    mean_t = h.mean(h.p)
    placed = sorted(slot for slot in positions if slot is not None)
    return {
        "question": question.id,
        "question_slug": question.slug,
        "stem": question.stem[:200],
        "qtype": question.qtype,
        "slot": placed[0] if placed else None,
        "slots": placed,
        "attempts": n,
        "max_mark": h.max_mark / UNIT,
        "facility": _pct(h.mean(h.f)),
        "sd": _pct(sd),
        "random_guess_score": _pct(_random_guess(question, options)),
        "intended_weight": h.mean(h.weight),
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
    """One option's count and point-biserial correlation with the attempt's percentage P.

    r_pb = cov(d, P) / (sd(d) sd(P)) for the indicator d of choosing the option, from the
    count n1 and the choosers' Σ P: cov = (Σ_chosen P - n1 P̄)/(n-1),
    var(d) = n1 (n - n1) / (n (n - 1)), var(P) = Σ (P - P̄)² / (n - 1)."""
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
