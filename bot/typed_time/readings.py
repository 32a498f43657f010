"""What a typed time can turn out to be: a small closed set the time picker acts on without reading the text again.

Every instant is aware UTC; every `day` is a local date in the zone the text was read in. Readings that ask
the person something carry each answer already read (`am`/`pm`, `as_dated`/`as_weekday`), so pressing a
choice never means parsing the words a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class PartOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    NIGHT = "night"


class Why(StrEnum):
    """Why a text could not be read; the picker may word each differently."""

    NOT_UNDERSTOOD = "not_understood"  # no date or time in it, or words we do not know
    BARE_NUMBER = "bare_number"  # "8" with no day on screen: a day, a month or an hour?
    NO_SUCH_TIME = "no_such_time"  # "25:00", "10:75", "15am"
    NO_SUCH_DATE = "no_such_date"  # "31 Feb", "2026-13-01", a year far from now
    DATE_ORDER = "date_order"  # "7/12" in English: 7 December or July 12?
    CONFLICTING = "conflicting"  # two times, two dates, "tomorrow 7 Dec" when tomorrow is the 6th
    TOO_LONG = "too_long"  # longer than any date and time needs


@dataclass(frozen=True, slots=True)
class Exact:
    """One instant, nothing to ask (still echoed back for confirmation)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class TwiceOnFallBack:
    """A wall time that happens twice (the clocks go back): offer both, with their UTC offsets."""

    wall: datetime  # naive local wall time, as typed
    first: datetime
    second: datetime
    first_offset: timedelta
    second_offset: timedelta


@dataclass(frozen=True, slots=True)
class NotOnSpringForward:
    """A wall time the clocks skip (they go forward): say so, and offer the next time that exists."""

    wall: datetime  # naive local wall time, as typed
    next_valid: datetime  # the instant the clock jumps: the first valid time after `wall`


# A wall time on a date, as the clock has it: once, twice or never.
OnTheClock = Exact | TwiceOnFallBack | NotOnSpringForward


@dataclass(frozen=True, slots=True)
class DayOnly:
    """A day without a time of day ("tomorrow", "Tue 7 Dec"): show that day's free times."""

    day: date


@dataclass(frozen=True, slots=True)
class Past:
    """Already over. `at` is None when only a day was typed ("yesterday")."""

    at: datetime | None
    day: date


@dataclass(frozen=True, slots=True)
class Vague:
    """A part of a day ("Tuesday afternoon"): `at` is a representative time, [start, end) the whole part."""

    day: date
    part: PartOfDay
    at: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MorningOrEvening:
    """An hour without am/pm ("a las 3", "3 बजे"): both readings, neither in the past.

    The caller keeps those inside the expert's hours: one left is the answer, two are asked about."""

    am: OnTheClock
    pm: OnTheClock


@dataclass(frozen=True, slots=True)
class WeekdayMismatch:
    """A weekday that contradicts the date ("Mon 7 Dec" when 7 Dec is a Tuesday): asked, never fixed silently.

    `as_dated` reads the text on the date typed, `as_weekday` on the day with the typed weekday nearest to it."""

    day: date
    weekday: int  # the weekday typed, 0 = Monday
    weekday_day: date
    as_dated: Reading
    as_weekday: Reading


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Not a time we can read; `example` is a text that would be read, in the person's language."""

    why: Why
    example: str


Reading = (
    Exact | TwiceOnFallBack | NotOnSpringForward | DayOnly | Past | Vague | MorningOrEvening | WeekdayMismatch | Unreadable
)


def instants(reading: Reading) -> tuple[datetime, ...]:
    """Every instant a reading offers, in time order (none for a day, a refusal or a mismatch to ask about)."""
    if isinstance(reading, Exact):
        return (reading.at,)
    if isinstance(reading, TwiceOnFallBack):
        return (reading.first, reading.second)
    if isinstance(reading, NotOnSpringForward):
        return (reading.next_valid,)
    if isinstance(reading, MorningOrEvening):
        return tuple(sorted(instants(reading.am) + instants(reading.pm)))
    return ()
