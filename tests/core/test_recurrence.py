"""Recurring series: local wall time kept across DST, month ends, gaps, limits, and series checks."""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.recurrence import MAX_OCCURRENCES, SERIES_REACH, Frequency, OccurrenceCheck, check_series, occurrences
from core.schedule import BookingRules, Busy, Schedule, SlotProblem, WeeklyWindow

HOUR = timedelta(hours=1)
BERLIN = "Europe/Berlin"


def at(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def walls(starts: list[datetime], tz: str) -> list[str]:
    return [x.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") for x in starts]


def test_weekly_keeps_nine_am_across_spring_forward() -> None:
    series = occurrences(at(BERLIN, 2026, 3, 16, 9), BERLIN, Frequency.WEEKLY, count=3)
    assert series == [utc(2026, 3, 16, 8), utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]
    assert walls(series, BERLIN) == ["2026-03-16 09:00", "2026-03-23 09:00", "2026-03-30 09:00"]


def test_weekly_keeps_wall_time_across_fall_back_in_new_york() -> None:
    tz = "America/New_York"
    series = occurrences(at(tz, 2026, 10, 26, 18, 30), tz, Frequency.WEEKLY, count=2)
    assert series == [utc(2026, 10, 26, 22, 30), utc(2026, 11, 2, 23, 30)]


def test_biweekly() -> None:
    series = occurrences(at(BERLIN, 2026, 1, 5, 10), BERLIN, Frequency.BIWEEKLY, count=4)
    assert walls(series, BERLIN) == ["2026-01-05 10:00", "2026-01-19 10:00", "2026-02-02 10:00", "2026-02-16 10:00"]


def test_monthly_uses_the_last_day_when_a_month_is_short() -> None:
    series = occurrences(at(BERLIN, 2027, 12, 31, 9), BERLIN, Frequency.MONTHLY, count=5)
    assert walls(series, BERLIN) == [
        "2027-12-31 09:00",
        "2028-01-31 09:00",
        "2028-02-29 09:00",  # leap year
        "2028-03-31 09:00",  # back to the 31st: dates come from the first one, not the previous
        "2028-04-30 09:00",
    ]


def test_a_wall_time_in_the_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: that meeting is at 03:30 CEST (01:30 UTC).
    series = occurrences(at(BERLIN, 2026, 3, 22, 2, 30), BERLIN, Frequency.WEEKLY, count=3)
    assert walls(series, BERLIN) == ["2026-03-22 02:30", "2026-03-29 03:30", "2026-04-05 02:30"]
    assert series[1] == utc(2026, 3, 29, 1, 30)


def test_lord_howe_half_hour_gap() -> None:
    tz = "Australia/Lord_Howe"  # 2026-10-04: 02:00 -> 02:30
    series = occurrences(at(tz, 2026, 9, 27, 2, 15), tz, Frequency.WEEKLY, count=2)
    assert walls(series, tz) == ["2026-09-27 02:15", "2026-10-04 02:45"]


def test_an_ambiguous_wall_time_takes_the_first_occurrence() -> None:
    series = occurrences(at(BERLIN, 2026, 10, 18, 2, 30), BERLIN, Frequency.WEEKLY, count=2)
    assert series[1] == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET
    # also when the first meeting itself is the second 02:30: later ones use the first
    first = at(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    series = occurrences(first, BERLIN, Frequency.WEEKLY, count=2)
    assert series[0] == first == utc(2026, 10, 25, 1, 30)
    assert walls(series, BERLIN) == ["2026-10-25 02:30", "2026-11-01 02:30"]


def test_samoa_skipped_date_moves_a_full_day() -> None:
    tz = "Pacific/Apia"  # 2011-12-30 never happened there
    series = occurrences(at(tz, 2011, 12, 23, 10), tz, Frequency.WEEKLY, count=3)
    assert walls(series, tz) == ["2011-12-23 10:00", "2011-12-31 10:00", "2012-01-06 10:00"]


def test_until_is_an_inclusive_local_date() -> None:
    tz = "Asia/Tokyo"
    first = at(tz, 2026, 1, 5, 8)  # Sunday 23:00 UTC, Monday morning in Tokyo
    series = occurrences(first, tz, Frequency.WEEKLY, until=date(2026, 1, 26))
    assert walls(series, tz) == ["2026-01-05 08:00", "2026-01-12 08:00", "2026-01-19 08:00", "2026-01-26 08:00"]
    assert occurrences(first, tz, Frequency.WEEKLY, until=date(2026, 1, 5)) == [first]


def test_until_far_away_stops_at_the_maximum() -> None:
    series = occurrences(utc(2026, 1, 5, 9), BERLIN, Frequency.WEEKLY, until=date(2030, 1, 1))
    assert len(series) == MAX_OCCURRENCES == 52
    assert len(occurrences(utc(2026, 1, 5, 9), BERLIN, Frequency.MONTHLY, count=52)) == 52


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of count or until"),
        ({"count": 3, "until": date(2026, 3, 1)}, "exactly one of count or until"),
        ({"count": 0}, "between 1 and 52"),
        ({"count": 53}, "between 1 and 52"),
        ({"until": date(2026, 1, 4)}, "before the first meeting"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        occurrences(utc(2026, 1, 5, 9), BERLIN, Frequency.WEEKLY, **kwargs)  # type: ignore[arg-type]


def test_naive_first_start_is_rejected() -> None:
    with pytest.raises(ValueError):
        occurrences(datetime(2026, 1, 5, 9), BERLIN, Frequency.WEEKLY, count=2)


# ---------------------------------------------------------------------------
# check_series
# ---------------------------------------------------------------------------


def mondays_nine_to_five(**rules: object) -> Schedule:
    return Schedule(BERLIN, (WeeklyWindow(0, 9 * 60, 17 * 60),), (), BookingRules(
        min_notice=timedelta(hours=1), horizon=timedelta(days=30), daily_cap=rules.get("daily_cap"),  # type: ignore[arg-type]
    ))


def test_check_series_reports_each_occurrence() -> None:
    s = mondays_nine_to_five()
    now = at(BERLIN, 2026, 1, 4, 12)
    series = occurrences(at(BERLIN, 2026, 1, 5, 10), BERLIN, Frequency.WEEKLY, count=6)
    busy = [Busy(at(BERLIN, 2026, 1, 12, 10, 30), at(BERLIN, 2026, 1, 12, 11))]
    checks = check_series(s, busy, series, HOUR, now)
    # the sixth date is 35 days ahead, past the 30-day horizon: a series holds it all the same
    assert [c.problem for c in checks] == [None, SlotProblem.TAKEN, None, None, None, None]
    assert checks[0] == OccurrenceCheck(series[0], None)
    assert len(busy) == 1  # the caller's list is left alone


def test_a_series_may_reach_past_the_horizon_but_not_start_there_nor_go_past_a_year() -> None:
    """Priority scheduling: one-off requests stop at the horizon, a series' later dates do not."""
    s = mondays_nine_to_five()
    now = at(BERLIN, 2026, 1, 4, 12)
    far = occurrences(at(BERLIN, 2026, 2, 9, 10), BERLIN, Frequency.WEEKLY, count=2)  # 36 days ahead
    assert [c.problem for c in check_series(s, [], far, HOUR, now)][0] is SlotProblem.BEYOND_HORIZON
    monthly = occurrences(at(BERLIN, 2026, 1, 5, 10), BERLIN, Frequency.MONTHLY, count=16)
    problems = [c.problem for c in check_series(s, [], monthly, HOUR, now)]
    reach = [c.start - now <= SERIES_REACH for c in check_series(s, [], monthly, HOUR, now)]
    assert all(p is not SlotProblem.BEYOND_HORIZON for p, inside in zip(problems, reach) if inside)
    assert all(p is SlotProblem.BEYOND_HORIZON for p, inside in zip(problems, reach) if not inside)
    assert reach.count(False) >= 3


def test_check_series_cannot_overlap_itself_and_fills_the_cap() -> None:
    s = mondays_nine_to_five()
    now = at(BERLIN, 2026, 1, 4, 12)
    starts = [at(BERLIN, 2026, 1, 5, 10), at(BERLIN, 2026, 1, 5, 10, 30), at(BERLIN, 2026, 1, 5, 11)]
    assert [c.problem for c in check_series(s, [], starts, HOUR, now)] == [None, SlotProblem.TAKEN, None]
    capped = mondays_nine_to_five(daily_cap=1)
    assert [c.problem for c in check_series(capped, [], starts, HOUR, now)] == [
        None, SlotProblem.DAY_FULL, SlotProblem.DAY_FULL,
    ]


# ---------------------------------------------------------------------------
# Properties over every IANA zone
# ---------------------------------------------------------------------------

ZONES = sorted(zoneinfo.available_timezones())


def intended_date(first: date, frequency: Frequency, n: int) -> date:
    if frequency is Frequency.MONTHLY:
        y, m = divmod(first.year * 12 + first.month - 1 + n, 12)
        return date(y, m + 1, min(first.day, calendar.monthrange(y, m + 1)[1]))
    return first + timedelta(days=n * (7 if frequency is Frequency.WEEKLY else 14))


def instants_with_wall(zone: ZoneInfo, wall: datetime) -> list[datetime]:
    """Every UTC instant whose local wall reading is `wall` (0, 1 or 2 of them), by trying nearby offsets."""
    naive_utc = wall.replace(tzinfo=UTC)
    offsets = {datetime.fromtimestamp((naive_utc + k * HOUR).timestamp(), zone).utcoffset() for k in range(-30, 31, 3)}
    found = set()
    for off in offsets:
        assert off is not None
        t = naive_utc - off
        if t.astimezone(zone).replace(tzinfo=None) == wall:
            found.add(t)
    return sorted(found)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ZONES),
    st.integers(int(datetime(1970, 1, 2, tzinfo=UTC).timestamp()), int(datetime(2033, 1, 1, tzinfo=UTC).timestamp())),
    st.sampled_from(list(Frequency)),
    st.integers(1, MAX_OCCURRENCES),
)
def test_occurrences_keep_the_wall_time(tz: str, t: int, frequency: Frequency, count: int) -> None:
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(t, UTC).replace(second=0)
    series = occurrences(first, tz, frequency, count=count)
    assert len(series) == count
    assert series[0] == first
    assert all(a < b for a, b in zip(series, series[1:]))
    assert all(x.tzinfo is UTC for x in series)
    local_first = first.astimezone(zone)
    for n, x in enumerate(series[1:], start=1):
        wall = datetime.combine(intended_date(local_first.date(), frequency, n), local_first.time())
        real = instants_with_wall(zone, wall)
        if real:  # the wall time exists: the first instant that shows it
            assert x == real[0]
        else:  # a gap: moved forward by exactly the gap, i.e. read with the offset before it
            local = x.astimezone(zone).replace(tzinfo=None)
            after = x.astimezone(zone).utcoffset()
            used = wall.replace(tzinfo=UTC) - x  # the offset that maps the wall time to x
            assert after is not None and after > used
            assert local - wall == after - used  # forward by the size of the jump
            # ... and `used` is the offset in force just before the jump, which lies within that distance of x
            assert (x - (after - used) - timedelta(seconds=1)).astimezone(zone).utcoffset() == used


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(int(datetime(1970, 1, 2, tzinfo=UTC).timestamp()), int(datetime(2033, 1, 1, tzinfo=UTC).timestamp())),
    st.sampled_from(list(Frequency)),
    st.integers(0, 800),
)
def test_until_counts(tz: str, t: int, frequency: Frequency, days: int) -> None:
    first = datetime.fromtimestamp(t, UTC)
    first_day = first.astimezone(ZoneInfo(tz)).date()
    until = first_day + timedelta(days=days)
    series = occurrences(first, tz, frequency, until=until)
    expected = 1
    while expected < MAX_OCCURRENCES and intended_date(first_day, frequency, expected) <= until:
        expected += 1
    assert len(series) == expected
    assert series[0] == first
    assert all(a < b for a, b in zip(series, series[1:]))
