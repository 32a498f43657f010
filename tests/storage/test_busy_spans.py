"""A person's calendar busy time packed into one row: joined, whole seconds, and read back by window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from storage.busy_spans import pack, unpack

T = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_overlapping_and_touching_intervals_are_joined_and_read_back_by_window():
    spans = pack([(T + 60 * MIN, T + 90 * MIN), (T, T + 30 * MIN), (T + 20 * MIN, T + 40 * MIN),
                  (T + 40 * MIN, T + 45 * MIN), (T + 200 * MIN, T + 200 * MIN)])
    assert unpack(spans, T - MIN, T + 300 * MIN) == [(T, T + 45 * MIN), (T + 60 * MIN, T + 90 * MIN)]
    assert unpack(spans, T + 45 * MIN, T + 60 * MIN) == []  # touching the window is not inside it
    assert unpack(spans, T + 44 * MIN, T + 61 * MIN) == [(T, T + 45 * MIN), (T + 60 * MIN, T + 90 * MIN)]
    assert unpack(pack([]), T, T + MIN) == []


def test_fractions_of_a_second_widen_the_busy_time_never_narrow_it():
    spans = pack([(T + timedelta(seconds=1.5), T + timedelta(seconds=3.2))])
    assert unpack(spans, T, T + MIN) == [(T + timedelta(seconds=1), T + timedelta(seconds=4))]


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), max_size=60),
       st.integers(0, 10_000), st.integers(1, 3000))
def test_every_busy_second_in_the_window_is_covered_by_exactly_one_span(items, lo, width):
    intervals = [(T + timedelta(seconds=s), T + timedelta(seconds=s + n)) for s, n in items]
    window = (T + timedelta(seconds=lo), T + timedelta(seconds=lo + width))
    found = unpack(pack(intervals), *window)
    assert all(a < b for a, b in found) and all(found[i][1] < found[i + 1][0] for i in range(len(found) - 1))
    for second in range(lo, lo + width):
        at = T + timedelta(seconds=second)
        busy = any(a <= at < b for a, b in intervals)
        assert busy == any(a <= at < b for a, b in found)
