"""Map every API error to one JSON shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assessments.errors import ApplicationError, error_fields


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
