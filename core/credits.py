"""Credit wallets and how a price is split across them.

A client may draw on several wallets: the programme's allocation to their
company, the company's own top-up, and credits they bought. Allocations that
expire with the programme go first, the client's own money last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InsufficientCredits


class Source(StrEnum):
    PROGRAMME = "programme"
    COMPANY = "company"
    INDIVIDUAL = "individual"


SPENDING_ORDER: tuple[Source, ...] = (Source.PROGRAMME, Source.COMPANY, Source.INDIVIDUAL)

# One grant is at most this many millicredits (100,000 credits): a typo guard, and it keeps every wallet
# far inside the database's 64-bit integers however many grants it receives.
MAX_GRANT_MILLI = 100_000 * 1000


class Movement(StrEnum):
    """Every change to a wallet is one of these, recorded once under an idempotency key."""

    GRANT = "grant"  # available += amount
    HOLD = "hold"  # available -= amount, held += amount (a request is waiting)
    RELEASE = "release"  # held -= amount, available += amount (declined, expired, withdrawn)
    SPEND = "spend"  # held -= amount (accepted)
    CHARGE = "charge"  # available -= amount, spent at once (a late reschedule forfeits the first price)
    REFUND = "refund"  # available += amount (a spent meeting given back by policy)
    REVOKE = "revoke"  # available -= amount (staff take back unused credits)


@dataclass(frozen=True, slots=True)
class Wallet:
    id: int
    source: Source
    available: int  # millicredits
    held: int = 0
    label: str = ""  # "Programme: Spring cohort", "Acme Ltd", "Your own credits"


@dataclass(frozen=True, slots=True)
class Portion:
    """The part of a movement that touches one wallet."""

    wallet_id: int
    amount: int


def total_available(wallets: Sequence[Wallet]) -> int:
    return sum(w.available for w in wallets)


def plan_hold(wallets: Sequence[Wallet], amount: int) -> tuple[Portion, ...]:
    """Split `amount` over the wallets in spending order, or say how much is missing."""
    if amount < 0:
        raise ValueError("a hold is never negative")
    if amount == 0:
        return ()
    have = total_available(wallets)
    if have < amount:
        raise InsufficientCredits(
            f"needs {amount} millicredits, has {have}", needed=amount, available=have
        )
    rank = {source: i for i, source in enumerate(SPENDING_ORDER)}
    portions: list[Portion] = []
    left = amount
    for wallet in sorted(wallets, key=lambda w: (rank[w.source], w.id)):
        if left == 0:
            break
        take = min(wallet.available, left)
        if take > 0:
            portions.append(Portion(wallet.id, take))
            left -= take
    return tuple(portions)


def plan_return(portions: Sequence[Portion], amount: int) -> tuple[Portion, ...]:
    """Give `amount` back to the wallets it came from, the client's own wallets first.

    Reverse spending order: a partial refund restores the credits the client
    paid for before the programme's allocation.
    """
    if amount < 0:
        raise ValueError("a refund is never negative")
    if amount > sum(p.amount for p in portions):
        raise ValueError("cannot return more than was taken")
    result: list[Portion] = []
    left = amount
    for portion in reversed(portions):
        if left == 0:
            break
        give = min(portion.amount, left)
        if give:
            result.append(Portion(portion.wallet_id, give))
            left -= give
    return tuple(result)


def net_portions(taken: Sequence[Portion], returned: Sequence[Portion]) -> tuple[Portion, ...]:
    """What is still spent per wallet, in the order it was taken."""
    left: dict[int, int] = {}
    for portion in taken:
        left[portion.wallet_id] = left.get(portion.wallet_id, 0) + portion.amount
    for portion in returned:
        left[portion.wallet_id] = left.get(portion.wallet_id, 0) - portion.amount
    return tuple(Portion(w, a) for w, a in left.items() if a > 0)


def split_evenly(total: int, parts: int) -> tuple[int, ...]:
    """Exact split of an integer amount (the first parts take the remainder)."""
    base, extra = divmod(total, parts)
    return tuple(base + (1 if i < extra else 0) for i in range(parts))
