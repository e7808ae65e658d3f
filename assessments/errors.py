"""The domain's one error type, mapped to a JSON error shape and to form errors on pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Defined in the shared base, where the rules for request input raise them too.
from quizsite.errors import ApplicationError as ApplicationError
from quizsite.errors import ConflictError as ConflictError
from quizsite.errors import NotFoundError as NotFoundError


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
