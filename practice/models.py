"""Guided practice: sessions of items chosen one at a time, and each learner's mastery.

A session asks one step at a time; every answer updates the learner's mastery of the
misconceptions the item probes (Bayesian Knowledge Tracing), and the next step is chosen
from that state (`practice.policy`). Mastery belongs to the learner and the course, not to
a session, so progress is kept across visits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from assessments.models import (
    Answer,
    Choice,
    Misconception,
    Question,
    QuestionType,
    confidence_check,
)
from courses.models import Course


def _probability(name: str) -> Q:
    return Q(**{f"{name}__gte": 0}) & Q(**{f"{name}__lte": 1})


class BktParameters(models.Model):
    """BKT parameters of one misconception, fitted on one course's data (or on all)."""

    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="bkt_parameters",
        help_text="Empty: fitted on every course, used where a course has no fit of its own.",
    )
    misconception = models.ForeignKey(
        Misconception, on_delete=models.CASCADE, related_name="bkt_parameters"
    )
    prior = models.FloatField(help_text="P(L0): the chance a learner starts out knowing it.")
    learn = models.FloatField(help_text="P(T): the chance of learning it at one opportunity.")
    guess = models.FloatField(help_text="P(G): the chance of a right answer without knowing it.")
    slip = models.FloatField(help_text="P(S): the chance of a wrong answer while knowing it.")
    sequences = models.PositiveIntegerField(default=0, help_text="Learners' sequences fitted.")
    observations = models.PositiveIntegerField(default=0, help_text="Answers fitted.")
    log_likelihood = models.FloatField(null=True, blank=True)
    fitted_at = models.DateTimeField()

    class Meta:
        ordering = ["course_id", "misconception__code"]
        verbose_name = "BKT parameters"
        verbose_name_plural = "BKT parameters"
        constraints = [
            models.UniqueConstraint(
                fields=["course", "misconception"],
                condition=Q(course__isnull=False),
                name="bkt_once_per_course",
            ),
            models.UniqueConstraint(
                fields=["misconception"],
                condition=Q(course__isnull=True),
                name="bkt_once_overall",
            ),
            models.CheckConstraint(
                condition=_probability("prior")
                & _probability("learn")
                & _probability("guess")
                & _probability("slip"),
                name="bkt_probabilities",
            ),
            # Past guess + slip = 1 a right answer would be evidence of NOT knowing.
            models.CheckConstraint(
                condition=Q(guess__lt=1 - F("slip")), name="bkt_guess_plus_slip_below_one"
            ),
        ]

    def __str__(self) -> str:
        where = self.course.slug if self.course else "all courses"
        return f"{self.misconception.code} ({where})"


class ConfusedPair(models.Model):
    """Two misconceptions an instructor sees learners mix up; practice separates them."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="confused_pairs")
    first = models.ForeignKey(Misconception, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Misconception, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course_id", "first_id", "second_id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "first", "second"], name="pair_once"),
            # Stored in id order, so (a, b) and (b, a) are one pair.
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="pair_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.first.code} ~ {self.second.code}"


class PracticeSettings(models.Model):
    """A course's settings for practice; a course without a row has the defaults."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="practice_settings"
    )
    use_post_test_items = models.BooleanField(
        default=False,
        help_text=(
            "Use the post-test's items in practice. Off: the questions the course's post-test "
            "can draw are held back from practice, so the post-test measures what learners "
            "understood, not which of its items they have already seen with the answers."
        ),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "practice settings"
        verbose_name_plural = "practice settings"

    def __str__(self) -> str:
        return f"practice settings of {self.course.slug}"


class PracticeItem(models.Model):
    """An instructor's place for one question in a course's practice, or its removal."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="practice_items")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["course_id", "position", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "question"], name="practice_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.question.slug} in {self.course.slug}"


class Mastery(models.Model):
    """What the service believes about one learner and one misconception in one course."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="masteries")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="masteries"
    )
    misconception = models.ForeignKey(
        Misconception, on_delete=models.CASCADE, related_name="masteries"
    )
    p_known = models.FloatField(help_text="P(the learner holds the right idea), by BKT.")
    observations = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    # A wrong practice answer pointed at it: the belief was held (or the prerequisite missing).
    held = models.BooleanField(default=False)
    held_confidently = models.BooleanField(default=False)
    mastered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course_id", "learner_id", "misconception__code"]
        verbose_name_plural = "masteries"
        constraints = [
            models.UniqueConstraint(
                fields=["course", "learner", "misconception"], name="mastery_once"
            ),
            models.CheckConstraint(condition=_probability("p_known"), name="mastery_probability"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.misconception.code} {self.p_known:.2f}"


class PracticeSession(models.Model):
    """One sitting of guided practice; ends when its agenda is mastered or the learner stops."""

    class State(models.TextChoices):
        ACTIVE = "active", "In progress"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped by the learner"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="practice_sessions")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    is_preview = models.BooleanField(default=False, help_text="An instructor trying it out.")
    agenda = models.JSONField(
        default=list, help_text="Misconception codes the session set out to settle, in order."
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "learner"],
                condition=Q(state="active"),
                name="one_practice_session_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} practising {self.course.slug} ({self.state})"

    @property
    def is_active(self) -> bool:
        """Return whether the session still takes answers."""
        return self.state == self.State.ACTIVE


class PracticeStep(Answer):
    """One item of a session: why it was chosen, the learner's answer and what it showed."""

    class Kind(models.TextChoices):
        PREREQUISITE = "prerequisite", "Prerequisite check"
        RECHECK = "recheck", "Fresh check after an explanation"
        PROBE = "probe", "Probe"
        REMEDIATION = "remediation", "Another angle on a misconception"
        SEPARATING = "separating", "Telling two ideas apart"
        EXPLAIN_BACK = "explain_back", "Explain it back"

    class State(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        GRADING = "grading", "Code being graded"
        CHECKING = "checking", "Explanation written; self-check next"
        DONE = "done", "Done"

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    question = models.ForeignKey(
        Question,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: an explain-back on the target's own prompt from the catalogue.",
    )
    target = models.ForeignKey(
        Misconception,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The misconception the item was chosen for.",
    )
    reason = models.CharField(max_length=300, help_text="Why this item now, for the learner.")
    parameters = models.JSONField(default=dict, blank=True)
    choice_order = models.JSONField(default=list, blank=True)
    # The answer.
    selected_choices = models.ManyToManyField(Choice, blank=True, related_name="+")
    submission = models.ForeignKey(
        "grader.Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practice_steps",
    )
    # What it showed.
    revealed = models.ManyToManyField(Misconception, blank=True, related_name="practice_steps")
    mastery_after = models.JSONField(
        default=dict, blank=True, help_text="P(known) of each code this step updated, after it."
    )
    # Explain-back: an instructor's review of the text (the reading and the learner's own
    # ticks are the Answer's).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_ideas = models.JSONField(
        null=True, blank=True, help_text="The key ideas the instructor found in the text."
    )
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["session_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="practice_step_number"),
            models.UniqueConstraint(
                fields=["session"],
                condition=~Q(state="done"),
                name="one_practice_step_pending",
            ),
            confidence_check("practice_confidence_0_to_5"),
            # Only an explain-back on one misconception may go without a bank question.
            models.CheckConstraint(
                condition=Q(question__isnull=False) | Q(kind="explain_back", target__isnull=False),
                name="practice_step_question_or_catalogue_prompt",
            ),
        ]

    def __str__(self) -> str:
        return f"step {self.number} of session {self.session_id}"

    @property
    def prompt(self) -> Question:
        """Return what the step asks: its question, else (an explain-back on the target's own
        catalogue prompt) a question made from the target's catalogue entry."""
        if self.question is not None:
            return self.question
        assert self.target is not None  # the check constraint above
        return catalogue_prompt(self.target)

    @property
    def is_done(self) -> bool:
        """Return whether the step has its verdict."""
        return self.state == self.State.DONE


def catalogue_prompt(misconception: Misconception) -> Question:
    """Return a misconception's own explain-back prompt as an explain item (never saved).

    The self-check needs key ideas: the one key idea is what the catalogue says is true, so a
    learner who leaves it out gives a wrong answer on the misconception, as with any explain
    item; it is also the model answer. No criteria, so the service does not read the text:
    the learner's check counts, and an instructor's review can correct it.
    """
    return Question(
        qtype=QuestionType.EXPLAIN,
        slug=f"catalogue-{misconception.code.lower()}",
        stem=misconception.explain_prompt,
        feedback=misconception.truth,
        model_answer=misconception.truth,
        key_ideas=[misconception.truth],
        key_idea_probes=[[misconception.code]],
    )
