"""What one learner's counted attempts contribute to the analytics: the one place that
turns raw rows into aggregate counts, for the incremental path (a submit, re-score or
deletion: the learner's counts after minus before) and the rebuild (the sum over learners).

Every analytics result is a function of a multiset of keys summed over learners: the
statistics' histograms per quiz (QuizCount: kind, policy mask, keys, marks and totals) and
the heatmap's and gain's counters per course (CourseCount: scope, kind, keys). What is not
additive over attempts (a learner holds a misconception when their answers across quizzes
say so; a learner counts once per question and misconception; the gain pairs a learner's
pre- and post-test) is additive over learners, so each learner's whole contribution is
recomputed from their own rows, which are few.

Which attempts count follows analytics/counted.py: submitted, not previews, not by the
course's instructors; per learner and quiz the first (lowest number), last, highest graded
(best fraction, ties to the earlier) or all. The heatmap counts enrolled learners' last
attempts, the gain their first attempts at the course's first pre- and post-test. Marks
and totals are in units of 1/10,000 (UNIT), exact integers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db import connection

from assessments.diagnosis import CRI_THRESHOLD
from assessments.models import Attempt, Question, Quiz, Response
from courses.models import Course, Enrollment

UNIT = 10_000
FIRST, LAST, HIGHEST, ALL = 1, 2, 4, 8
POLICY_BITS = {"first": FIRST, "last": LAST, "highest": HIGHEST, "all": ALL}
NO_SLOT = -1  # a response saved before slots were recorded
COURSE_WIDE = 0  # CourseCount.scope of counts over all the course's quizzes
CHECKSUMS = ("N", "I", "Z")  # counted attempts: how many, Σ ids, Σ scores

QuizKey = tuple[str, int, int, int, int, int, int, int]  # kind, mask, a, b, marks and totals
CourseKey = tuple[int, str, int, int]  # scope, kind, a, b


@dataclass(frozen=True)
class AttemptRow:
    id: int
    learner: int
    quiz: int
    number: int
    score: int
    maximum: int


@dataclass(frozen=True)
class ResponseRow:
    id: int
    question: int
    slot: int | None
    mark: int
    max_mark: int
    is_correct: bool | None
    confidence: int | None


@dataclass
class ClassRows:
    """The raw rows of some learners in one course (or one quiz without a course)."""

    attempts: dict[int, list[AttemptRow]] = field(default_factory=lambda: defaultdict(list))
    responses: dict[int, list[ResponseRow]] = field(default_factory=lambda: defaultdict(list))
    chosen: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    revealed: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    probes: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    enrolled: set[int] = field(default_factory=set)
    instructors: set[int] = field(default_factory=set)
    pre: int = 0
    post: int = 0

    def counted(self, learner: int, *, exclude: Iterable[int] = ()) -> list[AttemptRow]:
        """The learner's attempts that count (all policies), without `exclude`."""
        if learner in self.instructors:
            return []
        left_out = set(exclude)
        return [a for a in self.attempts.get(learner, []) if a.id not in left_out]


def _units(column: str) -> str:
    return f"CAST(ROUND(COALESCE({column}, 0) * {UNIT}) AS BIGINT)"


def class_rows(
    *, course_id: int | None, quiz_id: int | None, learners: list[int] | None
) -> ClassRows:
    """Read the submitted, non-preview attempts of `learners` (None: everyone) at the quiz
    (None: at every quiz of the course), with what counting needs; with a course, also its
    enrolled learners, instructors, pre- and post-test."""
    if learners == []:
        return ClassRows()
    attempt, quiz, response = (m._meta.db_table for m in (Attempt, Quiz, Response))
    selected = Response.selected_choices.through._meta.db_table
    revealed = Response.misconceptions.through._meta.db_table
    probes = Question.probes.through._meta.db_table
    where = "a.state = %s AND a.is_preview = FALSE AND "
    params: list[Any] = [Attempt.State.SUBMITTED]
    if quiz_id is not None:
        where += "a.quiz_id = %s"
        params.append(quiz_id)
    else:
        where += "q.course_id = %s"
        params.append(course_id)
    if learners is not None:
        where += f" AND a.learner_id IN ({', '.join(['%s'] * len(learners))})"
        params.extend(learners)
    upward = f"JOIN {attempt} a ON a.id = r.attempt_id JOIN {quiz} q ON q.id = a.quiz_id"
    rows = ClassRows()
    people, people_params = _people(course_id, learners)
    # Table names come from models, values are parameters.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.id, a.learner_id, a.quiz_id, a.number, {_units("a.score")},
                       {_units("a.max_score")}, r.id, r.question_id, r.structural_slot,
                       {_units("r.mark")}, {_units("r.max_mark")}, r.is_correct, r.confidence
                  FROM {attempt} a JOIN {quiz} q ON q.id = a.quiz_id
                  LEFT JOIN {response} r ON r.attempt_id = a.id
                 WHERE {where}
                 ORDER BY a.learner_id, a.number, a.id, r.id""",  # noqa: S608
            params,
        )
        last = None
        for a_id, learner, quiz_of, number, score, maximum, r_id, *answer in cursor.fetchall():
            if a_id != last:
                rows.attempts[learner].append(
                    AttemptRow(a_id, learner, quiz_of, number, int(score), int(maximum))
                )
                last = a_id
            if r_id is not None:
                question, slot, mark, max_mark, is_correct, confidence = answer
                rows.responses[a_id].append(
                    ResponseRow(
                        r_id,
                        question,
                        slot,
                        int(mark),
                        int(max_mark),
                        None if is_correct is None else bool(is_correct),
                        confidence,
                    )
                )
        cursor.execute(
            f"""SELECT 'c', sc.response_id, sc.choice_id
                  FROM {selected} sc JOIN {response} r ON r.id = sc.response_id {upward}
                 WHERE {where}
                UNION ALL
                SELECT 'm', rm.response_id, rm.misconception_id
                  FROM {revealed} rm JOIN {response} r ON r.id = rm.response_id {upward}
                 WHERE {where}
                UNION ALL
                SELECT 'p', qp.question_id, qp.misconception_id FROM {probes} qp
                 WHERE qp.question_id IN (
                       SELECT r.question_id FROM {response} r {upward} WHERE {where})
                {people}""",  # noqa: S608
            params * 3 + people_params,
        )
        links = {"c": rows.chosen, "m": rows.revealed, "p": rows.probes}
        for kind, owner, linked in cursor.fetchall():
            if kind in links:
                links[kind][owner].append(linked)
            elif kind == "e":
                rows.enrolled.add(owner)
            elif kind == "i":
                rows.instructors.add(owner)
            elif owner is not None:
                setattr(rows, kind, int(owner))
    return rows


def _people(course_id: int | None, learners: list[int] | None) -> tuple[str, list[Any]]:
    """The course's enrolled `learners`, instructors, pre- and post-test as rows of the
    links' query (one statement less on each submit's path)."""
    if course_id is None:
        return "", []
    enrollment, quiz = Enrollment._meta.db_table, Quiz._meta.db_table
    instructors = Course.instructors.through._meta.db_table
    only = "" if learners is None else f" AND learner_id IN ({', '.join(['%s'] * len(learners))})"
    return (
        f"""UNION ALL SELECT 'e', learner_id, 0 FROM {enrollment} WHERE course_id = %s{only}
            UNION ALL SELECT 'i', user_id, 0 FROM {instructors} WHERE course_id = %s
            UNION ALL SELECT 'pre', MIN(id), 0 FROM {quiz} WHERE course_id = %s AND role = %s
            UNION ALL SELECT 'post', MIN(id), 0 FROM {quiz} WHERE course_id = %s AND role = %s""",  # noqa: S608
        [
            course_id,
            *(learners or []),
            course_id,
            course_id,
            Quiz.Role.PRE,
            course_id,
            Quiz.Role.POST,
        ],
    )


def statistics_counts(attempts: list[AttemptRow], rows: ClassRows) -> Counter[QuizKey]:
    """What one learner's counted attempts at one quiz add to its statistics' counts, each
    under the mask of policies counting the attempt:
    - per scored response, the moments of (question, structural slot or NO_SLOT, max mark,
      attempt maximum): q how many, Q Σ mark, u Σ mark², p Σ total, P Σ total², y Σ
      mark·total; every statistic of a question or a slot but one is a function of them;
    - X (question, mark, maximum) and R (question, total - mark, maximum): the
      distributions of the item's mark and of the rest of the test, which, each sorted,
      give the discriminative efficiency's covmax;
    - o (question, option, maximum: how many chose it) and O (the same: Σ of their totals),
      t (total, maximum), n (attempts), and the checksums i (Σ ids) and z (Σ scores)."""
    counts: Counter[QuizKey] = Counter()
    if not attempts:
        return counts
    first = min(attempts, key=lambda a: a.number)
    last = max(attempts, key=lambda a: a.number)
    highest = min(
        attempts,
        key=lambda a: (-Fraction(a.score, a.maximum) if a.maximum > 0 else 0, a.number),
    )
    for attempt in attempts:
        mask = ALL | FIRST * (attempt is first) | LAST * (attempt is last)
        mask |= HIGHEST * (attempt is highest)
        total, maximum = attempt.score, attempt.maximum
        counts[("n", mask, 0, 0, 0, 0, 0, 0)] += 1
        counts[("i", mask, 0, 0, 0, 0, 0, 0)] += attempt.id
        counts[("z", mask, 0, 0, 0, 0, 0, 0)] += total
        if maximum > 0:
            counts[("t", mask, 0, 0, 0, 0, total, maximum)] += 1
        for r in rows.responses.get(attempt.id, []):
            if r.max_mark <= 0:  # not an item (Moodle's significant questions)
                continue
            slot = NO_SLOT if r.slot is None else r.slot
            moments = (mask, r.question, slot, 0, r.max_mark, 0, maximum)
            counts[("q", *moments)] += 1
            counts[("Q", *moments)] += r.mark
            counts[("u", *moments)] += r.mark * r.mark
            counts[("p", *moments)] += total
            counts[("P", *moments)] += total * total
            counts[("y", *moments)] += r.mark * total
            counts[("X", mask, r.question, 0, r.mark, 0, 0, maximum)] += 1
            counts[("R", mask, r.question, 0, 0, 0, total - r.mark, maximum)] += 1
            for choice in rows.chosen.get(r.id, []):
                counts[("o", mask, r.question, choice, 0, 0, 0, maximum)] += 1
                counts[("O", mask, r.question, choice, 0, 0, 0, maximum)] += total
    return counts


@dataclass
class Tally:
    """One learner's evidence on one misconception (assessments.diagnosis's inputs)."""

    wrong: int = 0
    wrong_confidence: int = 0
    right: int = 0
    right_confidence: int = 0
    sure_wrong: int = 0
    sure_right: int = 0

    @property
    def held(self) -> bool:
        """In the "misconception" quadrant (assessments.diagnosis.quadrant_from_tally)."""
        return self.wrong > 0 and self.sure_wrong > self.sure_right


def tallies(responses: Iterable[ResponseRow], rows: ClassRows) -> dict[int, Tally]:
    """Evidence by misconception id: a right, rated answer counts for every misconception
    its question probes, a wrong, rated answer against those it revealed."""
    found: dict[int, Tally] = defaultdict(Tally)
    for r in responses:
        if r.is_correct is None or r.confidence is None:
            continue
        sure = r.confidence > CRI_THRESHOLD
        if r.is_correct:
            for code in rows.probes.get(r.question, []):
                tally = found[code]
                tally.right += 1
                tally.right_confidence += r.confidence
                tally.sure_right += sure
        else:
            for code in rows.revealed.get(r.id, []):
                tally = found[code]
                tally.wrong += 1
                tally.wrong_confidence += r.confidence
                tally.sure_wrong += sure
    return found


def _by_quiz(attempts: list[AttemptRow], pick: str) -> dict[int, AttemptRow]:
    chosen: dict[int, AttemptRow] = {}
    for attempt in attempts:
        held = chosen.get(attempt.quiz)
        if (
            held is None
            or (pick == "last" and attempt.number > held.number)
            or (pick == "first" and attempt.number < held.number)
        ):
            chosen[attempt.quiz] = attempt
    return chosen


def heatmap_responses(
    learner: int, rows: ClassRows, *, scope: int, exclude: Iterable[int] = ()
) -> list[ResponseRow]:
    """The responses of an enrolled learner's last counted attempt at each of the course's
    quizzes (scope COURSE_WIDE) or at the quiz `scope`."""
    if learner not in rows.enrolled:
        return []
    last = _by_quiz(rows.counted(learner, exclude=exclude), "last")
    return [
        r
        for quiz, attempt in sorted(last.items())
        if scope in (COURSE_WIDE, quiz)
        for r in rows.responses.get(attempt.id, [])
    ]


def evidence_counts(
    learner: int, rows: ClassRows, *, exclude: Iterable[int] = ()
) -> Counter[CourseKey]:
    """What one learner adds to the course's counters: per scope (the whole course and each
    quiz) e/h/k (learners with evidence on, holding, confidently holding a misconception),
    qn/qc (answered, and their confidence, by question and right or wrong) and x (learners
    with a wrong answer to a question revealing a misconception); for the gain, when the
    learner finished both tests, gp/gq (their pre/post total and maximum) and gb/ga (the
    misconceptions they held before and after); and the checksums N, I, Z."""
    counts: Counter[CourseKey] = Counter()
    if learner not in rows.enrolled:
        return counts
    attempts = rows.counted(learner, exclude=exclude)
    for attempt in attempts:
        counts[(COURSE_WIDE, "N", 0, 0)] += 1
        counts[(COURSE_WIDE, "I", 0, 0)] += attempt.id
        counts[(COURSE_WIDE, "Z", 0, 0)] += attempt.score
    last = _by_quiz(attempts, "last")
    for scope in (COURSE_WIDE, *sorted(last)):
        responses = heatmap_responses(learner, rows, scope=scope, exclude=exclude)
        pairs: set[tuple[int, int]] = set()
        for r in responses:
            if r.is_correct is None or r.confidence is None:
                continue
            counts[(scope, "qn", r.question, int(r.is_correct))] += 1
            counts[(scope, "qc", r.question, int(r.is_correct))] += r.confidence
            if not r.is_correct:
                pairs.update((r.question, code) for code in rows.revealed.get(r.id, []))
        for code, tally in tallies(responses, rows).items():
            counts[(scope, "e", code, 0)] += 1
            counts[(scope, "h", code, 0)] += tally.wrong > 0
            counts[(scope, "k", code, 0)] += tally.held
        for question, code in pairs:
            counts[(scope, "x", question, code)] += 1
    first = _by_quiz(attempts, "first")
    pre, post = first.get(rows.pre), first.get(rows.post)
    if pre and post and pre.maximum > 0 and post.maximum > 0 and rows.pre != rows.post:
        for attempt, total, held in ((pre, "gp", "gb"), (post, "gq", "ga")):
            counts[(COURSE_WIDE, total, attempt.score, attempt.maximum)] += 1
            for code, tally in tallies(rows.responses.get(attempt.id, []), rows).items():
                counts[(COURSE_WIDE, held, code, 0)] += tally.wrong > 0
    return counts


def counts_difference(after: Counter[Any], before: Counter[Any]) -> dict[Any, int]:
    """after - before, keeping negative counts and leaving out zeros."""
    keys = set(after) | set(before)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in keys}
    return {key: n for key, n in delta.items() if n}
