"""Free slots of an expert: weekly wall-clock windows, exceptions, meetings and rules.

Everything public takes and returns aware UTC datetimes. Internally instants are
integer seconds since the Unix epoch, and local wall times are "wall seconds"
(local date as days since 1970-01-01 times 86400, plus seconds into that day),
so the hot loops are plain integer arithmetic.

DST rules (exact, for every IANA zone, including offsets that are not whole hours):

* A window is the set of instants whose local wall-clock reading lies in
  [start, end) on a local date with that weekday. On a spring-forward day the
  wall times inside the gap do not exist, so that part of the window is absent;
  on a fall-back day a repeated wall hour inside the window counts twice (both
  real hours are available).
* Adjacent or overlapping pieces (also across midnight and across a DST change)
  merge into one interval. Slots start on a grid anchored at the start of their
  merged interval: interval_start + k * step. An interval with no start at all
  (available around the clock, every day, back past every exception) is
  anchored at the Unix epoch instead, so results never depend on the query range.
  Meetings and buffers never shift the grid. The engine's grid is SLOT_GRID
  (15 minutes): check_slot refuses any other start (OFF_GRID), so every start it
  accepts is one free_slots offers, and the other way round.
* A slot belongs to the local date of its start (daily cap).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.clock import ensure_utc
from core.schedule import SLOT_GRID, Busy, DateException, ExceptionKind, Schedule, SlotProblem

__all__ = [
    "availability_intervals",
    "check_slot",
    "first_free_slot",
    "free_slots",
    "local_day_bounds",
    "nearest_free_slots",
]

DAY = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)
_US = 1_000_000
_fromts = datetime.fromtimestamp

Range = tuple[int, int]  # half-open [start, end), seconds

# ---------------------------------------------------------------------------
# Time zone offsets as constant-offset segments
# ---------------------------------------------------------------------------

# Offsets are probed once a day and the exact transition second is found by
# bisection. tzdata (checked for every zone, 1900-2100) never has two transitions within
# two days, nor leaves an offset and returns to it within four days, so a daily probe
# cannot miss a change. Results are cached per block of days; tz rules do not
# change while the process runs.
_PROBE = DAY
_BLOCK = 32 * DAY


@lru_cache(maxsize=None)
def _zone(key: str) -> ZoneInfo:
    """ZoneInfo keeps its own cache, but this skips its lookup cost."""
    return ZoneInfo(key)


def _offset(zone: ZoneInfo, t: int) -> int:
    """UTC offset in seconds at the instant t."""
    off = _fromts(t, zone).utcoffset()
    assert off is not None
    return off.days * DAY + off.seconds


@lru_cache(maxsize=16_384)
def _block(key: str, k: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Offset at the block start and (instant, new offset) transitions inside block k."""
    zone = _zone(key)
    lo = k * _BLOCK
    last = lo + _BLOCK - 1
    prev_t = lo
    prev = first = _offset(zone, lo)
    found: list[tuple[int, int]] = []
    t = lo
    while t < last:
        t = min(t + _PROBE, last)
        off = _offset(zone, t)
        while off != prev:  # a change in (prev_t, t]: find its first second
            a, b = prev_t, t  # off(a) == prev, off(b) != prev
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == prev:
                    a = mid
                else:
                    b = mid
            prev = _offset(zone, b)
            prev_t = b
            found.append((b, prev))
        prev_t = t
    return first, tuple(found)


@lru_cache(maxsize=1024)
def _segments(key: str, k0: int, k1: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Constant-offset segments (starts, ends, offsets) covering blocks k0..k1."""
    starts: list[int] = []
    offs: list[int] = []
    for k in range(k0, k1 + 1):
        first, found = _block(key, k)
        if not offs or offs[-1] != first:
            starts.append(k * _BLOCK)
            offs.append(first)
        for t, off in found:
            starts.append(t)
            offs.append(off)
    ends = starts[1:] + [(k1 + 1) * _BLOCK]
    return tuple(starts), tuple(ends), tuple(offs)


def _segments_for(key: str, t0: int, t1: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    return _segments(key, t0 // _BLOCK, (t1 - 1) // _BLOCK)


# ---------------------------------------------------------------------------
# A schedule compiled to wall-second ranges
# ---------------------------------------------------------------------------


class _Plan:
    """A Schedule reduced to per-weekday and per-date wall ranges (seconds into the day)."""

    __slots__ = ("key", "weekly", "dated", "gapless", "first_dated")

    def __init__(self, schedule: Schedule) -> None:
        self.key = schedule.timezone
        _zone(self.key)  # fail early on an unknown zone
        per_day: list[list[Range]] = [[] for _ in range(7)]
        for w in schedule.weekly:
            per_day[w.weekday].append((w.start_minute * 60, w.end_minute * 60))
        self.weekly: tuple[tuple[Range, ...], ...] = tuple(_union(r) for r in per_day)
        self.gapless = all(r == ((0, DAY),) for r in self.weekly)
        by_day: dict[int, list[DateException]] = {}
        for ex in schedule.exceptions:
            by_day.setdefault(ex.day.toordinal() - _EPOCH_ORDINAL, []).append(ex)
        self.dated: dict[int, tuple[Range, ...]] = {
            d: _apply_exceptions(self.weekly[(d + 3) % 7], exs) for d, exs in by_day.items()
        }
        self.first_dated: int | None = min(self.dated) if self.dated else None


@lru_cache(maxsize=256)
def _plan(schedule: Schedule) -> _Plan:
    return _Plan(schedule)


def _union(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sorted, merged (touching ranges joined) copy of half-open ranges."""
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1][1] = b
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _subtract(ranges: Sequence[Range], cut: Range) -> list[Range]:
    ca, cb = cut
    out: list[Range] = []
    for a, b in ranges:
        if cb <= a or b <= ca:
            out.append((a, b))
            continue
        if a < ca:
            out.append((a, ca))
        if cb < b:
            out.append((cb, b))
    return out


def _apply_exceptions(base: tuple[Range, ...], exs: Sequence[DateException]) -> tuple[Range, ...]:
    """Weekly ranges of the date; a whole-day OFF empties them; OFF ranges cut; EXTRA ranges add."""
    ranges: list[Range] = list(base)
    if any(e.kind is ExceptionKind.OFF and e.whole_day for e in exs):
        ranges = []
    for e in exs:
        if e.kind is ExceptionKind.OFF and not e.whole_day:
            assert e.start_minute is not None and e.end_minute is not None
            ranges = _subtract(ranges, (e.start_minute * 60, e.end_minute * 60))
    for e in exs:
        if e.kind is ExceptionKind.EXTRA:
            assert e.start_minute is not None and e.end_minute is not None
            ranges.append((e.start_minute * 60, e.end_minute * 60))
    return _union(ranges)


# ---------------------------------------------------------------------------
# Wall ranges to instants
# ---------------------------------------------------------------------------


def _intervals(plan: _Plan, d0: int, d1: int) -> list[list[int]]:
    """Merged available instants contributed by local dates d0..d1 (inclusive).

    Exact on [(d0 + 1) * DAY, d1 * DAY): an instant's local date lies within
    one day of its UTC date because offsets are under 24 hours.
    """
    starts, ends, offs = _segments_for(plan.key, d0 * DAY - DAY, (d1 + 2) * DAY)
    nseg = len(offs)
    pieces: list[tuple[int, int]] = []
    add = pieces.append
    dated = plan.dated
    weekly = plan.weekly
    if nseg == 1:
        o = offs[0]
        for d in range(d0, d1 + 1):
            r = dated.get(d)
            if r is None:
                r = weekly[(d + 3) % 7]
            base = d * DAY - o
            for a, b in r:
                add((base + a, base + b))
    else:
        segs = tuple(zip(starts, ends, offs))
        for d in range(d0, d1 + 1):
            r = dated.get(d)
            if r is None:
                r = weekly[(d + 3) % 7]
            if not r:
                continue
            base = d * DAY
            for a, b in r:
                a += base
                b += base
                for s, e, o in segs:
                    x = a - o
                    y = b - o
                    if x < s:
                        x = s
                    if y > e:
                        y = e
                    if x < y:
                        add((x, y))
        pieces.sort()
    merged: list[list[int]] = []
    for x, y in pieces:
        if merged and x <= merged[-1][1]:
            if y > merged[-1][1]:
                merged[-1][1] = y
        else:
            merged.append([x, y])
    return merged


def _wall_to_instants(key: str, a: int, b: int) -> list[Range]:
    """Instants whose local wall reading lies in [a, b) (wall seconds)."""
    starts, ends, offs = _segments_for(key, a - DAY, b + DAY)
    out: list[Range] = []
    for s, e, o in zip(starts, ends, offs):
        x = max(s, a - o)
        y = min(e, b - o)
        if x < y:
            out.append((x, y))
    return out


def _local_day(key: str, t: int) -> int:
    """Local date (days since 1970-01-01) of the instant t."""
    starts, _, offs = _segments_for(key, t, t + 1)
    return (t + offs[bisect_right(starts, t) - 1]) // DAY


def _day_start(key: str, d: int) -> int:
    """First instant at which the local clock reads at least midnight of date d."""
    wall = d * DAY
    starts, ends, offs = _segments_for(key, wall - 2 * DAY, wall + 2 * DAY)
    for s, e, o in zip(starts, ends, offs):
        if e + o > wall:
            return max(s, wall - o)
    raise AssertionError("unreachable: segments cover two days past midnight")


def _anchor(plan: _Plan, start: int, d0: int) -> int:
    """Grid anchor of the merged interval that contains `start` (computed from dates >= d0).

    The interval may continue before the dates computed so far; look further
    back until its real start shows. A schedule that is available around the
    clock has no start, and is anchored at the epoch.
    """
    lookback = 8
    while start <= (d0 + 1) * DAY:
        if plan.gapless and (plan.first_dated is None or d0 < plan.first_dated - 2):
            return 0
        if lookback > 20_000:  # no gap in ~55 years: treat as unbounded
            return 0
        d0 -= lookback
        lookback *= 2
        for x, y in _intervals(plan, d0, d0 + lookback + 2):
            if x <= start <= y:
                start = x
                break
    return start


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------


def _floor_s(at: datetime) -> int:
    d = at - _EPOCH
    return d.days * DAY + d.seconds


def _ceil_s(at: datetime) -> int:
    d = _EPOCH - at
    return -(d.days * DAY + d.seconds)


def _exact_us(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _whole_seconds(value: timedelta, name: str) -> int:
    if value <= timedelta(0) or value.microseconds:
        raise ValueError(f"{name} must be a positive whole number of seconds, not {value}")
    return value.days * DAY + value.seconds


def _to_dt(t: int) -> datetime:
    return _fromts(t, UTC)


_RUN = 256


@lru_cache(maxsize=64)
def _steps(stp: int) -> tuple[timedelta, ...]:
    """0, step, 2*step, ... as timedeltas: `base + delta` is ~3x cheaper than fromtimestamp."""
    return tuple(timedelta(seconds=k * stp) for k in range(_RUN))


def _materialize(runs: list[tuple[int, int]], stp: int, limit: int | None) -> list[datetime]:
    """Datetimes for runs of (first, count) grid points, at most `limit` in all."""
    steps = _steps(stp)
    out: list[datetime] = []
    extend = out.extend
    left = -1 if limit is None else limit
    for first, count in runs:
        if 0 <= left < count:
            count = left
        if left >= 0:
            left -= count
        while count > 0:
            m = count if count < _RUN else _RUN
            extend(map(_fromts(first, UTC).__add__, steps[:m]))
            first += m * stp
            count -= m
        if left == 0:
            break
    return out


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def local_day_bounds(tz: str, day: date) -> tuple[datetime, datetime]:
    """UTC instants at which the local clock first reads midnight at the start and end of `day`.

    A midnight inside a DST gap becomes the end of the gap; a repeated midnight
    is its first occurrence. A date the zone skipped entirely has start == end.
    """
    d = day.toordinal() - _EPOCH_ORDINAL
    return _to_dt(_day_start(tz, d)), _to_dt(_day_start(tz, d + 1))


def availability_intervals(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Merged available intervals clipped to [start, end): the expert's "open hours" in UTC."""
    start = ensure_utc(start)
    end = ensure_utc(end)
    if end <= start:
        return []
    plan = _plan(schedule)
    lo = _floor_s(start)
    hi = _ceil_s(end)
    out: list[tuple[datetime, datetime]] = []
    for x, y in _intervals(plan, lo // DAY - 2, hi // DAY + 2):
        if y <= lo or x >= hi:
            continue
        a = max(_to_dt(x), start)
        b = min(_to_dt(y), end)
        if a < b:
            out.append((a, b))
    return out


def free_slots(
    schedule: Schedule,
    busy: Iterable[Busy],
    duration: timedelta,
    now: datetime,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    step: timedelta = SLOT_GRID,
    limit: int | None = None,
) -> list[datetime]:
    """Bookable slot starts, sorted, within [max(start, now + notice), min(end, now + horizon)].

    Both bounds are inclusive. `start`/`end` only narrow the search; the grid
    stays anchored at each availability interval's start, so narrowing never
    shifts slots.
    """
    now = ensure_utc(now)
    rules = schedule.rules
    dur = _whole_seconds(duration, "duration")
    stp = _whole_seconds(step, "step")
    if limit is not None and limit <= 0:
        return []
    if rules.daily_cap is not None and rules.daily_cap <= 0:
        return []
    lo_dt = max(now, now + rules.min_notice)
    hi_dt = now + rules.horizon
    if start is not None:
        lo_dt = max(lo_dt, ensure_utc(start))
    if end is not None:
        hi_dt = min(hi_dt, ensure_utc(end))
    if hi_dt < lo_dt:
        return []
    lo = _ceil_s(lo_dt)
    hi = _floor_s(hi_dt)
    if hi < lo:
        return []

    plan = _plan(schedule)
    key = plan.key
    d0 = lo // DAY - 2
    d1 = (hi + dur) // DAY + 1
    intervals = _intervals(plan, d0, d1)
    i0 = 0
    n = len(intervals)
    while i0 < n and intervals[i0][1] <= lo:
        i0 += 1
    if i0 == n:
        return []
    first_anchor = _anchor(plan, intervals[i0][0], d0)

    # Busy time, widened by the buffer, as merged integer-second blocks.
    # (t - origin).days * DAY + .seconds is floor(seconds) exactly, and cheaper than `// _SECOND`.
    cap = rules.daily_cap
    top = hi + dur
    early = _EPOCH + rules.buffer  # start - buffer - epoch == start - early
    late = _EPOCH - rules.buffer  # ceil(end + buffer - epoch) == -floor(late - end)
    # Meetings entirely outside the computed dates matter neither as busy time nor for the cap;
    # two comparisons are cheaper than the conversion.
    skip_before = _to_dt((d0 - 1) * DAY) - rules.buffer
    skip_after = _to_dt((d1 + 2) * DAY) + rules.buffer
    raw: list[tuple[int, int]] = []
    capped: list[int] = []
    try:
        for m in busy:
            if m.start >= skip_after or m.end <= skip_before:
                continue
            ds = m.start - early
            de = late - m.end
            bs = ds.days * DAY + ds.seconds
            be = -(de.days * DAY + de.seconds)
            if be > lo and bs < top and bs < be:
                raw.append((bs, be))
            if cap is not None and m.counts_toward_cap:
                capped.append(_floor_s(m.start))
    except TypeError as exc:  # naive minus aware
        raise ValueError(f"busy times must be aware datetimes: {exc}") from None
    raw.sort()
    blocks: list[list[int]] = []
    for bs, be in raw:
        if blocks and bs <= blocks[-1][1]:
            if be > blocks[-1][1]:
                blocks[-1][1] = be
        else:
            blocks.append([bs, be])

    # Local dates at the daily cap, as instants at which no slot may start.
    full: list[Range] = []
    if cap is not None and capped:
        starts, _, offs = _segments_for(key, d0 * DAY - DAY, (d1 + 2) * DAY)
        seg_lo, seg_hi = d0 * DAY - DAY, (d1 + 2) * DAY
        counts: dict[int, int] = {}
        for t in capped:
            if seg_lo <= t < seg_hi:
                d = (t + offs[bisect_right(starts, t) - 1]) // DAY
                counts[d] = counts.get(d, 0) + 1
        for d in sorted(d for d, c in counts.items() if c >= cap):
            full.extend(_wall_to_instants(key, d * DAY, d * DAY + DAY))
        full.sort()

    runs: list[tuple[int, int]] = []  # (first start, how many) on the grid
    found = 0
    jb = 0
    nb = len(blocks)
    jf = 0
    nf = len(full)
    for idx in range(i0, n):
        a, b = intervals[idx]
        if a > hi:
            break
        g = first_anchor if idx == i0 else a
        # Free gaps of [a, b) between busy blocks.
        while jb < nb and blocks[jb][1] <= a:
            jb += 1
        cur = a
        j = jb
        while cur < b:
            if j < nb and blocks[j][0] < b:
                gap_end = blocks[j][0]
                nxt = blocks[j][1]
                j += 1
            else:
                gap_end = b
                nxt = b
            # Starts allowed in [cur, gap_end): the slot must end by gap_end.
            x = cur if cur > lo else lo
            y = gap_end - dur
            if y > hi:
                y = hi
            if x <= y:
                if nf:
                    while jf < nf and full[jf][1] <= x:
                        jf += 1
                    k = jf
                    pieces: list[Range] = []
                    while x <= y:
                        if k < nf and full[k][0] <= y:
                            fs, fe = full[k]
                            if fs > x:
                                pieces.append((x, fs - 1))
                            if fe > x:
                                x = fe
                            k += 1
                        else:
                            pieces.append((x, y))
                            break
                else:
                    pieces = [(x, y)]
                for px, py in pieces:
                    first = g + -((g - px) // stp) * stp
                    if first <= py:
                        count = (py - first) // stp + 1
                        runs.append((first, count))
                        found += count
                if limit is not None and found >= limit:
                    return _materialize(runs, stp, limit)
            if nxt > cur:
                cur = nxt
            else:
                break
    return _materialize(runs, stp, limit)


def first_free_slot(
    schedule: Schedule,
    busy: Iterable[Busy],
    duration: timedelta,
    now: datetime,
    *,
    start: datetime | None = None,
    step: timedelta = SLOT_GRID,
) -> datetime | None:
    """The earliest bookable start, or None when the horizon holds none.

    Looks a week ahead first, then further: most experts have a slot soon, and
    a short range converts fewer meetings. Narrowing never shifts the grid, so
    the answer is the same as free_slots(...)[0].
    """
    now = ensure_utc(now)
    rules = schedule.rules
    busy = busy if isinstance(busy, list) else list(busy)
    lo = max(now, now + rules.min_notice)
    if start is not None:
        lo = max(lo, ensure_utc(start))
    hi = now + rules.horizon
    for span in (timedelta(days=8), timedelta(days=56), None):
        until = hi if span is None else min(hi, lo + span)
        slots = free_slots(schedule, busy, duration, now, start=lo, end=until, step=step, limit=1)
        if slots:
            return slots[0]
        if until >= hi:
            return None
        lo = until
    return None


def check_slot(
    schedule: Schedule, busy: Iterable[Busy], start: datetime, duration: timedelta, now: datetime,
    *, grid: timedelta = SLOT_GRID,
) -> SlotProblem | None:
    """Why this exact start cannot be booked (None when it can).

    Problems are reported in a fixed order so the user hears the most basic one:
    PAST, TOO_SOON, BEYOND_HORIZON, OUTSIDE_AVAILABILITY, OFF_GRID, DAY_FULL, TAKEN.
    A start is on the grid when it is a whole number of `grid` steps after the
    anchor of the open interval that holds the meeting (free_slots' grid).
    """
    start = ensure_utc(start)
    now = ensure_utc(now)
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, not {duration}")
    stp = _whole_seconds(grid, "grid")
    rules = schedule.rules
    if start < now:
        return SlotProblem.PAST
    if start < now + rules.min_notice:
        return SlotProblem.TOO_SOON
    if start > now + rules.horizon:
        return SlotProblem.BEYOND_HORIZON
    end = start + duration
    plan = _plan(schedule)
    s_us = _exact_us(start)
    e_us = _exact_us(end)
    s = s_us // _US
    d0 = s // DAY - 2
    holder: int | None = None
    for x, y in _intervals(plan, d0, e_us // _US // DAY + 2):
        if x * _US <= s_us and e_us <= y * _US:
            holder = x
            break
        if x * _US > s_us:
            break
    if holder is None:
        return SlotProblem.OUTSIDE_AVAILABILITY
    if (s_us - _anchor(plan, holder, d0) * _US) % (stp * _US):
        return SlotProblem.OFF_GRID
    busy = list(busy)
    for b in busy:
        if b.start.tzinfo is None or b.end.tzinfo is None:
            raise ValueError(f"busy times must be aware datetimes: {b!r}")
    cap = rules.daily_cap
    if cap is not None:
        day = _local_day(plan.key, s)
        count = sum(1 for b in busy if b.counts_toward_cap and _local_day(plan.key, _floor_s(b.start)) == day)
        if count >= cap:
            return SlotProblem.DAY_FULL
    buf = rules.buffer
    for b in busy:
        bs = b.start - buf
        be = b.end + buf
        if bs < be and bs < end and be > start:
            return SlotProblem.TAKEN
    return None


NEAREST_WITHIN = timedelta(hours=12)


def nearest_free_slots(
    schedule: Schedule, busy: Iterable[Busy], start: datetime, duration: timedelta, now: datetime,
    *, grid: timedelta = SLOT_GRID,
) -> tuple[datetime, ...]:
    """The free grid starts closest to `start`: the last one before it and the first one after it (within 12 h),
    what to offer instead of a start that does not work."""
    start = ensure_utc(start)
    slots = free_slots(schedule, busy, duration, now, start=start - NEAREST_WITHIN, end=start + NEAREST_WITHIN,
                       step=grid)
    i = bisect_left(slots, start)
    j = bisect_right(slots, start)
    return tuple(slots[i - 1:i] + slots[j:j + 1])
