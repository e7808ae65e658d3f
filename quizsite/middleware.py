"""The site's own middleware: rules that hold before any app's view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import ApplicationError
from core.inputs import nul_message


class NulRefusalMiddleware:
    """Refuse a URL whose path or query string holds a NUL character: a 400 naming the
    parameter (in the API's error shape under /api/), before any view sends it to the
    database. Form fields are checked by the views (text_field), where the error can be
    shown on the form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        message = nul_message()
        error = ApplicationError(f"{field}: {message}", fields={field: message})
        if request.path.startswith("/api/"):
            return JsonResponse(error.as_dict(), status=error.status)
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )


def _nul_field(request: HttpRequest) -> str | None:
    if "\x00" in request.path:
        return "path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\x00")[:40]
    return None
