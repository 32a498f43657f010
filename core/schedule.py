"""An expert's availability as data: weekly windows in local wall time, dated
exceptions, and the booking rules around them. Computation is in availability.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

MINUTES_PER_DAY = 24 * 60
# Slot starts lie on this grid, counted from the start of each stretch of open hours (see availability.py).
SLOT_GRID = timedelta(minutes=15)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True, order=True)
class WeeklyWindow:
    """Every `weekday` (0 = Monday) from start_minute to end_minute, expert's local wall time.

    end_minute may be 1440 (midnight at the end of the day). Stored as local
    wall time so 09:00 stays 09:00 across DST changes.
    """

    weekday: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, not {self.weekday}")
        _check_range(self.start_minute, self.end_minute)

    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {format_minute(self.start_minute)}-{format_minute(self.end_minute)}"


class ExceptionKind(StrEnum):
    OFF = "off"  # remove time (the whole day when no range is given)
    EXTRA = "extra"  # add time on that date


@dataclass(frozen=True, slots=True, order=True)
class DateException:
    day: date
    kind: ExceptionKind
    start_minute: int | None = None
    end_minute: int | None = None

    def __post_init__(self) -> None:
        if (self.start_minute is None) != (self.end_minute is None):
            raise ValueError("give both start and end, or neither")
        if self.start_minute is None:
            if self.kind is ExceptionKind.EXTRA:
                raise ValueError("extra hours need a time range")
        else:
            assert self.end_minute is not None
            _check_range(self.start_minute, self.end_minute)

    @property
    def whole_day(self) -> bool:
        return self.start_minute is None


@dataclass(frozen=True, slots=True)
class BookingRules:
    min_notice: timedelta = timedelta(hours=12)
    horizon: timedelta = timedelta(days=60)
    buffer: timedelta = timedelta(0)
    daily_cap: int | None = None  # most meetings on one local day of the expert


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str  # IANA name, e.g. "Asia/Kolkata"
    weekly: tuple[WeeklyWindow, ...]
    exceptions: tuple[DateException, ...] = ()
    rules: BookingRules = BookingRules()


@dataclass(frozen=True, slots=True, order=True)
class Busy:
    """Time the expert cannot be booked: a confirmed meeting or a tentative hold (aware UTC)."""

    start: datetime
    end: datetime
    counts_toward_cap: bool = True


class SlotProblem(StrEnum):
    """Why a particular start cannot be booked; flows turn these into sentences."""

    PAST = "past"
    TOO_SOON = "too_soon"  # inside the minimum notice
    BEYOND_HORIZON = "beyond_horizon"
    OUTSIDE_AVAILABILITY = "outside_availability"
    OFF_GRID = "off_grid"  # between two slot starts of the expert's grid ("9:07")
    TAKEN = "taken"  # overlaps a meeting, a hold or their buffer
    DAY_FULL = "day_full"  # the daily cap is reached


def _check_range(start: int, end: int) -> None:
    if not (0 <= start < end <= MINUTES_PER_DAY):
        raise ValueError(
            f"time range {format_minute(start)}-{format_minute(end)} must start before it ends, within one day"
        )


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
