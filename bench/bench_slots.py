"""How fast free slots are found: one expert, 90 days, 500 meetings (target: p50 <= 2 ms).

Run standalone: python -m bench.bench_slots
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from bench.harness import time_ms
from core import availability
from core.availability import check_slot, first_free_slot, free_slots
from core.recurrence import Frequency, check_series, occurrences
from core.schedule import BookingRules, Busy, DateException, ExceptionKind, Schedule, WeeklyWindow

NOW = datetime(2026, 3, 2, 7, 13, tzinfo=UTC)  # a Monday; the range crosses the March DST change
DURATION = timedelta(minutes=30)


def _schedule() -> Schedule:
    weekly = tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)) + (
        WeeklyWindow(1, 18 * 60, 20 * 60),  # Tuesday evening
        WeeklyWindow(5, 10 * 60, 12 * 60),  # Saturday morning
    )
    exceptions = (
        DateException(date(2026, 4, 3), ExceptionKind.OFF),
        DateException(date(2026, 4, 15), ExceptionKind.OFF, 12 * 60, 14 * 60),
        DateException(date(2026, 4, 19), ExceptionKind.EXTRA, 14 * 60, 16 * 60),
    )
    rules = BookingRules(min_notice=timedelta(hours=12), horizon=timedelta(days=90), buffer=timedelta(minutes=5))
    return Schedule("Europe/Berlin", weekly, exceptions, rules)


def _meetings(schedule: Schedule, count: int = 500, seed: int = 7) -> list[Busy]:
    """`count` meetings of 30-60 minutes at random quarter hours inside the open hours."""
    rng = random.Random(seed)
    open_hours = availability.availability_intervals(schedule, NOW, NOW + timedelta(days=90))
    out: list[Busy] = []
    while len(out) < count:
        a, b = rng.choice(open_hours)
        length = timedelta(minutes=rng.choice((30, 45, 60)))
        quarters = int((b - a - length) / timedelta(minutes=15))
        if quarters < 0:
            continue
        start = a + timedelta(minutes=15 * rng.randint(0, quarters))
        out.append(Busy(start, start + length))
    return out


def _clear_caches() -> None:
    for name in ("_zone", "_block", "_segments", "_plan"):
        getattr(availability, name).cache_clear()


def run() -> list[tuple[str, str]]:
    schedule = _schedule()
    busy = _meetings(schedule)
    rows: list[tuple[str, str]] = []

    slots = free_slots(schedule, busy, DURATION, NOW)
    p50, p99 = time_ms(lambda: free_slots(schedule, busy, DURATION, NOW), 1000)
    rows.append(("free slots, 90 days, 500 meetings", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {len(slots)} slots"))

    def cold() -> None:
        _clear_caches()
        free_slots(schedule, busy, DURATION, NOW)

    p50, p99 = time_ms(cold, 100, warmup=0)
    rows.append(("free slots, cold caches (tz offsets, schedule)", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"))

    empty = free_slots(schedule, [], DURATION, NOW)
    p50, p99 = time_ms(lambda: free_slots(schedule, [], DURATION, NOW), 400)
    rows.append(("free slots, 90 days, no meetings", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {len(empty)} slots"))

    p50, p99 = time_ms(lambda: first_free_slot(schedule, busy, DURATION, NOW), 400)
    rows.append(("first free slot, 500 meetings", f"p50 {p50:.3f} ms, p99 {p99:.3f} ms"))

    typed = slots[len(slots) // 2] + timedelta(minutes=15)  # on the grid: the whole check runs
    p50, p99 = time_ms(lambda: check_slot(schedule, busy, typed, DURATION, NOW), 400)
    rows.append(("check one typed start, 500 meetings", f"p50 {p50:.3f} ms, p99 {p99:.3f} ms"))

    series = occurrences(slots[0], schedule.timezone, Frequency.WEEKLY, count=12)
    p50, p99 = time_ms(lambda: check_series(schedule, busy, series, DURATION, NOW), 50)
    rows.append(("check a 12-week series, 500 meetings", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"))
    return rows


def main() -> None:
    for name, result in run():
        print(f"{name:48s} {result}")


if __name__ == "__main__":
    main()
