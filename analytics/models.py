"""The analytics' aggregates: sums over learners of what each learner's counted attempts
contribute (analytics/contributions.py), kept by analytics/aggregates.py.

Each row is one key of a multiset with its count `n`. Marks and totals are keys in units
of 1/10,000 (the attempts' and responses' four decimal places), so sums and equality are
exact on any database; rows whose count returned to 0 stay until the next rebuild and are
skipped by the readers.

A key shared by many learners is kept in STRIPES rows (`stripe`: the changed learner's id
modulo STRIPES; a rebuild writes stripe 0), and readers sum them. Every submit adds to keys
every other submit at the same quiz adds to (its checksums, the options chosen, the
moments of the questions answered): in one row, a class submitting together queued on
that row's lock until each transaction committed. The rest-of-test distribution (kind R)
is fine-grained, so rarely contended, and the largest part of a read: it stays in stripe 0.

Sums beside a count: a sum kind's value is stored in a value column of its count kind's
row with the same key (FOLDED), one row per key instead of one per sum.
"""

from __future__ import annotations

from django.db import models

STRIPES = 16
UNSTRIPED_KINDS = frozenset({"R"})
# Sum kind: (count kind, value column). A statistics moment row q (question, slot, max
# mark, attempt maximum) holds how many responses (n), Σ mark (m), Σ mark² (m2), Σ attempt
# total (m3), Σ total² (m4) and Σ mark·total (m5), marks and totals in units.
FOLDED = {
    "O": ("o", "m"),
    "qc": ("qn", "m"),
    "Q": ("q", "m"),
    "u": ("q", "m2"),
    "p": ("q", "m3"),
    "P": ("q", "m4"),
    "y": ("q", "m5"),
}
QUIZ_VALUES = ("n", "m", "m2", "m3", "m4", "m5")
COURSE_VALUES = ("n", "m")


class QuizCount(models.Model):
    """A statistics histogram cell of one quiz: attempts counted under the policies in
    `mask` (first 1, last 2, highest 4, all 8) with this kind and key."""

    quiz = models.ForeignKey("assessments.Quiz", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=1)
    mask = models.PositiveSmallIntegerField()
    a = models.BigIntegerField()
    b = models.BigIntegerField()
    mark = models.BigIntegerField()
    max_mark = models.BigIntegerField()
    total = models.BigIntegerField()
    maximum = models.BigIntegerField()
    n = models.BigIntegerField()
    # Sums folded beside a count kind's n (FOLDED).
    m = models.BigIntegerField(default=0)
    m2 = models.BigIntegerField(default=0)
    m3 = models.BigIntegerField(default=0)
    m4 = models.BigIntegerField(default=0)
    m5 = models.BigIntegerField(default=0)
    stripe = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "quiz",
                    "kind",
                    "mask",
                    "a",
                    "b",
                    "mark",
                    "max_mark",
                    "total",
                    "maximum",
                    "stripe",
                ],
                name="quizcount_key",
            )
        ]

    def __str__(self) -> str:
        return f"quiz {self.quiz_id} {self.kind}{self.mask} {self.a},{self.b}: {self.n}"


class CourseCount(models.Model):
    """A heatmap or gain counter of one course: over all its quizzes (`scope` 0) or one."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    scope = models.BigIntegerField()
    kind = models.CharField(max_length=2)
    a = models.BigIntegerField()
    b = models.BigIntegerField()
    n = models.BigIntegerField()
    # Beside a question's answer count qn, the Σ of their confidence (kind qc, folded in).
    m = models.BigIntegerField(default=0)
    stripe = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "scope", "kind", "a", "b", "stripe"], name="coursecount_key"
            )
        ]

    def __str__(self) -> str:
        return f"course {self.course_id} {self.scope} {self.kind} {self.a},{self.b}: {self.n}"


class PendingContribution(models.Model):
    """A submitted attempt whose learner's contribution the counts do not hold yet: written
    in the submit's transaction, applied by a Celery worker (or by the first read or change
    of that learner's counts that finds it), so the submit's request does not pay for it."""

    attempt = models.OneToOneField(
        "assessments.Attempt", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    learner = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} of learner {self.learner_id}, not counted yet"
