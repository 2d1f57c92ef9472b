"""Errors that become JSON answers: one exception type per body shape, so handlers just raise."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An answer of the metering API: `{"error", "message", "field"?}` with a status code."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.error, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ValidationError(ApiError):
    """400 naming the offending field, e.g. `name must be at most 80 characters`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(400, "validation_error", message, field=field)


class NotFoundError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, "not_found", message)


class ConflictError(ApiError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(409, "conflict", message, field=field)


class OAuthError(ApiError):
    """An Auth0-shaped token endpoint error: `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(status, error, description)

    def body(self) -> dict[str, object]:
        return {"error": self.error, "error_description": self.message}
