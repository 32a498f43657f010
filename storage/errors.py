"""Database refusals turned into the engine's own errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

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


def unavailable(error: BaseException) -> bool:
    """The database could not be used at all (down, unreachable, connection lost): nothing about the
    request is wrong, so the caller should retry later or answer "try again", not report a bug."""
    return isinstance(error, (OperationalError, InterfaceError)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def one_line(error: BaseException) -> str:
    """An error in one line for a log (a database error's text carries SQL and a link on more lines)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {' '.join(str(original).split())[:300]}"
