"""The domain's one error type, mapped to a JSON error shape and to form errors on pages.

It lives in the shared base so that the rules for request input (quizsite.inputs) raise
it too; assessments.errors re-exports it for the apps."""

from __future__ import annotations


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
