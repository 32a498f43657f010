"""What a session costs. Exact: Decimal for the arithmetic, integers for the result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.amounts import MILLI, Money, round_half_up
from core.experts import Expert


@dataclass(frozen=True, slots=True)
class Price:
    credits_milli: int  # what the client's wallets pay
    money: Money | None  # what a compensated marketplace expert charges, if priced in money


def meeting_credits_milli(minutes: int, multiplier: Decimal = Decimal(1)) -> int:
    """credits = minutes / 60 x multiplier, rounded half-up to a thousandth of a credit."""
    return round_half_up(Decimal(minutes) * multiplier * MILLI / 60)


def session_price(expert: Expert, minutes: Iterable[int]) -> Price:
    """Pro-bono sessions are free; compensated ones cost credits (and money where a rate is set)."""
    lengths = list(minutes)
    if expert.is_pro_bono:
        return Price(0, None)
    credits = sum(meeting_credits_milli(m, expert.rate_multiplier) for m in lengths)
    money = None
    if expert.hourly_rate is not None:
        rate = expert.hourly_rate
        money = Money(sum(round_half_up(Decimal(rate.minor) * m / 60) for m in lengths), rate.currency)
    return Price(credits, money)
