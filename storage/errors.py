"""Database refusals turned into the engine's own errors."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from core.errors import DomainError, InsufficientCredits, SlotUnavailable


class ConcurrentChange(DomainError):
    """Someone else changed the same booking first; the caller may reload and retry."""

    reason = "concurrent_change"


def translate(error: IntegrityError) -> DomainError | None:
    text = str(error.orig)
    if "ex_meetings_no_overlap" in text:
        return SlotUnavailable("that time was just taken", reason="taken")
    if "ck_wallets_available_nonneg" in text or "ck_wallets_held_nonneg" in text:
        return InsufficientCredits("not enough credits")
    return None
