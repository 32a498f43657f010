"""Exact amounts: credits in integer millicredits, money in integer minor units.

Floats never touch an amount. Credits are shown as decimals (0.5 credit) but
every stored or compared value is an integer count of millicredits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MILLI = 1000
# Amounts people type are refused beyond this many digits before any arithmetic: "1e999999999" would
# otherwise become an integer of a billion digits. Every real amount is far smaller (and checked again
# against its own limit by the caller).
MAX_DIGITS = 15


def credits_to_milli(value: Decimal | int | str) -> int:
    """Parse a credit amount ("1.5", 2, Decimal("0.25")) into millicredits, exactly."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a credit amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a credit amount: {value!r}")
    if amount and amount.adjusted() >= MAX_DIGITS:
        raise ValueError(f"{value} is too large for a credit amount")
    milli = amount * MILLI
    if milli != milli.to_integral_value():
        raise ValueError(f"{value} has more than 3 decimals; credits are counted in thousandths")
    return int(milli)


def milli_to_credits(milli: int) -> Decimal:
    return (Decimal(milli) / MILLI).normalize() if milli else Decimal(0)


def format_credits(milli: int) -> str:
    """0.5, 1, 2.25: no trailing zeros, never scientific notation."""
    value = milli_to_credits(milli)
    text = format(value, "f")
    return text


def round_half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit (cents for USD)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code like USD, not {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor) / 100

    @classmethod
    def parse(cls, amount: str, currency: str) -> Money:
        try:
            value = Decimal(amount)
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {amount!r}") from exc
        if not value.is_finite() or value < 0:
            raise ValueError(f"not an amount: {amount!r}")
        if value and value.adjusted() >= MAX_DIGITS:
            raise ValueError(f"{amount} is too large")
        cents = value * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{amount} has more than 2 decimals")
        return cls(int(cents), currency.upper())
