"""Domain errors raised by services; views turn them into HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` is fit to show a person."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class ValidationError(DomainError):
    status_code = 400
