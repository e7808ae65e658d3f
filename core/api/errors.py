"""Map every API error to one JSON shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, error_fields


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Return the API's error response for `exc` (None lets Django show a 500)."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = error_fields(exc.detail)
        message = "Invalid input: " + "; ".join(f"{k or 'body'}: {v}" for k, v in fields.items())
        code = "invalid"
    else:
        detail = getattr(exc, "detail", str(exc))
        message = str(detail)
        fields = {}
        code = getattr(exc, "default_code", "error")
        if response.status_code == status.HTTP_403_FORBIDDEN and code == "not_authenticated":
            code = "not_authenticated"
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no view matched: the error shape under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        error = {"code": "not_found", "message": "No such endpoint.", "fields": {}}
        return JsonResponse({"error": error}, status=404)
    return page_not_found(request, exception)


class ErrorDetailOut(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `not_found`.")
    message = serializers.CharField(help_text="For people; may change.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # `fields` cannot be declared as an attribute: it would shadow Serializer.fields.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=serializers.CharField(),
            help_text='What is wrong with each offending input, e.g. {"members[2].role": "..."}.',
        )
        return fields


class ErrorOut(serializers.Serializer[Any]):
    """Every error the API returns, whatever its status."""

    error = ErrorDetailOut()


ERROR_MEANINGS = {
    400: "Invalid input; `error.fields` names each offending field. Nothing was changed.",
    401: "The API client token is missing, malformed, unknown or revoked.",
    403: "Not authenticated (`not_authenticated`), or not allowed, e.g. a missing scope.",
    404: "No such resource, or one the caller may not see (both look the same).",
    409: "Valid, but the resource's state does not allow it now.",
    415: "The body is not JSON (send Content-Type: application/json).",
    429: "Too many requests; wait and try again.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Return the OpenAPI responses for these error statuses, all in the one error shape."""
    return {code: OpenApiResponse(ErrorOut, description=ERROR_MEANINGS[code]) for code in statuses}
