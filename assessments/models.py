"""The teaching domain: misconceptions, question banks, quizzes, attempts and responses."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.outbox import Delivery


class Misconception(models.Model):
    """A named mistaken belief (or a missing prerequisite) the service diagnoses."""

    class Kind(models.TextChoices):
        MISCONCEPTION = "misconception", "Misconception"
        PREREQUISITE = "prerequisite", "Missing prerequisite"

    code = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MISCONCEPTION)
    title = models.CharField(max_length=200)
    belief = models.TextField(help_text="The mistaken belief, as a learner would hold it.")
    truth = models.TextField(help_text="What is true; shown as the explanation.")
    evidence = models.TextField(blank=True)
    references = models.JSONField(default=list, blank=True)
    explain_prompt = models.TextField(help_text="The explain-back prompt aimed at this belief.")
    analogy = models.TextField(
        blank=True, help_text="An everyday comparison that makes the truth stick (practice)."
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"


class QuestionBank(models.Model):
    """A named pool of questions that quizzes draw from."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_prerequisite = models.BooleanField(
        default=False, help_text="Holds prerequisite items (what a neuron is, overfitting)."
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class QuestionType(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple response"
    TRUE_FALSE = "truefalse", "True/false"
    NUMERIC = "numeric", "Numeric"
    TWO_TIER = "twotier", "Two-tier"
    EXPLAIN = "explain", "Explain it back"
    CODE = "code", "Code (graded by the grader)"


CHOICE_TYPES = frozenset(
    {QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE, QuestionType.TWO_TIER}
)


class Question(models.Model):
    """One question of a bank; wrong answers point at misconceptions."""

    class Form(models.TextChoices):
        A = "A", "Form A"
        B = "B", "Form B"
        ANY = "", "Either form"

    bank = models.ForeignKey(QuestionBank, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(max_length=80, unique=True)
    qtype = models.CharField("type", max_length=16, choices=QuestionType.choices)
    form = models.CharField(max_length=1, choices=Form.choices, blank=True, default="")
    stem = models.TextField()
    reason_prompt = models.TextField(
        blank=True, help_text="Two-tier only: the second tier's prompt."
    )
    mark = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    feedback = models.TextField(help_text="General feedback shown after submission.")
    probes = models.ManyToManyField(Misconception, related_name="probing_questions")
    # Numeric items: `parameters` maps each name in the stem to its allowed values;
    # `answer` is an arithmetic expression of them.
    parameters = models.JSONField(default=dict, blank=True)
    answer = models.CharField(max_length=200, blank=True)
    tolerance = models.FloatField(default=0)
    tolerance_is_relative = models.BooleanField(default=False)
    unit = models.CharField(max_length=40, blank=True)
    # Code items: the grader exercise the learner's code is submitted to.
    exercise = models.SlugField(max_length=64, blank=True)
    # Explain-back items.
    model_answer = models.TextField(blank=True)
    key_ideas = models.JSONField(default=list, blank=True)
    key_idea_probes = models.JSONField(
        default=list,
        blank=True,
        help_text="Per key idea, the misconception codes a learner who leaves it out may hold.",
    )
    key_idea_criteria = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Per key idea, what an explanation must say and must not claim, for the automatic "
            "reading (assessments.explanation_reading); empty: no reading."
        ),
    )
    position = models.PositiveIntegerField(default=0)
    # Moved also when its choices, distractors or their misconceptions change
    # (assessments.receivers), so that assessments.bank_fingerprint sees every edit.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bank_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(mark__gte=0), name="question_mark_not_negative"),
            models.CheckConstraint(
                condition=Q(tolerance__gte=0), name="question_tolerance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_scored(self) -> bool:
        """Return whether the question counts towards the attempt's score."""
        return self.qtype != QuestionType.EXPLAIN


class Choice(models.Model):
    """An option of a choice question; tier 2 holds a two-tier item's reasons."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    tier = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    feedback = models.TextField(blank=True)
    misconceptions = models.ManyToManyField(Misconception, blank=True, related_name="choices")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["question_id", "tier", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=[1, 2]), name="choice_tier_1_or_2"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class NumericDistractor(models.Model):
    """A wrong numeric answer a misconception predicts, as an expression of the parameters."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="distractors")
    answer = models.CharField(max_length=200)
    feedback = models.TextField()
    misconceptions = models.ManyToManyField(Misconception, related_name="numeric_distractors")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["question_id", "position", "id"]

    def __str__(self) -> str:
        return self.answer


class Quiz(models.Model):
    """A quiz: questions drawn from banks, with its rules."""

    class Role(models.TextChoices):
        PRE = "pre", "Pre-test"
        POST = "post", "Post-test"
        OTHER = "other", "Other"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    shuffle_questions = models.BooleanField(default=True)
    shuffle_choices = models.BooleanField(default=True)
    time_limit = models.DurationField(null=True, blank=True, help_text="Empty for no limit.")
    attempts_allowed = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty for unlimited attempts."
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    is_published = models.BooleanField(default=True)
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quizzes",
        help_text="Empty: open to every learner, statistics for staff only.",
    )
    role = models.CharField(
        max_length=8,
        choices=Role.choices,
        default=Role.OTHER,
        help_text="Pre- and post-tests of a course are compared for learning gains.",
    )

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="quiz_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(time_limit__isnull=True) | Q(time_limit__gt=timedelta(0)),
                name="quiz_time_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open_at(self, moment: datetime) -> bool:
        """Return whether the quiz accepts work at `moment`."""
        if not self.is_published:
            return False
        if self.opens_at is not None and moment < self.opens_at:
            return False
        return self.closes_at is None or moment < self.closes_at


class QuizSection(models.Model):
    """How many questions a quiz draws at random from one bank (and which form)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="sections")
    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="sections")
    draw_count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    form = models.CharField(max_length=1, choices=Question.Form.choices, blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quiz_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(draw_count__gte=1), name="section_draws_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.draw_count} from {self.bank.slug} {self.form}".strip()


class BlueprintRule(models.Model):
    """A line of a quiz's blueprint: every attempt carries at least `minimum` items that probe
    `misconception` (when set) and are of type `qtype` (when set)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="blueprint_rules")
    misconception = models.ForeignKey(
        Misconception,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="blueprint_rules",
        help_text="Empty: items of this type, whatever they probe.",
    )
    qtype = models.CharField(
        "type",
        max_length=16,
        choices=QuestionType.choices,
        blank=True,
        help_text="Empty: items of any type that probe the misconception.",
    )
    minimum = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["quiz_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(misconception__isnull=False) | ~Q(qtype=""),
                name="blueprint_rule_names_code_or_type",
                violation_error_message="Choose a misconception, a type, or both.",
            ),
            models.CheckConstraint(
                condition=Q(minimum__gte=1),
                name="blueprint_rule_minimum_at_least_one",
                violation_error_message="A rule asks for at least 1 item.",
            ),
            # Two partial indexes, since NULLs never clash in a plain unique constraint.
            models.UniqueConstraint(
                fields=["quiz", "misconception", "qtype"],
                condition=Q(misconception__isnull=False),
                name="blueprint_rule_unique_code",
                violation_error_message="The blueprint already has a rule for this code and type.",
            ),
            models.UniqueConstraint(
                fields=["quiz", "qtype"],
                condition=Q(misconception__isnull=True),
                name="blueprint_rule_unique_type",
                violation_error_message="The blueprint already has a rule for this type.",
            ),
        ]

    def __str__(self) -> str:
        return f"at least {self.minimum} {self.describe()}"

    def describe(self) -> str:
        """Return which items the rule counts, e.g. "items of type twotier that probe DO-TEST"."""
        kind = f" of type {self.qtype}" if self.qtype else ""
        code = f" that probe {self.misconception.code}" if self.misconception is not None else ""
        return f"item(s){kind}{code}"


class Attempt(models.Model):
    """One learner's attempt at a quiz."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    is_preview = models.BooleanField(
        default=False, help_text="An instructor's preview; never counted."
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    auto_submitted = models.BooleanField(default=False)
    score = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    max_score = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "learner", "number"], name="attempt_number_unique"
            ),
            # At most one unfinished attempt per learner and quiz, even under concurrent starts.
            models.UniqueConstraint(
                fields=["quiz", "learner"],
                condition=Q(state="in_progress"),
                name="one_attempt_in_progress",
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="attempt_state_deadline")]

    def __str__(self) -> str:
        return f"{self.learner} #{self.number} on {self.quiz}"

    @property
    def is_submitted(self) -> bool:
        """Return whether the attempt has been submitted."""
        return self.state == self.State.SUBMITTED


CONFIDENCE_SCALE = (
    (0, "0 - totally guessed"),
    (1, "1 - almost a guess"),
    (2, "2 - not sure"),
    (3, "3 - sure"),
    (4, "4 - almost certain"),
    (5, "5 - certain"),
)


def confidence_check(name: str) -> models.CheckConstraint:
    """Return the check that a confidence, when given, is on the 0-5 scale."""
    return models.CheckConstraint(
        condition=Q(confidence__isnull=True) | Q(confidence__lte=5), name=name
    )


class Answer(models.Model):
    """A learner's answer to one question, wherever it was asked (a quiz's slot, a practice
    step): what they answered, how sure they were, how long it took and whether it was
    right. Each concrete model names its own confidence check (`confidence_check`), as the
    constraints' names are already in the databases."""

    numeric_value = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    seconds_spent = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    is_correct = models.BooleanField(null=True)
    # Explain-back: the key ideas the learner says their answer contains, and the service's
    # reading of the text against the key ideas (None: nothing read).
    self_assessed_ideas = models.JSONField(null=True, blank=True)
    reading = models.JSONField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_answered(self) -> bool:
        """Return whether the learner has saved an answer."""
        return self.answered_at is not None


class Response(Answer):
    """One slot of an attempt: the question drawn there and the learner's answer to it."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    # Where the question is shown (1-based, after any shuffling): the learner's "question n".
    slot = models.PositiveSmallIntegerField()
    # Which slot of the quiz's structure it fills (1-based, sections in order, draws in
    # order): the same slot in every attempt whatever the display order, as in Moodle.
    structural_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="responses")
    choice_order = models.JSONField(default=list, help_text="Choice ids in the order shown.")
    parameters = models.JSONField(
        default=dict, help_text="This attempt's numeric parameter values."
    )
    # The answer (empty until answered); the quiz's form shows the scale's labels.
    selected_choices = models.ManyToManyField(Choice, blank=True, related_name="responses")
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=CONFIDENCE_SCALE, validators=[MaxValueValidator(5)]
    )
    # Set when scored (with is_correct).
    mark = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    max_mark = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    misconceptions = models.ManyToManyField(Misconception, blank=True, related_name="responses")

    class Meta:
        ordering = ["attempt_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "slot"], name="response_slot_unique"),
            models.UniqueConstraint(
                fields=["attempt", "question"], name="response_question_unique"
            ),
            confidence_check("response_confidence_0_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} slot {self.slot}"


class Explanation(models.Model):
    """A learner's explain-back text for a misconception, written on the results page."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="explanations")
    misconception = models.ForeignKey(
        Misconception, on_delete=models.PROTECT, related_name="explanations"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "misconception"], name="explanation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.misconception.code}"


class ScoreDelivery(Delivery):
    """What must follow an attempt's score for one consumer (an LMS's webhooks, an LTI
    gradebook): written in the transaction that sets the score, marked applied in the one
    that hands it on (see assessments/scores.py and core/outbox.py)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "score deliveries"
        constraints = [
            models.UniqueConstraint(fields=["attempt", "consumer"], name="score_delivery_once")
        ]
        indexes = [models.Index(fields=["state", "next_try_at"], name="score_delivery_due")]

    def __str__(self) -> str:
        return f"{self.consumer} of attempt {self.attempt_id} ({self.state})"
