"""Recurring meetings: the dates of a series and whether each one can be booked.

A series keeps the first meeting's local wall time in the expert's (or the
series') time zone, so a 09:00 weekly call stays at 09:00 across DST changes
and its UTC instant moves instead. The rules:

* WEEKLY / BIWEEKLY step the local date by 7 / 14 days.
* MONTHLY keeps the first meeting's day of month; a month without that day
  (the 31st in April, the 29th-31st in February) uses its last day. Each date
  is derived from the first one, so Jan 31 -> Feb 28 -> Mar 31.
* A wall time that does not exist on a date (inside a spring-forward gap)
  moves forward by the gap length: 02:30 on the day Europe/Berlin jumps from
  02:00 to 03:00 becomes 03:30 local.
* A wall time that happens twice (fall-back) takes its first occurrence.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.availability import check_slot
from core.clock import ensure_utc
from core.schedule import Busy, Schedule, SlotProblem

__all__ = ["MAX_OCCURRENCES", "SERIES_REACH", "Frequency", "OccurrenceCheck", "check_series", "occurrences"]

MAX_OCCURRENCES = 52
# Priority scheduling: a series' later dates may lie beyond the expert's booking horizon (one-off requests
# cannot), up to this far ahead, and are held from the request on, so the time is the series' before the
# horizon ever reaches it.
SERIES_REACH = timedelta(days=366)


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


def _nth_date(first: date, frequency: Frequency, n: int) -> date:
    """The local date of occurrence n (0 = first), computed from the first date so month ends do not drift."""
    if frequency is Frequency.WEEKLY:
        return first + timedelta(days=7 * n)
    if frequency is Frequency.BIWEEKLY:
        return first + timedelta(days=14 * n)
    months = first.year * 12 + (first.month - 1) + n
    year, month = divmod(months, 12)
    month += 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def occurrences(
    first_start: datetime,
    timezone: str,
    frequency: Frequency,
    *,
    count: int | None = None,
    until: date | None = None,
) -> list[datetime]:
    """Start instants (aware UTC) of a series, first_start included, at most MAX_OCCURRENCES.

    Give exactly one of `count` (1..MAX_OCCURRENCES) or `until` (an inclusive
    local date, not before the first meeting's local date; a series that would
    run longer stops after MAX_OCCURRENCES meetings).
    """
    if (count is None) == (until is None):
        raise ValueError("give exactly one of count or until")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise ValueError(f"count must be between 1 and {MAX_OCCURRENCES}, not {count}")
    frequency = Frequency(frequency)
    first = ensure_utc(first_start)
    zone = ZoneInfo(timezone)
    local = first.astimezone(zone)
    first_day = local.date()
    wall = local.time().replace(fold=0)
    if until is not None and until < first_day:
        raise ValueError(f"until {until} is before the first meeting on {first_day}")
    total = count if count is not None else MAX_OCCURRENCES
    out = [first]
    for n in range(1, total):
        day = _nth_date(first_day, frequency, n)
        if until is not None and day > until:
            break
        # fold=0: a gap resolves with the offset before it (moves forward), a repeat to its first time.
        out.append(datetime.combine(day, wall, tzinfo=zone).astimezone(UTC))
    return out


@dataclass(frozen=True)
class OccurrenceCheck:
    start: datetime
    problem: SlotProblem | None


def check_series(
    schedule: Schedule,
    busy: Iterable[Busy],
    starts: Sequence[datetime],
    duration: timedelta,
    now: datetime,
) -> list[OccurrenceCheck]:
    """check_slot for each occurrence; accepted ones become busy so the series cannot
    overlap itself and fills the daily cap like real meetings would. The first date must be inside the
    expert's horizon; the later ones may reach SERIES_REACH ahead (priority scheduling)."""
    taken = list(busy)
    out: list[OccurrenceCheck] = []
    reaching = replace(schedule, rules=replace(schedule.rules, horizon=max(schedule.rules.horizon, SERIES_REACH)))
    for n, start in enumerate(starts):
        start = ensure_utc(start)
        problem = check_slot(schedule if n == 0 else reaching, taken, start, duration, now)
        if problem is None:
            taken.append(Busy(start, start + duration))
        out.append(OccurrenceCheck(start, problem))
    return out
