"""A person's calendar busy time packed into bytes: sorted, joined (start, end) epoch-second pairs as
little-endian int64, so the free-slot query reads and decodes one row, however busy the calendar."""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def pack(intervals: Iterable[tuple[datetime, datetime]]) -> bytes:
    """Floor the starts, ceil the ends, join what overlaps or touches."""
    joined: list[list[int]] = []
    for start, end in sorted((_floor(s), _ceil(e)) for s, e in intervals):
        if joined and start <= joined[-1][1]:
            if end > joined[-1][1]:
                joined[-1][1] = end
        elif start < end:
            joined.append([start, end])
    flat = array("q", [t for pair in joined for t in pair])
    if sys.byteorder != "little":
        flat.byteswap()
    return flat.tobytes()


def unpack(spans: bytes, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The spans overlapping [start, end)."""
    flat = array("q")
    flat.frombytes(spans)
    if sys.byteorder != "little":
        flat.byteswap()
    lo, hi = _floor(start), _ceil(end)
    ends = flat[1::2]
    i = bisect_left(ends, lo + 1)  # the first span ending after lo
    out = []
    for k in range(i, len(ends)):
        s = flat[2 * k]
        if s >= hi:
            break
        out.append((_EPOCH + timedelta(seconds=s), _EPOCH + timedelta(seconds=flat[2 * k + 1])))
    return out


def _floor(at: datetime) -> int:
    return (at - _EPOCH) // _SECOND


def _ceil(at: datetime) -> int:
    return -((_EPOCH - at) // _SECOND)
