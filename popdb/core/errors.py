"""Domain errors: plain exceptions, mapped to HTTP in one place (`api.error_responses`)."""

from __future__ import annotations

from typing import Any


class PopdbError(Exception):
    """Base of every error popdb raises on purpose; `code` is stable for clients."""

    code = "error"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ConfigError(PopdbError):
    code = "config_error"


class DatabaseUnavailable(PopdbError):
    code = "database_unavailable"


class NotFound(PopdbError):
    code = "not_found"


class Conflict(PopdbError):
    code = "conflict"


class InvalidInput(PopdbError):
    code = "invalid_input"


class Forbidden(PopdbError):
    code = "forbidden"
