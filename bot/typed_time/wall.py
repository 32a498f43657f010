"""A wall-clock time on a local date, as the zone has it: once, twice (clocks back) or never (clocks forward)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.typed_time.readings import Exact, NotOnSpringForward, OnTheClock, TwiceOnFallBack

def wall_time(day: date, minutes: int) -> datetime:
    """Naive local wall time `minutes` after midnight of `day` (24:00 is midnight at the end of the day)."""
    return datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)


def on_the_clock(wall: datetime, zone: ZoneInfo) -> OnTheClock:
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return Exact(early)
    if early.astimezone(zone).replace(tzinfo=None) == wall:  # a real reading of the clock, twice
        first, second = sorted((early, late))
        return TwiceOnFallBack(wall, first, second, _offset(first, zone), _offset(second, zone))
    return NotOnSpringForward(wall, _jump(min(early, late), max(early, late), zone))


def first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant for bounds of a part of the day: a repeated time's first, a skipped time's jump."""
    reading = on_the_clock(wall, zone)
    if isinstance(reading, Exact):
        return reading.at
    if isinstance(reading, TwiceOnFallBack):
        return reading.first
    return reading.next_valid


def _offset(at: datetime, zone: ZoneInfo) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _jump(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first second with the offset of `after`, by bisection (a gap is a few hours at most)."""
    target = _offset(after, zone)
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
