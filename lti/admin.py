"""LTI platforms, keys, contexts and score passbacks in the admin: superusers only, as a
platform spans courses."""

from django.contrib import admin

from courses.admin import SuperusersOnlyAdmin
from lti.models import Context, Deployment, Passback, Platform, ResourceLink, ToolKey


class DeploymentInline(admin.TabularInline[Deployment, Platform]):
    model = Deployment
    extra = 1


@admin.register(Platform)
class PlatformAdmin(SuperusersOnlyAdmin[Platform]):
    list_display = ["__str__", "issuer", "client_id", "is_active", "created_at"]
    list_filter = ["is_active"]
    inlines = [DeploymentInline]


@admin.register(ToolKey)
class ToolKeyAdmin(SuperusersOnlyAdmin[ToolKey]):
    list_display = ["kid", "created_at", "retired_at"]
    readonly_fields = ["kid", "public_jwk", "created_at"]
    exclude = ["private_key_pem"]


@admin.register(Context)
class ContextAdmin(SuperusersOnlyAdmin[Context]):
    list_display = ["__str__", "course", "deployment", "roster_synced_at"]
    raw_id_fields = ["course"]


@admin.register(ResourceLink)
class ResourceLinkAdmin(SuperusersOnlyAdmin[ResourceLink]):
    list_display = ["__str__", "context", "quiz", "lineitem_url"]
    raw_id_fields = ["quiz"]


@admin.register(Passback)
class PassbackAdmin(SuperusersOnlyAdmin[Passback]):
    list_display = ["attempt", "score_given", "score_maximum", "state", "tries", "last_error"]
    list_filter = ["state"]
    raw_id_fields = ["attempt", "link_learner"]
