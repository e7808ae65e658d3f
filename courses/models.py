"""Courses (sections): who teaches them and who is enrolled.

Rosters come from people (admin, `simulate_class`) today and from an LMS later: an
enrollment records where it came from and the LMS's own id for the person, so a roster
sync can upsert by (course, source, external_id) without touching hand-made rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Course(models.Model):
    """A class of learners with its instructors; quizzes may belong to one course."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="courses_taught", blank=True
    )
    learners: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Enrollment",
        related_name="courses_enrolled",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    """A learner's place in a course."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        SIMULATED = "simulated", "Simulated class"
        LMS = "lms", "LMS roster"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    external_id = models.CharField(
        max_length=255, blank=True, help_text="The person's id in the LMS that synced it."
    )
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "learner"]
        constraints = [
            models.UniqueConstraint(fields=["course", "learner"], name="enrollment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.course}"
