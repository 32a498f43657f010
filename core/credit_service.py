"""Granting credits and reading a balance with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.credits import MAX_GRANT_MILLI, Movement, Portion, Source, Wallet
from core.errors import InsufficientCredits, NotFound
from core.ports import UnitOfWork
from core.staff_access import require_staff_for_company, require_staff_for_person


@dataclass(frozen=True, slots=True)
class Balance:
    wallets: tuple[Wallet, ...]
    history: tuple[tuple[datetime, Movement, int, str, str], ...]  # when, what, millicredits, wallet label, note

    @property
    def available(self) -> int:
        return sum(w.available for w in self.wallets)

    @property
    def held(self) -> int:
        return sum(w.held for w in self.wallets)


def grant(
    uow: UnitOfWork, *, key: str, amount_milli: int, source: Source, person_id: int | None = None,
    company_id: int | None = None, actor_id: int | None = None, note: str = "",
) -> bool:
    """Add credits to a person's or a company's wallet, once per key (a retried grant is a no-op)."""
    if amount_milli <= 0:
        raise ValueError("grant a positive amount")
    if amount_milli > MAX_GRANT_MILLI:
        raise ValueError(f"grant at most {MAX_GRANT_MILLI // 1000} credits at a time")
    if (person_id is None) == (company_id is None):
        raise ValueError("grant to a person or to a company")
    if actor_id is not None:  # staff, only within their programmes; without an actor: the operator (CLI)
        if person_id is not None:
            require_staff_for_person(uow, actor_id, person_id)
        else:
            assert company_id is not None
            require_staff_for_company(uow, actor_id, company_id)
    if source is Source.INDIVIDUAL and person_id is None:
        raise ValueError("individual credits belong to a person")
    wallet = uow.credits.wallet(source=source, person_id=person_id, company_id=company_id)
    if wallet is None:
        raise NotFound("no such wallet", reason="wallet_not_found")
    return uow.credits.apply(f"grant:{key}", Movement.GRANT, [Portion(wallet.id, amount_milli)], note=note)


def revoke(
    uow: UnitOfWork, *, key: str, amount_milli: int, source: Source, person_id: int | None = None,
    company_id: int | None = None, note: str = "",
) -> bool:
    """Take back unused credits; never more than are available (held credits stay held).

    A retried revoke (same key) returns False even if the wallet has been spent since."""
    if (person_id is None) == (company_id is None):
        raise ValueError("revoke from a person or from a company")
    wallet = uow.credits.wallet(source=source, person_id=person_id, company_id=company_id, create=False)
    if wallet is None:
        raise InsufficientCredits("no credits to revoke", needed=amount_milli, available=0)
    return uow.credits.apply(f"revoke:{key}", Movement.REVOKE, [Portion(wallet.id, amount_milli)], note=note)


def available(uow: UnitOfWork, person_id: int) -> int:
    """What the person can spend now, across their wallets (the balance without its history)."""
    return sum(w.available for w in uow.credits.wallets_for(person_id))


def balance(uow: UnitOfWork, person_id: int) -> Balance:
    if uow.people.get(person_id) is None:
        raise NotFound(f"no person {person_id}", reason="person_not_found")
    return Balance(tuple(uow.credits.wallets_for(person_id)), tuple(uow.credits.history(person_id)))
