"""Practice in the admin: fitted parameters, confused pairs and item order; sessions and
courses' practice settings to read (settings change on the instructor's settings page)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

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
class BktParametersAdmin(admin.ModelAdmin[BktParameters]):
    list_display = ["misconception", "course", "prior", "learn", "guess", "slip", "sequences"]
    list_filter = ["course"]


@admin.register(ConfusedPair)
class ConfusedPairAdmin(admin.ModelAdmin[ConfusedPair]):
    list_display = ["course", "first", "second", "created_by", "created_at"]
    list_filter = ["course"]


@admin.register(PracticeItem)
class PracticeItemAdmin(admin.ModelAdmin[PracticeItem]):
    list_display = ["course", "position", "question", "is_enabled"]
    list_filter = ["course", "is_enabled"]


@admin.register(PracticeSettings)
class PracticeSettingsAdmin(admin.ModelAdmin[PracticeSettings]):
    list_display = ["course", "use_post_test_items", "updated_by", "updated_at"]
    # Read-only: the settings page also withdraws steps on items that become held.
    readonly_fields = [f.name for f in PracticeSettings._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Mastery)
class MasteryAdmin(admin.ModelAdmin[Mastery]):
    list_display = ["course", "learner", "misconception", "p_known", "held", "mastered_at"]
    list_filter = ["course", "held", "misconception"]
    readonly_fields = [f.name for f in Mastery._meta.fields]


class PracticeStepInline(admin.TabularInline[PracticeStep, PracticeSession]):
    model = PracticeStep
    extra = 0
    can_delete = False
    fields = ("number", "kind", "question", "target", "state", "is_correct", "confidence")
    readonly_fields = fields


@admin.register(PracticeSession)
class PracticeSessionAdmin(admin.ModelAdmin[PracticeSession]):
    list_display = ["learner", "course", "state", "started_at", "ended_at", "is_preview"]
    list_filter = ["course", "state", "is_preview"]
    readonly_fields = [f.name for f in PracticeSession._meta.fields]
    inlines = [PracticeStepInline]
