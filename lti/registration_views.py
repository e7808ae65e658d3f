"""The page an LMS opens for LTI Dynamic Registration: check, confirm, register, close."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from core.inputs import text_field
from lti.registration import (
    platform_configuration_read,
    registration_complete,
    registration_url_check,
)

TEMPLATE = "lti/registration.html"


def _page(request: HttpRequest, context: dict[str, object], status: int = 200) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # The LMS shows this page in its own frame (Canvas) or window (Moodle).
    response.xframe_options_exempt = True
    return response


@csrf_exempt  # the signed URL authorises it; inside the LMS's frame no cookie of ours survives
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def registration(request: HttpRequest, token: str) -> HttpResponse:
    """GET: read the platform's configuration and ask to confirm; POST: register."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        registration_url_check(token=token)
        openid_configuration = text_field(
            params.get("openid_configuration", ""), field="openid_configuration"
        )
        registration_token = text_field(
            params.get("registration_token", ""), field="registration_token"
        )
        if not openid_configuration:
            raise ApplicationError(
                "Open this URL from your LMS's tool registration (Moodle: 'Tool URL' under "
                "Manage tools; Canvas: Developer Keys, 'LTI Registration'); the LMS adds its "
                "`openid_configuration` to it.",
                code="missing_openid_configuration",
                fields={"openid_configuration": "Required."},
            )
        configuration = platform_configuration_read(
            openid_configuration=openid_configuration, registration_token=registration_token
        )
        if request.method == "GET":
            return _page(
                request,
                {
                    "configuration": configuration,
                    "openid_configuration": openid_configuration,
                    "registration_token": registration_token,
                },
            )
        registered = registration_complete(
            configuration=configuration,
            registration_token=registration_token,
            tool_origin=request.build_absolute_uri("/").rstrip("/"),
        )
    except ApplicationError as error:
        return _page(request, {"error": error}, status=error.status)
    return _page(request, {"registered": registered})
