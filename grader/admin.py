"""The grader in the admin: what follows each verdict, read-only, for operators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from grader.models import VerdictDelivery
from grader.verdicts import OVERDUE_AFTER


class OverdueFilter(admin.SimpleListFilter):
    """Pending deliveries the sweep will send again: their task was lost or is late."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[VerdictDelivery]
    ) -> QuerySet[VerdictDelivery]:
        if self.value() != "yes":
            return queryset
        return queryset.filter(
            state=VerdictDelivery.State.PENDING,
            next_try_at__lt=timezone.now() - OVERDUE_AFTER,
        )


@admin.register(VerdictDelivery)
class VerdictDeliveryAdmin(admin.ModelAdmin[VerdictDelivery]):
    """Written with the verdict and by its consumer only: nobody edits one here. Operators'
    view (superusers): it spans every course."""

    list_display = [
        "submission_id", "consumer", "state", "tries", "next_try_at", "created_at",
        "done_at", "last_error",
    ]  # fmt: skip
    list_filter = ["state", "consumer", OverdueFilter]
    search_fields = ["=submission__id"]
    readonly_fields = [
        "submission", "consumer", "state", "tries", "last_error", "next_try_at",
        "created_at", "done_at",
    ]  # fmt: skip
    list_select_related = False
    date_hierarchy = "created_at"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
