"""Which reminder a meeting is due now. Stateless on purpose: the scheduler asks at every tick, and the
outbox key (meeting, offset, start) makes each reminder go once, whatever ran twice or was down.

The rule for downtime: a reminder whose time passed while nothing ran is still sent, late, if the
meeting has not started; only the nearest one is (a missed "in 24 hours" is not sent once the "in 1 hour"
one is due); and none once the meeting has started."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def due_reminder(start: datetime, offsets: Sequence[timedelta], now: datetime) -> timedelta | None:
    """The offset to remind for now (the smallest whose moment has come), or None."""
    if now >= start:
        return None
    come = [offset for offset in offsets if start - offset <= now]
    return min(come) if come else None


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """ "24h,1h" or "1d, 30m" -> offsets, largest first; ValueError names what it could not read."""
    units = {"d": 86400, "h": 3600, "m": 60}
    out: list[timedelta] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        number, unit = part[:-1], part[-1:]
        if unit not in units or not number.isdigit() or int(number) <= 0:
            raise ValueError(f"reminder offset {part!r}: use a number and d, h or m, e.g. 24h")
        out.append(timedelta(seconds=int(number) * units[unit]))
    if not out:
        raise ValueError("no reminder offsets given")
    return tuple(sorted(set(out), reverse=True))
