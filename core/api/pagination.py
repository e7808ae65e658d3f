"""Page-number pagination that refuses page numbers and sizes it cannot use."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from core.inputs import int_field


def positive_param(request: Request, name: str, *, default: int, largest: int) -> int:
    """Return the query parameter `name` as a whole number from 1 to `largest`, or
    `default` when it is absent; anything else (`0`, `-1`, `abc`, empty) is a 400."""
    if name not in request.query_params:
        return default
    return int_field(request.query_params[name], field=name, minimum=1, maximum=largest)


class StrictPages(PageNumberPagination):
    """DRF's pages, except that a malformed `page` or `page_size` is a 400 naming it.

    DRF silently serves the first page for `page=` and the default size for `page_size=0`,
    `-1` or `abc`, and cuts a size over the maximum down to it: a caller then cannot tell
    why it got other rows than it asked for. A page past the last stays DRF's 404."""

    page_size_query_param = "page_size"
    page_size = 100
    max_page_size = 1000
    largest_page = 10**9

    def validate(self, request: Request) -> None:
        """Raise unless `page` and `page_size` are absent or usable."""
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            positive_param(request, self.page_query_param, default=1, largest=self.largest_page)
        self.get_page_size(request)

    def get_page_size(self, request: Request) -> int:
        return positive_param(
            request, self.page_size_query_param, default=self.page_size, largest=self.max_page_size
        )

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int | str:
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return paginator.num_pages  # DRF's ?page=last
        return positive_param(request, self.page_query_param, default=1, largest=self.largest_page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        bounds = {
            self.page_query_param: (self.largest_page, "A page number; past the last is a 404."),
            self.page_size_query_param: (self.max_page_size, f"{self.page_size} unless given."),
        }
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": "integer", "minimum": 1, "maximum": largest},
            }
            for name, (largest, description) in bounds.items()
        ]
