"""Individuals buying credits: the packs a deployment sells and the rules of a purchase.

A purchase starts as a pending row whose random token is the invoice's payload (so an invoice carries no
price a client could change), is checked again when the payment provider asks whether to take the money,
and is paid once: the credits are granted under a key built from the payment's charge id, so a payment
delivered twice is counted once. A refund takes the credits back only while they are unspent.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.amounts import credits_to_milli, format_credits
from core.clock import Clock
from core.credit_service import grant, revoke
from core.credits import MAX_GRANT_MILLI, Source
from core.errors import DomainError, InsufficientCredits, InvalidTransition, NotAllowed, NotFound
from core.model import Person
from core.ports import UnitOfWork

STARS = "XTR"  # Telegram Stars: whole stars, no provider token
MAX_PACKS = 6  # buttons in one message, kept readable
MAX_PRICE = 1_000_000_000  # minor units: a typo guard far above any real pack
TOKEN_BYTES = 18  # 24 URL-safe characters, well inside an invoice payload's 128 bytes
_PACK = re.compile(r"(?P<credits>[0-9]{1,6}(?:\.[0-9]{1,3})?):(?P<price>[0-9]{1,10}):(?P<currency>[A-Z]{3})")


class PurchaseStatus(StrEnum):
    PENDING = "pending"  # an invoice was sent; nothing paid yet
    PAID = "paid"  # the credits were granted
    REFUNDED = "refunded"  # the credits were taken back and the money returned


@dataclass(frozen=True, slots=True)
class Pack:
    """So many credits for so much money: price in the currency's minor unit (cents; whole stars for XTR)."""

    credits_milli: int
    price_minor: int
    currency: str

    def spec(self) -> str:
        return f"{format_credits(self.credits_milli)}:{self.price_minor}:{self.currency}"


@dataclass(slots=True)
class Purchase:
    id: int | None
    token: str  # the invoice payload: random, so it names the purchase without saying anything else
    person_id: int
    credits_milli: int
    price_minor: int
    currency: str
    status: PurchaseStatus
    created_at: datetime
    paid_at: datetime | None = None
    telegram_charge_id: str | None = None  # Telegram's id of the payment: unique, the idempotency key
    provider_charge_id: str | None = None  # the payment provider's id (empty for Stars)
    refunded_at: datetime | None = None

    @property
    def pack(self) -> Pack:
        return Pack(self.credits_milli, self.price_minor, self.currency)


class Purchases(Protocol):
    def add(self, purchase: Purchase) -> Purchase: ...
    def by_token(self, token: str, *, for_update: bool = False) -> Purchase | None: ...
    def by_charge(self, telegram_charge_id: str, *, for_update: bool = False) -> Purchase | None: ...
    def mark_paid(self, purchase_id: int, telegram_charge_id: str, provider_charge_id: str, at: datetime) -> bool:
        """Pending -> paid with these charge ids; False (no change) when it is not pending any more."""
        ...
    def mark_refunded(self, purchase_id: int, at: datetime) -> bool:
        """Paid -> refunded; False (no change) when it is not paid."""
        ...
    def for_person(self, person_id: int, limit: int = 10) -> list[Purchase]:
        """Paid and refunded purchases, newest first (the receipts)."""
        ...


class PurchaseUnit(UnitOfWork, Protocol):
    @property
    def purchases(self) -> Purchases: ...


class PaymentRefused(DomainError):
    """A payment that does not match its purchase. Reasons: purchase_unknown, purchase_not_yours,
    purchase_not_pending, purchase_amount_mismatch."""

    reason = "payment_refused"


def parse_packs(raw: str) -> tuple[Pack, ...]:
    """"5:2500:USD,10:4500:USD" as packs, strictly: ValueError says which part is wrong (one line)."""
    items = [item.strip() for item in raw.split(",")]
    if not raw.strip() or any(not item for item in items):
        raise ValueError(f"an empty pack in {raw.strip()!r}")
    if len(items) > MAX_PACKS:
        raise ValueError(f"at most {MAX_PACKS} packs, not {len(items)}")
    packs: list[Pack] = []
    for item in items:
        match = _PACK.fullmatch(item)
        if match is None:
            raise ValueError(f"{item[:40]!r} is not credits:price:currency (e.g. 5:2500:USD)")
        credits = credits_to_milli(match["credits"])
        price = int(match["price"])
        if not 0 < credits <= MAX_GRANT_MILLI:
            raise ValueError(f"{item!r}: credits must be above 0 and at most {MAX_GRANT_MILLI // 1000}")
        if not 0 < price <= MAX_PRICE:
            raise ValueError(f"{item!r}: the price must be a whole number of minor units above 0")
        pack = Pack(credits, price, match["currency"])
        if pack in packs:
            raise ValueError(f"{item!r} is listed twice")
        packs.append(pack)
    return tuple(packs)


def is_individual(person: Person) -> bool:
    """Someone on the open marketplace: no company, so no programme staff to ask; they buy their own."""
    return person.company_id is None


def grant_key(telegram_charge_id: str) -> str:
    return f"purchase:{telegram_charge_id}"


def refund_key(telegram_charge_id: str) -> str:
    return f"purchase-refund:{telegram_charge_id}"


def start_purchase(uow: PurchaseUnit, clock: Clock, *, person: Person, pack: Pack, offered: Sequence[Pack]) -> Purchase:
    """A pending purchase of one of the packs on offer; its token goes into the invoice."""
    if person.id is None or not is_individual(person):
        raise NotAllowed("founders get credits from their programme", reason="purchase_founder")
    if pack not in offered:
        raise NotFound(f"no pack {pack.spec()}", reason="pack_unknown")
    return uow.purchases.add(Purchase(
        None, secrets.token_urlsafe(TOKEN_BYTES), person.id, pack.credits_milli, pack.price_minor, pack.currency,
        PurchaseStatus.PENDING, clock.now(),
    ))


def checkout_problem(uow: PurchaseUnit, *, person_id: int | None, token: str, currency: str, total: int) -> str | None:
    """Before any money moves: None when this person may pay this amount for this purchase, else the reason."""
    purchase = uow.purchases.by_token(token)
    return _problem(purchase, person_id, currency, total)


def _problem(purchase: Purchase | None, person_id: int | None, currency: str, total: int) -> str | None:
    if purchase is None:
        return "purchase_unknown"
    if person_id is None or purchase.person_id != person_id:
        return "purchase_not_yours"
    if purchase.status is not PurchaseStatus.PENDING:
        return "purchase_not_pending"
    if purchase.currency != currency or purchase.price_minor != total:
        return "purchase_amount_mismatch"
    return None


@dataclass(frozen=True, slots=True)
class Payment:
    """What the provider reports once the money is taken."""

    token: str
    currency: str
    total: int
    telegram_charge_id: str
    provider_charge_id: str = ""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    purchase: Purchase
    granted: bool  # False: this charge was counted before (a repeated delivery)


def complete_payment(uow: PurchaseUnit, clock: Clock, *, person_id: int, payment: Payment) -> PaymentResult:
    """Grant the pack's credits once per charge id; a repeat of the same charge grants nothing."""
    if not payment.telegram_charge_id:
        raise PaymentRefused("a payment without a charge id", reason="purchase_unknown")
    seen = uow.purchases.by_charge(payment.telegram_charge_id)
    if seen is not None:
        return PaymentResult(seen, granted=False)
    purchase = uow.purchases.by_token(payment.token, for_update=True)
    if purchase is not None and purchase.telegram_charge_id == payment.telegram_charge_id:
        return PaymentResult(purchase, granted=False)  # paid meanwhile by the same charge (a racing repeat)
    problem = _problem(purchase, person_id, payment.currency, payment.total)
    if problem is not None or purchase is None or purchase.id is None:
        raise PaymentRefused(f"payment {payment.telegram_charge_id} refused: {problem}", reason=problem)
    now = clock.now()
    if not uow.purchases.mark_paid(purchase.id, payment.telegram_charge_id, payment.provider_charge_id, now):
        raise PaymentRefused(f"purchase {purchase.id} is not pending", reason="purchase_not_pending")
    granted = grant(uow, key=grant_key(payment.telegram_charge_id), amount_milli=purchase.credits_milli,
                    source=Source.INDIVIDUAL, person_id=purchase.person_id)
    purchase.status, purchase.paid_at = PurchaseStatus.PAID, now
    purchase.telegram_charge_id, purchase.provider_charge_id = payment.telegram_charge_id, payment.provider_charge_id
    return PaymentResult(purchase, granted=granted)


def refund(uow: PurchaseUnit, clock: Clock, *, telegram_charge_id: str) -> Purchase:
    """Take a paid purchase's credits back, only while all of them are still available (never below zero):
    InsufficientCredits says how many are left when some were spent or are held for a request."""
    purchase = uow.purchases.by_charge(telegram_charge_id, for_update=True)
    if purchase is None or purchase.id is None:
        raise NotFound(f"no purchase with charge id {telegram_charge_id}", reason="purchase_unknown")
    if purchase.status is not PurchaseStatus.PAID:
        raise InvalidTransition(f"purchase {purchase.id} is {purchase.status}", reason="purchase_not_paid")
    wallet = uow.credits.wallet(source=Source.INDIVIDUAL, person_id=purchase.person_id, create=False)
    have = wallet.available if wallet is not None else 0
    if have < purchase.credits_milli:
        raise InsufficientCredits(
            f"{format_credits(purchase.credits_milli)} credits bought, {format_credits(have)} still unspent",
            needed=purchase.credits_milli, available=have,
        )
    revoke(uow, key=refund_key(telegram_charge_id), amount_milli=purchase.credits_milli, source=Source.INDIVIDUAL,
           person_id=purchase.person_id)
    now = clock.now()
    if not uow.purchases.mark_refunded(purchase.id, now):
        raise InvalidTransition(f"purchase {purchase.id} changed meanwhile", reason="purchase_not_paid")
    purchase.status, purchase.refunded_at = PurchaseStatus.REFUNDED, now
    return purchase
