"""Practice in the admin: fitted parameters, confused pairs and item order; sessions and
courses' practice settings to read (settings change on the instructor's settings page).
Each user sees the courses they teach (courses.admin.CourseDataAdmin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from courses.admin import CourseDataAdmin
from practice.models import (
    BktParameters,
    ConfusedPair,
    Mastery,
    PracticeItem,
    PracticeSession,
    PracticeSettings,
    PracticeStep,
)


@admin.register(BktParameters)
class BktParametersAdmin(CourseDataAdmin[BktParameters]):
    # The fit on every course (no course) is used by every course: superusers' alone.
    superusers_delete = False
    list_display = ["misconception", "course", "prior", "learn", "guess", "slip", "sequences"]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter)]


@admin.register(ConfusedPair)
class ConfusedPairAdmin(CourseDataAdmin[ConfusedPair]):
    superusers_delete = False
    list_display = ["course", "first", "second", "created_by", "created_at"]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter)]
    # A choice of creator would list every account.
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: ConfusedPair, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(PracticeItem)
class PracticeItemAdmin(CourseDataAdmin[PracticeItem]):
    superusers_delete = False
    list_display = ["course", "position", "question", "is_enabled"]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter), "is_enabled"]


@admin.register(PracticeSettings)
class PracticeSettingsAdmin(CourseDataAdmin[PracticeSettings]):
    list_display = ["course", "use_post_test_items", "updated_by", "updated_at"]
    # Read-only, and deleted by superusers only: the settings page also withdraws steps on
    # items that become held.
    readonly_fields = [f.name for f in PracticeSettings._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Mastery)
class MasteryAdmin(CourseDataAdmin[Mastery]):
    list_display = ["course", "learner", "misconception", "p_known", "held", "mastered_at"]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter), "held", "misconception"]
    readonly_fields = [f.name for f in Mastery._meta.fields]


class PracticeStepInline(admin.TabularInline[PracticeStep, PracticeSession]):
    model = PracticeStep
    extra = 0
    can_delete = False
    fields = ("number", "kind", "question", "target", "state", "is_correct", "confidence")
    readonly_fields = fields


@admin.register(PracticeSession)
class PracticeSessionAdmin(CourseDataAdmin[PracticeSession]):
    list_display = ["learner", "course", "state", "started_at", "ended_at", "is_preview"]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter), "state", "is_preview"]
    readonly_fields = [f.name for f in PracticeSession._meta.fields]
    inlines = [PracticeStepInline]
