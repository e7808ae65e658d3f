"""Learner code submissions and their verdicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.outbox import Delivery


class Submission(models.Model):
    """One piece of learner code for an exercise, saved before it is graded."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERROR = "error", "Error"
        TIMEOUT = "timeout", "Timed out"

    FINISHED = (Status.PASSED, Status.FAILED, Status.ERROR, Status.TIMEOUT)

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    exercise = models.SlugField(max_length=64)
    code = models.TextField()
    # The attempt slot this answers, when it comes from a code question of a quiz.
    response = models.ForeignKey(
        "assessments.Response",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    seed = models.BigIntegerField(help_text="Draws the hidden inputs; never shown to the learner.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    score = models.FloatField(null=True, blank=True)
    checks = models.JSONField(default=list, blank=True)
    misconceptions = models.ManyToManyField(
        "assessments.Misconception", blank=True, related_name="submissions"
    )
    defects = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    output = models.TextField(blank=True, help_text="The start of what the code printed.")
    claims = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker took it."
    )
    worker = models.CharField(max_length=200, blank=True)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="submission_status_queued"),
            models.Index(fields=["learner", "queued_at"], name="submission_learner_queued"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)),
                name="submission_score_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} by {self.learner_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        """Return whether the submission has its verdict."""
        return self.status in self.FINISHED


class VerdictDelivery(Delivery):
    """What must follow one verdict for one consumer (a quiz slot, a practice step).

    Written in the transaction that commits the verdict; marked applied in the one that
    applies it (see grader/verdicts.py and core/outbox.py).
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "verdict deliveries"
        constraints = [
            models.UniqueConstraint(fields=["submission", "consumer"], name="verdict_delivery_once")
        ]
        indexes = [models.Index(fields=["state", "next_try_at"], name="verdict_delivery_due")]

    def __str__(self) -> str:
        return f"{self.consumer} of submission {self.submission_id} ({self.state})"
