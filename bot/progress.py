"""A progress bar on stderr for long operator commands (a large import), drawn only on a terminal:
piped or logged output stays clean. Plain text, no dependency."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

WIDTH = 30
EVERY_SECONDS = 0.1  # redraw at most this often


@contextmanager
def progress_bar(label: str, total: int, stream: TextIO | None = None) -> Iterator[Callable[[int], None]]:
    """Yields show(done). On a terminal: "label [#######.......] 1,200/5,000" redrawn in place, and the
    line ended when the block ends; elsewhere show() does nothing."""
    out = stream or sys.stderr
    if not out.isatty() or total <= 0:
        yield lambda done: None
        return
    last = 0.0

    def show(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done < total and now - last < EVERY_SECONDS:
            return
        last = now
        filled = WIDTH * min(done, total) // total
        out.write(f"\r{label} [{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,}")
        out.flush()

    show(0)
    try:
        yield show
    finally:
        out.write("\n")
        out.flush()
