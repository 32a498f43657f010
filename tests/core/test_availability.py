"""Free slots: worked examples per zone and rule, then property tests over every IANA zone.

The property tests compare against a brute force that reads the local wall
clock of single instants with zoneinfo, so they do not share code with the
implementation's segment arithmetic.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.availability import (
    availability_intervals,
    check_slot,
    first_free_slot,
    free_slots,
    local_day_bounds,
    nearest_free_slots,
)
from core.schedule import (
    SLOT_GRID,
    BookingRules,
    Busy,
    DateException,
    ExceptionKind,
    Schedule,
    SlotProblem,
    WeeklyWindow,
)

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN_RULES = BookingRules(min_notice=timedelta(0), horizon=timedelta(days=60))
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    """A local wall time in tz, as aware UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def hm(h: int, m: int = 0) -> int:
    return h * 60 + m


def window(weekday: int, start: str, end: str) -> WeeklyWindow:
    sh, sm = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    return WeeklyWindow(weekday, hm(sh, sm), hm(eh, em))


def schedule(
    tz: str,
    *windows: WeeklyWindow,
    exceptions: tuple[DateException, ...] = (),
    min_notice: timedelta = OPEN_RULES.min_notice,
    horizon: timedelta = OPEN_RULES.horizon,
    buffer: timedelta = OPEN_RULES.buffer,
    daily_cap: int | None = None,
) -> Schedule:
    return Schedule(tz, tuple(windows), exceptions, BookingRules(min_notice, horizon, buffer, daily_cap))


def open_hours(s: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """Available intervals of one local date (neighbouring dates' hours cut off)."""
    a, b = local_day_bounds(s.timezone, day)
    return availability_intervals(s, a, b)


def total(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    return sum((b - a for a, b in intervals), timedelta(0))


def weekdays_9_to_5(
    tz: str,
    exceptions: tuple[DateException, ...] = (),
    min_notice: timedelta = OPEN_RULES.min_notice,
    horizon: timedelta = OPEN_RULES.horizon,
    buffer: timedelta = OPEN_RULES.buffer,
    daily_cap: int | None = None,
) -> Schedule:
    return schedule(
        tz, *(window(d, "09:00", "17:00") for d in range(5)), exceptions=exceptions,
        min_notice=min_notice, horizon=horizon, buffer=buffer, daily_cap=daily_cap,
    )


# ---------------------------------------------------------------------------
# A plain week
# ---------------------------------------------------------------------------


def test_plain_week_slots_on_a_quarter_hour_grid() -> None:
    s = weekdays_9_to_5("Europe/Berlin")
    now = at("Europe/Berlin", 2026, 1, 11, 12)  # Sunday
    slots = free_slots(s, [], 30 * MIN, now, end=at("Europe/Berlin", 2026, 1, 18))
    assert len(slots) == 5 * 31  # 09:00 .. 16:30 every quarter hour, Mon-Fri
    assert slots[0] == at("Europe/Berlin", 2026, 1, 12, 9)
    assert slots[30] == at("Europe/Berlin", 2026, 1, 12, 16, 30)
    assert slots[31] == at("Europe/Berlin", 2026, 1, 13, 9)
    assert slots[-1] == at("Europe/Berlin", 2026, 1, 16, 16, 30)
    assert all(b - a == 15 * MIN for a, b in zip(slots, slots[1:]) if a.date() == b.date())
    assert all(x.tzinfo is UTC for x in slots)


def test_step_and_limit() -> None:
    s = weekdays_9_to_5("Europe/Berlin")
    now = at("Europe/Berlin", 2026, 1, 11, 12)
    hourly = free_slots(s, [], HOUR, now, step=HOUR, limit=3)
    assert hourly == [at("Europe/Berlin", 2026, 1, 12, h) for h in (9, 10, 11)]
    assert free_slots(s, [], HOUR, now, limit=0) == []


def test_first_free_slot() -> None:
    s = weekdays_9_to_5("Europe/Berlin")
    now = at("Europe/Berlin", 2026, 1, 11, 12)
    busy = [Busy(at("Europe/Berlin", 2026, 1, 12, 9), at("Europe/Berlin", 2026, 1, 12, 10))]
    assert first_free_slot(s, busy, 30 * MIN, now) == at("Europe/Berlin", 2026, 1, 12, 10)
    later = at("Europe/Berlin", 2026, 1, 14, 13, 5)
    assert first_free_slot(s, busy, 30 * MIN, now, start=later) == at("Europe/Berlin", 2026, 1, 14, 13, 15)
    assert first_free_slot(schedule("Europe/Berlin"), [], 30 * MIN, now) is None


def test_first_free_slot_far_ahead() -> None:
    # only two dated extra hours, 20 and 40 days out: the search has to go past its first week
    extra = (
        DateException(date(2026, 2, 1), ExceptionKind.EXTRA, hm(10), hm(11)),
        DateException(date(2026, 2, 21), ExceptionKind.EXTRA, hm(10), hm(11)),
    )
    s = schedule("Europe/Berlin", exceptions=extra)
    now = at("Europe/Berlin", 2026, 1, 12, 12)
    assert first_free_slot(s, iter([]), HOUR, now) == at("Europe/Berlin", 2026, 2, 1, 10)
    busy = (Busy(at("Europe/Berlin", 2026, 2, 1, 10, 30), at("Europe/Berlin", 2026, 2, 1, 11)),)
    assert first_free_slot(s, busy, HOUR, now) == at("Europe/Berlin", 2026, 2, 21, 10)
    assert first_free_slot(s, busy, 2 * HOUR, now) is None


# ---------------------------------------------------------------------------
# DST and odd offsets
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 2),  # 02:00-03:00 does not exist
        ("Europe/Berlin", date(2026, 10, 25), 4),  # 02:00-03:00 happens twice
        ("Europe/Berlin", date(2026, 3, 22), 3),
        ("America/New_York", date(2026, 3, 8), 2),
        ("America/New_York", date(2026, 11, 1), 4),
        ("Australia/Sydney", date(2026, 10, 4), 2),  # southern spring: clocks go forward in October
        ("Australia/Sydney", date(2026, 4, 5), 4),
    ],
)
def test_one_to_four_am_across_dst(tz: str, day: date, hours: int) -> None:
    s = schedule(tz, WeeklyWindow(day.weekday(), hm(1), hm(4)))
    intervals = open_hours(s, day)
    assert len(intervals) == 1  # the real hours are contiguous
    assert total(intervals) == hours * HOUR
    assert intervals[0][0] == at(tz, day.year, day.month, day.day, 1)


def test_berlin_fall_back_offers_the_repeated_hour_twice() -> None:
    s = schedule("Europe/Berlin", WeeklyWindow(SUN, hm(1), hm(4)))
    now = utc(2026, 10, 20)
    slots = free_slots(s, [], HOUR, now, step=HOUR, start=utc(2026, 10, 24), end=utc(2026, 10, 26))
    # 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET
    assert slots == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)]
    local = [x.astimezone(ZoneInfo("Europe/Berlin")) for x in slots]
    assert [x.hour for x in local] == [1, 2, 2, 3]


def test_berlin_spring_forward_skips_the_missing_hour() -> None:
    s = schedule("Europe/Berlin", WeeklyWindow(SUN, hm(1), hm(4)))
    now = utc(2026, 3, 20)
    slots = free_slots(s, [], HOUR, now, step=HOUR, start=utc(2026, 3, 28), end=utc(2026, 3, 30))
    assert slots == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)]  # 01:00 CET, 03:00 CEST
    assert check_slot(s, [], utc(2026, 3, 29, 1, 30), HOUR, now) is SlotProblem.OUTSIDE_AVAILABILITY


def test_nine_am_stays_nine_am_across_dst() -> None:
    s = weekdays_9_to_5("Europe/Berlin")
    now = utc(2026, 3, 20)
    slots = free_slots(s, [], HOUR, now, step=8 * HOUR, end=utc(2026, 4, 1))
    mondays = [x for x in slots if x.astimezone(ZoneInfo("Europe/Berlin")).weekday() == MON]
    assert mondays == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]  # 09:00 CET, then 09:00 CEST


def test_new_york_nine_am_in_utc() -> None:
    s = weekdays_9_to_5("America/New_York")
    winter = free_slots(s, [], HOUR, utc(2026, 1, 4), limit=1)
    summer = free_slots(s, [], HOUR, utc(2026, 7, 5), limit=1)
    assert winter == [utc(2026, 1, 5, 14)]  # EST
    assert summer == [utc(2026, 7, 6, 13)]  # EDT


@pytest.mark.parametrize(
    ("tz", "first"),
    [
        ("Asia/Kolkata", utc(2026, 1, 5, 3, 30)),  # +05:30
        ("Asia/Kathmandu", utc(2026, 1, 5, 3, 15)),  # +05:45
        ("Australia/Lord_Howe", utc(2026, 1, 4, 22)),  # +11:00 in (southern) summer
        ("Australia/Sydney", utc(2026, 1, 4, 22)),
        ("Pacific/Chatham", utc(2026, 1, 4, 19, 15)),  # +13:45
    ],
)
def test_non_hour_offsets(tz: str, first: datetime) -> None:
    s = schedule(tz, window(MON, "09:00", "10:00"))
    assert free_slots(s, [], 30 * MIN, utc(2026, 1, 1), limit=1) == [first]
    assert free_slots(s, [], 30 * MIN, utc(2026, 1, 1), limit=3)[2] == first + 30 * MIN


def test_lord_howe_half_hour_dst() -> None:
    s = schedule("Australia/Lord_Howe", WeeklyWindow(SUN, hm(1), hm(3)))
    assert total(open_hours(s, date(2026, 4, 5))) == 150 * MIN  # 01:30-02:00 twice
    assert total(open_hours(s, date(2026, 10, 4))) == 90 * MIN  # 02:00-02:30 missing


def test_sydney_nine_am_moves_in_utc_in_april() -> None:
    s = weekdays_9_to_5("Australia/Sydney")
    slots = free_slots(s, [], HOUR, utc(2026, 3, 28), step=8 * HOUR, end=utc(2026, 4, 8))
    mondays = [x for x in slots if x.astimezone(ZoneInfo("Australia/Sydney")).weekday() == MON]
    assert mondays == [utc(2026, 3, 29, 22), utc(2026, 4, 5, 23)]  # AEDT +11, then AEST +10


def test_local_day_bounds() -> None:
    a, b = local_day_bounds("Europe/Berlin", date(2026, 3, 29))
    assert (a, b - a) == (utc(2026, 3, 28, 23), 23 * HOUR)
    a, b = local_day_bounds("Europe/Berlin", date(2026, 10, 25))
    assert (a, b - a) == (utc(2026, 10, 24, 22), 25 * HOUR)
    a, b = local_day_bounds("Pacific/Apia", date(2011, 12, 30))  # Samoa skipped this date
    assert a == b == utc(2011, 12, 30, 10)


def test_samoa_skipped_day_has_no_hours() -> None:
    s = schedule("Pacific/Apia", *(WeeklyWindow(d, hm(9), hm(17)) for d in range(7)))
    assert open_hours(s, date(2011, 12, 30)) == []
    assert total(open_hours(s, date(2011, 12, 31))) == 8 * HOUR


# ---------------------------------------------------------------------------
# Rules: buffer, notice, horizon, cap
# ---------------------------------------------------------------------------

TZ = "Europe/Berlin"
NOW = at(TZ, 2026, 1, 11, 12)  # Sunday noon
MONDAY = (at(TZ, 2026, 1, 12), at(TZ, 2026, 1, 13))


def monday_slots(s: Schedule, busy: list[Busy], duration: timedelta = 30 * MIN) -> list[datetime]:
    return free_slots(s, busy, duration, NOW, start=MONDAY[0], end=MONDAY[1])


def test_busy_without_buffer_touching_is_fine() -> None:
    s = weekdays_9_to_5(TZ)
    busy = [Busy(at(TZ, 2026, 1, 12, 10), at(TZ, 2026, 1, 12, 11))]
    slots = monday_slots(s, busy)
    assert at(TZ, 2026, 1, 12, 9, 30) in slots
    assert at(TZ, 2026, 1, 12, 11) in slots
    assert not any(at(TZ, 2026, 1, 12, 9, 45) <= x < at(TZ, 2026, 1, 12, 11) for x in slots)


def test_buffer_widens_busy_on_both_sides() -> None:
    s = weekdays_9_to_5(TZ, buffer=15 * MIN)
    busy = [Busy(at(TZ, 2026, 1, 12, 10), at(TZ, 2026, 1, 12, 11))]
    slots = monday_slots(s, busy)
    assert at(TZ, 2026, 1, 12, 9, 15) in slots  # ends 09:45, the buffer starts there
    assert at(TZ, 2026, 1, 12, 9, 30) not in slots
    assert at(TZ, 2026, 1, 12, 11) not in slots
    assert at(TZ, 2026, 1, 12, 11, 15) in slots


def test_grid_resumes_on_the_interval_grid_after_an_off_grid_meeting() -> None:
    s = weekdays_9_to_5(TZ)
    busy = [Busy(at(TZ, 2026, 1, 12, 10, 5), at(TZ, 2026, 1, 12, 10, 20))]
    slots = monday_slots(s, busy)
    assert at(TZ, 2026, 1, 12, 9, 30) in slots
    assert at(TZ, 2026, 1, 12, 9, 45) not in slots
    assert at(TZ, 2026, 1, 12, 10, 30) in slots
    assert all((x - slots[0]) % (15 * MIN) == timedelta(0) for x in slots)


def test_min_notice_and_off_grid_now() -> None:
    s = weekdays_9_to_5(TZ, min_notice=2 * HOUR)
    now = at(TZ, 2026, 1, 12, 8, 7)
    assert first_free_slot(s, [], 30 * MIN, now) == at(TZ, 2026, 1, 12, 10, 15)
    s12 = weekdays_9_to_5(TZ, min_notice=12 * HOUR)
    assert first_free_slot(s12, [], 30 * MIN, at(TZ, 2026, 1, 12, 8)) == at(TZ, 2026, 1, 13, 9)


def test_horizon_is_inclusive() -> None:
    s = weekdays_9_to_5(TZ, horizon=DAY)
    now = at(TZ, 2026, 1, 12, 10)
    slots = free_slots(s, [], 30 * MIN, now)
    assert slots[0] == now
    assert slots[-1] == now + DAY  # Tuesday 10:00 exactly at the horizon
    assert check_slot(s, [], now + DAY, 30 * MIN, now) is None
    assert check_slot(s, [], now + DAY + MIN, 30 * MIN, now) is SlotProblem.BEYOND_HORIZON


def test_daily_cap_counts_meetings_by_local_date() -> None:
    tz = "Asia/Tokyo"
    s = weekdays_9_to_5(tz, daily_cap=2)
    now = at(tz, 2026, 1, 11, 12)
    tuesday = (at(tz, 2026, 1, 13), at(tz, 2026, 1, 14))
    # 00:30 and 01:30 Tokyo time on Tuesday are still Monday in UTC
    busy = [
        Busy(at(tz, 2026, 1, 13, 0, 30), at(tz, 2026, 1, 13, 1)),
        Busy(at(tz, 2026, 1, 13, 1, 30), at(tz, 2026, 1, 13, 2)),
    ]
    assert busy[0].start.date() == date(2026, 1, 12)
    assert free_slots(s, busy, 30 * MIN, now, start=tuesday[0], end=tuesday[1]) == []
    assert len(free_slots(s, busy, 30 * MIN, now, start=at(tz, 2026, 1, 12), end=at(tz, 2026, 1, 13))) == 31
    assert check_slot(s, busy, at(tz, 2026, 1, 13, 10), 30 * MIN, now) is SlotProblem.DAY_FULL
    # a hold that does not count toward the cap frees the day again
    soft = [busy[0], Busy(busy[1].start, busy[1].end, counts_toward_cap=False)]
    assert len(free_slots(s, soft, 30 * MIN, now, start=tuesday[0], end=tuesday[1])) == 31


def test_daily_cap_of_zero_blocks_everything() -> None:
    s = weekdays_9_to_5(TZ, daily_cap=0)
    assert free_slots(s, [], 30 * MIN, NOW) == []


# ---------------------------------------------------------------------------
# Exceptions and merging
# ---------------------------------------------------------------------------


def test_whole_day_off() -> None:
    s = weekdays_9_to_5(TZ, exceptions=(DateException(date(2026, 1, 12), ExceptionKind.OFF),))
    assert monday_slots(s, []) == []
    assert open_hours(s, date(2026, 1, 13)) != []


def test_whole_day_off_then_extra_hours() -> None:
    exceptions = (
        DateException(date(2026, 1, 12), ExceptionKind.OFF),
        DateException(date(2026, 1, 12), ExceptionKind.EXTRA, hm(18), hm(19)),
    )
    s = weekdays_9_to_5(TZ, exceptions=exceptions)
    assert open_hours(s, date(2026, 1, 12)) == [(at(TZ, 2026, 1, 12, 18), at(TZ, 2026, 1, 12, 19))]


def test_partial_off() -> None:
    s = weekdays_9_to_5(TZ, exceptions=(DateException(date(2026, 1, 12), ExceptionKind.OFF, hm(12), hm(14)),))
    assert open_hours(s, date(2026, 1, 12)) == [
        (at(TZ, 2026, 1, 12, 9), at(TZ, 2026, 1, 12, 12)),
        (at(TZ, 2026, 1, 12, 14), at(TZ, 2026, 1, 12, 17)),
    ]


def test_extra_on_a_free_weekend_and_extending_a_day() -> None:
    exceptions = (
        DateException(date(2026, 1, 17), ExceptionKind.EXTRA, hm(10), hm(12)),
        DateException(date(2026, 1, 12), ExceptionKind.EXTRA, hm(16), hm(19)),
    )
    s = weekdays_9_to_5(TZ, exceptions=exceptions)
    assert open_hours(s, date(2026, 1, 17)) == [(at(TZ, 2026, 1, 17, 10), at(TZ, 2026, 1, 17, 12))]
    assert open_hours(s, date(2026, 1, 12)) == [(at(TZ, 2026, 1, 12, 9), at(TZ, 2026, 1, 12, 19))]


def test_adjacent_windows_merge() -> None:
    s = schedule(TZ, window(MON, "09:00", "12:00"), window(MON, "12:00", "15:00"))
    slots = monday_slots(s, [], HOUR)
    assert at(TZ, 2026, 1, 12, 11, 30) in slots
    assert open_hours(s, date(2026, 1, 12)) == [(at(TZ, 2026, 1, 12, 9), at(TZ, 2026, 1, 12, 15))]


def test_windows_merge_across_midnight() -> None:
    s = schedule(TZ, window(MON, "23:00", "24:00"), window(TUE, "00:00", "01:00"))
    slots = free_slots(s, [], HOUR, NOW, end=at(TZ, 2026, 1, 14))
    assert at(TZ, 2026, 1, 12, 23, 30) in slots
    assert len(slots) == 5  # 23:00 .. 00:00 every quarter hour


def test_grid_anchor_survives_narrowing_of_a_multi_day_interval() -> None:
    # Mon 20:10 .. Wed 04:00 is one interval; its grid is 20:10 + k * 15 min.
    s = schedule(TZ, window(MON, "20:10", "24:00"), window(TUE, "00:00", "24:00"), window(WED, "00:00", "04:00"))
    whole = free_slots(s, [], 30 * MIN, NOW, end=at(TZ, 2026, 1, 15))
    narrow = free_slots(s, [], 30 * MIN, NOW, start=at(TZ, 2026, 1, 14, 1, 7), end=at(TZ, 2026, 1, 15))
    assert narrow[0] == at(TZ, 2026, 1, 14, 1, 10)
    assert narrow == [x for x in whole if x >= at(TZ, 2026, 1, 14, 1, 7)]


def test_around_the_clock_is_anchored_at_the_epoch() -> None:
    s = schedule("Asia/Kathmandu", *(WeeklyWindow(d, 0, 1440) for d in range(7)))
    now = utc(2026, 1, 11, 12, 7)
    slots = free_slots(s, [], 30 * MIN, now, limit=2)
    assert slots == [utc(2026, 1, 11, 12, 15), utc(2026, 1, 11, 12, 30)]


# ---------------------------------------------------------------------------
# check_slot
# ---------------------------------------------------------------------------


def test_check_slot_refuses_an_off_grid_start() -> None:
    # Until issue 14 an off-grid typed start ("3:10pm") was accepted; the grid is now the engine's rule.
    s = weekdays_9_to_5(TZ)
    typed = at(TZ, 2026, 1, 12, 15, 10)  # "3:10pm"
    assert typed not in monday_slots(s, [])
    assert check_slot(s, [], typed, 30 * MIN, NOW) is SlotProblem.OFF_GRID
    assert check_slot(s, [], typed + 5 * MIN, 30 * MIN, NOW) is None
    assert check_slot(s, [], typed + timedelta(seconds=1), 30 * MIN, NOW) is SlotProblem.OFF_GRID
    assert check_slot(s, [], at(TZ, 2026, 1, 12, 16, 40), 30 * MIN, NOW) is SlotProblem.OUTSIDE_AVAILABILITY
    # outside the hours is said first; a taken or full day only for starts on the grid
    busy = [Busy(at(TZ, 2026, 1, 12, 15), at(TZ, 2026, 1, 12, 16))]
    assert check_slot(s, busy, typed, 30 * MIN, NOW) is SlotProblem.OFF_GRID


def test_the_grid_counts_from_the_start_of_the_open_hours() -> None:
    # Hours from 09:10: the grid is 09:10, 09:25, ... and a quarter hour of the clock is off it.
    s = schedule(TZ, window(MON, "09:10", "12:00"))
    assert check_slot(s, [], at(TZ, 2026, 1, 12, 9, 25), 30 * MIN, NOW) is None
    assert check_slot(s, [], at(TZ, 2026, 1, 12, 9, 30), 30 * MIN, NOW) is SlotProblem.OFF_GRID
    # a stretch that runs across midnight keeps the grid of its start
    s = schedule(TZ, window(MON, "22:10", "24:00"), window(TUE, "00:00", "02:00"))
    assert check_slot(s, [], at(TZ, 2026, 1, 13, 0, 40), 30 * MIN, NOW) is None
    assert check_slot(s, [], at(TZ, 2026, 1, 13, 0, 30), 30 * MIN, NOW) is SlotProblem.OFF_GRID
    # around the clock, every quarter hour of UTC (every quarter hour of every clock in use today)
    s = schedule("Asia/Kathmandu", *(WeeklyWindow(d, 0, 1440) for d in range(7)))
    assert check_slot(s, [], utc(2026, 1, 12, 3, 45), 30 * MIN, NOW) is None
    assert check_slot(s, [], utc(2026, 1, 12, 3, 50), 30 * MIN, NOW) is SlotProblem.OFF_GRID


def test_nearest_free_slots_around_an_off_grid_start() -> None:
    s = weekdays_9_to_5(TZ)
    busy = [Busy(at(TZ, 2026, 1, 12, 9), at(TZ, 2026, 1, 12, 9, 30))]
    assert nearest_free_slots(s, busy, at(TZ, 2026, 1, 12, 9, 7), 30 * MIN, NOW) == (at(TZ, 2026, 1, 12, 9, 30),)
    assert nearest_free_slots(s, busy, at(TZ, 2026, 1, 12, 10, 7), 30 * MIN, NOW) == (
        at(TZ, 2026, 1, 12, 10), at(TZ, 2026, 1, 12, 10, 15))
    # nothing after it within 12 hours: only the one before
    assert nearest_free_slots(s, busy, at(TZ, 2026, 1, 12, 16, 40), 30 * MIN, NOW) == (at(TZ, 2026, 1, 12, 16, 30),)


def test_check_slot_reasons_in_order() -> None:
    s = weekdays_9_to_5(TZ, min_notice=2 * HOUR, horizon=14 * DAY, buffer=10 * MIN, daily_cap=1)
    now = at(TZ, 2026, 1, 12, 9)
    meeting = Busy(at(TZ, 2026, 1, 13, 12), at(TZ, 2026, 1, 13, 13))
    busy = [meeting]
    dur = 30 * MIN
    # PAST beats everything else, even a start outside the open hours
    assert check_slot(s, busy, at(TZ, 2026, 1, 12, 3), dur, now) is SlotProblem.PAST
    assert check_slot(s, busy, at(TZ, 2026, 1, 12, 10), dur, now) is SlotProblem.TOO_SOON
    assert check_slot(s, busy, at(TZ, 2026, 1, 30, 10), dur, now) is SlotProblem.BEYOND_HORIZON
    assert check_slot(s, busy, at(TZ, 2026, 1, 13, 20), dur, now) is SlotProblem.OUTSIDE_AVAILABILITY
    assert check_slot(s, busy, at(TZ, 2026, 1, 13, 16, 45), dur, now) is SlotProblem.OUTSIDE_AVAILABILITY
    # the day holds one meeting already: DAY_FULL is reported before TAKEN
    assert check_slot(s, busy, at(TZ, 2026, 1, 13, 12, 30), dur, now) is SlotProblem.DAY_FULL
    uncapped = weekdays_9_to_5(TZ, min_notice=2 * HOUR, horizon=14 * DAY, buffer=10 * MIN)
    assert check_slot(uncapped, busy, at(TZ, 2026, 1, 13, 13), dur, now) is SlotProblem.TAKEN  # buffer
    assert check_slot(uncapped, busy, at(TZ, 2026, 1, 13, 13, 15), dur, now) is None
    # the buffer's end is a start on a 5-minute grid (the engine's grid is 15 minutes: 13:10 is off it)
    assert check_slot(uncapped, busy, at(TZ, 2026, 1, 13, 13, 5), dur, now, grid=5 * MIN) is SlotProblem.TAKEN
    assert check_slot(uncapped, busy, at(TZ, 2026, 1, 13, 13, 10), dur, now, grid=5 * MIN) is None
    assert check_slot(s, busy, at(TZ, 2026, 1, 14, 10), dur, now) is None


def test_check_slot_agrees_with_free_slots_on_a_busy_week() -> None:
    s = weekdays_9_to_5(TZ, buffer=5 * MIN, min_notice=HOUR)
    busy = [Busy(at(TZ, 2026, 1, 12 + d, 9 + d), at(TZ, 2026, 1, 12 + d, 10 + d, 20)) for d in range(5)]
    slots = set(free_slots(s, busy, 45 * MIN, NOW, end=at(TZ, 2026, 1, 17)))
    t = at(TZ, 2026, 1, 12)
    while t < at(TZ, 2026, 1, 17):
        assert (check_slot(s, busy, t, 45 * MIN, NOW) is None) == (t in slots), t
        t += 15 * MIN


def test_naive_datetimes_are_rejected() -> None:
    s = weekdays_9_to_5(TZ)
    naive = datetime(2026, 1, 12, 10)
    with pytest.raises(ValueError):
        free_slots(s, [], 30 * MIN, naive)
    with pytest.raises(ValueError):
        free_slots(s, [Busy(naive, naive + HOUR)], 30 * MIN, NOW)
    with pytest.raises(ValueError):
        check_slot(s, [], naive, 30 * MIN, NOW)
    with pytest.raises(ValueError):
        availability_intervals(s, naive, naive + DAY)


def test_duration_and_step_must_be_positive() -> None:
    s = weekdays_9_to_5(TZ)
    with pytest.raises(ValueError):
        free_slots(s, [], timedelta(0), NOW)
    with pytest.raises(ValueError):
        free_slots(s, [], 30 * MIN, NOW, step=timedelta(0))


# ---------------------------------------------------------------------------
# Properties over every IANA zone
# ---------------------------------------------------------------------------

ZONES = sorted(zoneinfo.available_timezones())
T_MIN = int(datetime(1970, 1, 3, tzinfo=UTC).timestamp())
T_MAX = int(datetime(2037, 12, 20, tzinfo=UTC).timestamp())
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=None)
def transitions(tz: str, year: int) -> tuple[int, ...]:
    """UTC offset changes in a year (epoch seconds), found by hourly probing and bisection."""
    z = ZoneInfo(tz)

    def off(t: int) -> timedelta | None:
        return datetime.fromtimestamp(t, z).utcoffset()

    t = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    found: list[int] = []
    prev = off(t)
    while t < end:
        nxt = t + 6 * 3600
        if off(nxt) != prev:
            lo, hi = t, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if off(mid) == prev else (lo, mid)
            found.append(hi)
            prev = off(hi)
            nxt = hi
        t = nxt
    return tuple(found)


@st.composite
def instants(draw: st.DrawFn, tz: str) -> int:
    """Epoch seconds: mostly within two days of one of the zone's offset changes."""
    if draw(st.booleans()):
        year = draw(st.integers(1970, 2037))
        near = transitions(tz, year)
        if near:
            t = draw(st.sampled_from(near)) + draw(st.integers(-2 * 86_400, 2 * 86_400))
            return min(max(t, T_MIN), T_MAX)
    return draw(st.integers(T_MIN, T_MAX))


@st.composite
def windows(draw: st.DrawFn) -> tuple[WeeklyWindow, ...]:
    grain = draw(st.sampled_from([1, 15, 30, 60]))
    out: list[WeeklyWindow] = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, 1439 // grain)) * grain
        end = draw(st.integers(start + 1, 1440))
        if draw(st.booleans()):
            end = min(1440, -(-end // grain) * grain)
        out.append(WeeklyWindow(draw(st.integers(0, 6)), start, end))
    if draw(st.integers(0, 9)) == 0:  # around the clock
        out.extend(WeeklyWindow(d, 0, 1440) for d in range(7))
    return tuple(out)


@st.composite
def exceptions(draw: st.DrawFn, around: date) -> tuple[DateException, ...]:
    out: list[DateException] = []
    for _ in range(draw(st.integers(0, 3))):
        day = around + timedelta(days=draw(st.integers(-2, 3)))
        kind = draw(st.sampled_from(list(ExceptionKind)))
        if kind is ExceptionKind.OFF and draw(st.booleans()):
            out.append(DateException(day, kind))
        else:
            start = draw(st.integers(0, 1439))
            out.append(DateException(day, kind, start, draw(st.integers(start + 1, 1440))))
    return tuple(out)


def available(s: Schedule, t: int) -> bool:
    """Brute force: read the wall clock at instant t and look the minute up in the schedule."""
    wall = datetime.fromtimestamp(t, ZoneInfo(s.timezone))
    day = wall.date()
    sec = wall.hour * 3600 + wall.minute * 60 + wall.second
    todays = [e for e in s.exceptions if e.day == day]
    ok = any(w.weekday == day.weekday() and w.start_minute * 60 <= sec < w.end_minute * 60 for w in s.weekly)
    for e in todays:
        if e.kind is ExceptionKind.OFF and e.whole_day:
            ok = False
    for e in todays:
        if e.kind is ExceptionKind.OFF and not e.whole_day:
            assert e.start_minute is not None and e.end_minute is not None
            if e.start_minute * 60 <= sec < e.end_minute * 60:
                ok = False
    for e in todays:
        if e.kind is ExceptionKind.EXTRA:
            assert e.start_minute is not None and e.end_minute is not None
            if e.start_minute * 60 <= sec < e.end_minute * 60:
                ok = True
    return ok


def secs(x: datetime) -> int:
    return (x - EPOCH) // timedelta(seconds=1)


@st.composite
def schedules(draw: st.DrawFn, rules: BookingRules = OPEN_RULES) -> tuple[Schedule, int]:
    tz = draw(st.sampled_from(ZONES))
    t = draw(instants(tz))
    day = datetime.fromtimestamp(t, ZoneInfo(tz)).date()
    return Schedule(tz, draw(windows()), draw(exceptions(day)), rules), t


@PROPS
@given(schedules(), st.integers(0, 599))
def test_intervals_are_exactly_the_instants_whose_wall_time_is_in_a_window(case: tuple[Schedule, int], phase: int) -> None:
    s, t = case
    lo, hi = t - 86_400, t + 86_400
    intervals = [(secs(a), secs(b)) for a, b in availability_intervals(s, EPOCH + timedelta(seconds=lo), EPOCH + timedelta(seconds=hi))]
    # sorted, disjoint, not touching (merged), within the range
    for (a, b), (c, _) in zip(intervals, intervals[1:]):
        assert b < c
    assert all(lo <= a < b <= hi for a, b in intervals)
    # endpoints are exact to the second
    for a, b in intervals:
        assert available(s, a) and available(s, b - 1)
        assert a == lo or not available(s, a - 1)
        assert b == hi or not available(s, b)
    # and every sampled instant agrees (one a minute, random phase)
    inside = 0
    for u in range(lo + phase % 60, hi, 60):
        member = any(a <= u < b for a, b in intervals)
        assert member == available(s, u), u
        inside += member
    # total length equals the measure of the available instants (up to the sampling step per boundary)
    length = sum(b - a for a, b in intervals)
    assert abs(length - inside * 60) <= 60 * (2 * len(intervals) + 1)


@st.composite
def booking_cases(draw: st.DrawFn) -> tuple[Schedule, list[Busy], timedelta, datetime, timedelta]:
    rules = BookingRules(
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 30, 90, 720]))),
        horizon=timedelta(hours=draw(st.integers(1, 96))),
        buffer=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 15]))),
        daily_cap=draw(st.sampled_from([None, None, 1, 2, 3])),
    )
    s, t = draw(schedules(rules))
    now = EPOCH + timedelta(seconds=t - draw(st.integers(0, 86_400)), microseconds=draw(st.sampled_from([0, 1, 999_999])))
    busy: list[Busy] = []
    for _ in range(draw(st.integers(0, 10))):
        start = now + timedelta(minutes=draw(st.integers(-600, 4 * 1440)))
        busy.append(Busy(start, start + timedelta(minutes=draw(st.integers(1, 120))), draw(st.booleans())))
    duration = timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90])))
    step = timedelta(minutes=draw(st.sampled_from([5, 15, 30, 60])))
    return s, busy, duration, now, step


def expected_slots(s: Schedule, busy: list[Busy], duration: timedelta, now: datetime, step: timedelta) -> list[datetime]:
    """Straightforward reference: walk each interval's grid and test every rule per candidate."""
    rules = s.rules
    lo = max(now, now + rules.min_notice)
    hi = now + rules.horizon
    clip = lo - 30 * DAY
    zone = ZoneInfo(s.timezone)
    per_day: dict[date, int] = {}
    for m in busy:
        if m.counts_toward_cap:
            d = m.start.astimezone(zone).date()
            per_day[d] = per_day.get(d, 0) + 1
    out: list[datetime] = []
    for a, b in availability_intervals(s, clip, hi + duration + DAY):
        x = a if a > clip else EPOCH + (a - EPOCH) // step * step + step  # around the clock: epoch grid
        while x + duration <= b:
            ok = lo <= x <= hi
            if ok and rules.daily_cap is not None:
                ok = per_day.get(x.astimezone(zone).date(), 0) < rules.daily_cap
            if ok:
                for m in busy:
                    ms, me = m.start - rules.buffer, m.end + rules.buffer
                    if ms < me and ms < x + duration and me > x:
                        ok = False
                        break
            if ok:
                out.append(x)
            x += step
    return out


@PROPS
@given(booking_cases())
def test_free_slots_properties(case: tuple[Schedule, list[Busy], timedelta, datetime, timedelta]) -> None:
    s, busy, duration, now, step = case
    rules = s.rules
    slots = free_slots(s, busy, duration, now, step=step)
    # sorted, unique, aware UTC, within notice and horizon
    assert all(a < b for a, b in zip(slots, slots[1:]))
    assert all(x.tzinfo is UTC for x in slots)
    assert all(max(now, now + rules.min_notice) <= x <= now + rules.horizon for x in slots)
    intervals = availability_intervals(s, now - 30 * DAY, now + rules.horizon + duration + DAY)
    zone = ZoneInfo(s.timezone)
    for x in slots:
        # (1) the whole slot is available by the wall clock
        u0, u1 = secs(x), secs(x + duration)
        assert all(available(s, u) for u in (*range(u0, u1, 300), u1 - 1))
        # on the grid of the interval that holds it
        (a, _b), = [(a, b) for a, b in intervals if a <= x and x + duration <= b]
        if a > now - 30 * DAY:
            assert (x - a) % step == timedelta(0)
        else:
            assert (x - EPOCH) % step == timedelta(0)
        # (2) clear of every meeting and its buffer
        for m in busy:
            ms, me = m.start - rules.buffer, m.end + rules.buffer
            assert not (ms < me and ms < x + duration and me > x)
        # the daily cap holds
        if rules.daily_cap is not None:
            day = x.astimezone(zone).date()
            assert sum(1 for m in busy if m.counts_toward_cap and m.start.astimezone(zone).date() == day) < rules.daily_cap
        # (4) check_slot agrees (on the same grid)
        assert check_slot(s, busy, x, duration, now, grid=step) is None
    # nothing bookable on the grid is left out
    assert slots == expected_slots(s, busy, duration, now, step)
    # narrowing never shifts the grid, and limit takes a prefix
    if slots:
        mid = slots[len(slots) // 2]
        assert free_slots(s, busy, duration, now, step=step, start=mid - HOUR, end=mid + HOUR) == [
            x for x in slots if mid - HOUR <= x <= mid + HOUR
        ]
        assert free_slots(s, busy, duration, now, step=step, limit=2) == slots[:2]
        assert first_free_slot(s, busy, duration, now, step=step) == slots[0]


@PROPS
@given(booking_cases(), st.integers(0, 10**9), st.booleans())
def test_check_slot_any_start(
    case: tuple[Schedule, list[Busy], timedelta, datetime, timedelta], seed: int, snap: bool
) -> None:
    s, busy, duration, now, _ = case
    rules = s.rules
    start = now + timedelta(seconds=seed % int((rules.horizon + 2 * HOUR).total_seconds()) - 3600)
    holders = [a for a, b in availability_intervals(s, start - 30 * DAY, start + duration + DAY)
               if a <= start and start + duration <= b]
    # the grid of the interval that holds it: from its start, or from the epoch when it runs back past the range
    anchor = holders[0] if holders and holders[0] > start - 30 * DAY else EPOCH
    if snap:  # half the cases on the grid, so that the rules after it are checked as often
        start -= (start - anchor) % SLOT_GRID
        holders = [a for a, b in availability_intervals(s, start - 30 * DAY, start + duration + DAY)
                   if a <= start and start + duration <= b]
        anchor = holders[0] if holders and holders[0] > start - 30 * DAY else EPOCH
    problem = check_slot(s, busy, start, duration, now)
    inside = bool(holders)
    on_grid = (start - anchor) % SLOT_GRID == timedelta(0)
    if start < now:
        assert problem is SlotProblem.PAST
    elif start < now + rules.min_notice:
        assert problem is SlotProblem.TOO_SOON
    elif start > now + rules.horizon:
        assert problem is SlotProblem.BEYOND_HORIZON
    elif not inside:
        assert problem is SlotProblem.OUTSIDE_AVAILABILITY
    elif not on_grid:
        assert problem is SlotProblem.OFF_GRID
    else:
        clash = any(
            m.start - rules.buffer < m.end + rules.buffer
            and m.start - rules.buffer < start + duration
            and m.end + rules.buffer > start
            for m in busy
        )
        full = False
        if rules.daily_cap is not None:
            zone = ZoneInfo(s.timezone)
            day = start.astimezone(zone).date()
            full = sum(1 for m in busy if m.counts_toward_cap and m.start.astimezone(zone).date() == day) >= rules.daily_cap
        expected = SlotProblem.DAY_FULL if full else SlotProblem.TAKEN if clash else None
        assert problem is expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(booking_cases())
def test_check_slot_accepts_exactly_the_starts_free_slots_offers(
    case: tuple[Schedule, list[Busy], timedelta, datetime, timedelta]
) -> None:
    """The engine's grid has no surprises: a start is bookable exactly when the picker would offer it."""
    s, busy, duration, now, _ = case
    slots = free_slots(s, busy, duration, now)
    offered = set(slots)
    probes = {x + d for x in slots for d in (-MIN, timedelta(0), MIN, timedelta(seconds=1))}
    t = EPOCH + -(-(now - EPOCH) // (5 * MIN)) * 5 * MIN
    while t <= now + s.rules.horizon:
        probes.add(t)
        t += 5 * MIN
    for x in sorted(probes):
        assert (check_slot(s, busy, x, duration, now) is None) == (x in offered), x


@PROPS
@given(st.sampled_from(ZONES), st.integers(T_MIN // 86_400 + 1, T_MAX // 86_400 - 1))
def test_local_day_bounds_match_the_wall_clock(tz: str, ordinal: int) -> None:
    day = date(1970, 1, 1) + timedelta(days=ordinal)
    a, b = local_day_bounds(tz, day)
    assume(a < b)
    zone = ZoneInfo(tz)
    assert a.astimezone(zone).date() >= day
    assert (a - timedelta(seconds=1)).astimezone(zone).date() < day
    assert b.astimezone(zone).date() > day
    assert (b - timedelta(seconds=1)).astimezone(zone).date() <= day
