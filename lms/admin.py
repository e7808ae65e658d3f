"""API clients and webhooks in the admin: superusers only, as a client spans courses."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from courses.admin import SuperusersOnlyAdmin
from lms.models import ApiClient, LmsIdentity, WebhookDelivery, WebhookEndpoint, WebhookTry


@admin.register(ApiClient)
class ApiClientAdmin(SuperusersOnlyAdmin[ApiClient]):
    list_display = ["name", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    filter_horizontal = ["courses"]
    readonly_fields = ["token_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, token = ApiClient.issue(
            name=obj.name, scopes=list(obj.scopes), created_by=request.user
        )
        obj.pk = issued.pk
        obj.token_prefix, obj.token_hash = issued.token_prefix, issued.token_hash
        obj.created_by, obj.created_at = issued.created_by, issued.created_at
        messages.warning(request, f"The client's token, shown only now: {token}")

    @admin.action(description="Revoke the selected clients' tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"Revoked {count} client(s).")


@admin.register(LmsIdentity)
class LmsIdentityAdmin(SuperusersOnlyAdmin[LmsIdentity]):
    list_display = ["lms_user_id", "issuer", "user", "created_at"]
    search_fields = ["lms_user_id", "user__username"]


class WebhookTryInline(admin.TabularInline[WebhookTry, WebhookDelivery]):
    model = WebhookTry
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "duration_ms", "status_code", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SuperusersOnlyAdmin[WebhookEndpoint]):
    list_display = ["url", "client", "is_active", "created_at"]
    list_filter = ["is_active"]
    # The secret is neither shown nor set here: the client gets it once, from the API.
    fields = ["client", "url", "events", "is_active", "created_at"]
    readonly_fields = ["created_at"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if not change:
            obj.secret = WebhookEndpoint.new_secret()
            messages.warning(request, f"The webhook's signing secret, shown only now: {obj.secret}")
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperusersOnlyAdmin[WebhookDelivery]):
    list_display = ["event", "event_id", "endpoint", "state", "tries", "last_status_code"]
    list_filter = ["state", "event"]
    search_fields = ["event_id"]
    readonly_fields = [
        "endpoint", "event_id", "event", "attempt", "payload", "state", "tries",
        "last_status_code", "last_error", "next_try_at", "created_at", "delivered_at",
    ]  # fmt: skip
    inlines = [WebhookTryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
