"""How the OpenAPI schema describes API-client authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiClientScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "lms.auth.ApiClientAuthentication"
    name = "apiClientToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token (scoped, bound to courses).",
        }
