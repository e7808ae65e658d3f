"""The domain's one error type, mapped to a JSON error shape and to form errors on pages.

It lives in the base layer so that every app, and the rules for request input
(core.inputs), raise the same errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApplicationError(Exception):
    """A request the domain refuses, with a stable code, a message and per-field messages."""

    status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, object]:
        """Return the error in the API's shape."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class NotFoundError(ApplicationError):
    """The thing does not exist, or the caller may not see it (both look the same)."""

    status = 404
    default_code = "not_found"


class ConflictError(ApplicationError):
    """The request is valid but the resource's state does not allow it now."""

    status = 409
    default_code = "conflict"


def error_fields(detail: Any, prefix: str = "") -> dict[str, str]:
    """Flatten DRF's nested validation errors to {"questions[3].choices[1].text": "message"}."""
    if isinstance(detail, Mapping):
        merged: dict[str, str] = {}
        for key, value in detail.items():
            if isinstance(key, int):  # a list item's errors, keyed by its index
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            merged.update(error_fields(value, name))
        return merged
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return {prefix: " ".join(detail)} if detail else {}
        merged = {}
        for index, item in enumerate(detail):
            merged.update(error_fields(item, f"{prefix}[{index}]"))
        return merged
    return {prefix: str(detail)}
