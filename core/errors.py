"""Domain errors. Each carries a machine-readable reason so a chat can explain it."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A rule said no. `reason` is stable (flows translate it); `detail` is for humans and logs."""

    reason: str = "domain_error"

    def __init__(self, detail: str = "", *, reason: str | None = None, **context: object) -> None:
        super().__init__(detail or self.reason)
        if reason is not None:
            self.reason = reason
        self.detail = detail
        self.context = context


class InvalidSession(DomainError):
    reason = "invalid_session"


class SlotUnavailable(DomainError):
    reason = "slot_unavailable"


class OffGrid(SlotUnavailable):
    """A start between two slot starts. `nearest`: the free grid starts closest to it (before, after), to offer."""

    reason = "off_grid"

    @property
    def nearest(self) -> tuple[datetime, ...]:
        found = self.context.get("nearest", ())
        return tuple(found) if isinstance(found, tuple) else ()


class InsufficientCredits(DomainError):
    reason = "insufficient_credits"


class InvalidTransition(DomainError):
    reason = "invalid_transition"


class NotAllowed(DomainError):
    reason = "not_allowed"


class NotFound(DomainError):
    reason = "not_found"


class PolicyViolation(DomainError):
    reason = "policy_violation"
