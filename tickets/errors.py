"""Errors raised by services; `tickets.apis_errors` maps them to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation. `rule` names the business rule, `field` the offending input."""

    status_code = 400
    default_rule = "invalid"

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule or self.default_rule
        self.field = field


class InvalidInput(DomainError):
    status_code = 400
    default_rule = "invalid_input"


class TransitionNotAllowed(DomainError):
    status_code = 409
    default_rule = "transition_not_allowed"


class ConcurrentChange(DomainError):
    """Someone else changed the row first: two actors cannot both win."""

    status_code = 409
    default_rule = "concurrent_change"


class NotPermitted(DomainError):
    status_code = 403
    default_rule = "not_permitted"


class NotFound(DomainError):
    status_code = 404
    default_rule = "not_found"


class RateLimited(DomainError):
    """Too many requests from one number or address (abuse protection at intake)."""

    status_code = 429
    default_rule = "rate_limited"


class LoginLockedOut(DomainError):
    """Too many wrong passwords for one account (django-axes); the view answers with the time left."""

    status_code = 429
    default_rule = "locked_out"
