"""`headstrt` (bot.cli) as it is, on a clock that reads BENCH_CLOCK_NOW at the real time BENCH_CLOCK_ANCHOR
and moves with the real time from there: python -m bench.headstrt_at web | worker.

The benchmarks' worlds are set at a fixed instant (bench.bench_telegram.NOW: a Monday, so "Tue 5 Mar" is
offered); every process of one run gets the same anchor, so they all read the same time."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import bot.bootstrap
from bot.cli import main


class BenchClock:
    """NOW + (real time - anchor): one shared, moving time for every process of the run."""

    def __init__(self) -> None:
        self.at = datetime.fromisoformat(os.environ["BENCH_CLOCK_NOW"])
        self.anchor = float(os.environ["BENCH_CLOCK_ANCHOR"])

    def now(self) -> datetime:
        return self.at + (datetime.now(UTC) - datetime.fromtimestamp(self.anchor, UTC))


if __name__ == "__main__":
    bot.bootstrap.SystemClock = BenchClock  # type: ignore[misc, assignment]  # the composition root's one clock
    sys.exit(main(sys.argv[1:]))
