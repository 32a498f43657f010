"""What each flow's buttons may carry, declared as plain data and checked before any flow code runs.

A button payload comes back from the chat platform and can be forged (Telegram callback data is whatever
the client sends). Each Flow lists its actions and the arguments each takes; the dispatcher checks a press
against that list, so a wrong action, a wrong number of arguments or a value out of range is answered as an
outdated press in constant time and memory, and never reaches int(), a loop or the database. Valid
arguments still reach on_press as the strings they were; the flows parse them again with the same helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

ID_MAX = 2**31 - 1  # database ids are 32-bit integers on both databases
STAMP_MAX = 2**63 - 1  # a conversation version
SLOT_BEFORE = timedelta(days=1)  # a slot button may be pressed a little after its time: the flow says so
SLOT_AFTER = timedelta(days=400)  # beyond any booking horizon
DAY_BEFORE = timedelta(days=400)
DAY_AFTER = timedelta(days=800)  # "until" dates of a series lie further ahead than a horizon
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Int:
    """A whole number in ASCII digits, lo <= n <= hi (lo >= 0: payloads carry no signs)."""

    lo: int
    hi: int


@dataclass(frozen=True, slots=True)
class Id:
    """A database id: 1 .. 2**31-1. Whether it exists and is the presser's is the use case's question."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """The conversation version a wizard button was shown with (Context.step_button)."""


@dataclass(frozen=True, slots=True)
class Slot:
    """An instant as minutes since the Unix epoch, from a day ago to SLOT_AFTER ahead."""


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar day, YYYY-MM-DD in ASCII, within DAY_BEFORE .. DAY_AFTER of today."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a few fixed words."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A free token (a zone name, a language code): 1..max_len printable characters."""

    max_len: int


@dataclass(frozen=True, slots=True)
class Either:
    """Any one of these (a count or "more"; a slot or "any")."""

    options: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Opt:
    """May be left out; only at the end of an action's arguments."""

    arg: Arg


Arg = Int | Id | Stamp | Slot | Day | Choice | Text | Either | Opt
Actions = Mapping[str, tuple[Arg, ...]]


def ascii_int(text: str, lo: int, hi: int) -> int | None:
    """The number `text` spells in ASCII digits, if lo <= it <= hi; None otherwise.

    str.isdigit() is true for "²" and "٣" (int() then fails or reads them), and int() of a huge string is
    slow: the length is bounded before anything is converted.
    """
    if not text or len(text) > len(str(hi)) or not _DIGITS.issuperset(text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def ints(args: Sequence[str], n: int) -> list[int] | None:
    """Exactly n small non-negative integers, or None for a crafted or garbled payload."""
    if len(args) != n:
        return None
    out = [ascii_int(a, 0, ID_MAX) for a in args]
    return None if None in out else [a for a in out if a is not None]


def slot_minutes(text: str) -> datetime | None:
    """An instant from its epoch-minute form (ASCII, at most 10 digits), unchecked against any range."""
    minutes = ascii_int(text, 0, 9_999_999_999)
    return None if minutes is None else _EPOCH + timedelta(minutes=minutes)


def iso_day(text: str) -> date | None:
    """YYYY-MM-DD in ASCII only (date.fromisoformat also reads other forms and non-ASCII digits)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not _DIGITS.issuperset(text[:4] + text[5:7] + text[8:]):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def accepts(arg: Arg, value: str, now: datetime) -> bool:
    """Does one argument fit its declaration?"""
    if isinstance(arg, Int):
        return ascii_int(value, arg.lo, arg.hi) is not None
    if isinstance(arg, Id):
        return ascii_int(value, 1, ID_MAX) is not None
    if isinstance(arg, Stamp):
        return ascii_int(value, 0, STAMP_MAX) is not None
    if isinstance(arg, Slot):
        at = slot_minutes(value)
        return at is not None and now - SLOT_BEFORE <= at <= now + SLOT_AFTER
    if isinstance(arg, Day):
        day = iso_day(value)
        return day is not None and (now - DAY_BEFORE).date() <= day <= (now + DAY_AFTER).date()
    if isinstance(arg, Choice):
        return value in arg.values
    if isinstance(arg, Text):
        return 0 < len(value) <= arg.max_len and value.isprintable()
    if isinstance(arg, Either):
        return any(accepts(option, value, now) for option in arg.options)
    return accepts(arg.arg, value, now)  # Opt: present, so it must fit


def press_fits(actions: Actions, action: str, args: Sequence[str], now: datetime) -> bool:
    """A press names a declared action, with as many arguments as it takes, each fitting its declaration."""
    spec = actions.get(action)
    if spec is None:
        return False
    required = sum(1 for a in spec if not isinstance(a, Opt))
    if not required <= len(args) <= len(spec):
        return False
    return all(accepts(a, v, now) for a, v in zip(spec, args))
