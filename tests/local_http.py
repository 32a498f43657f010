"""Processes the tests (and the benches) start on 127.0.0.1: a free port to give one, and waiting for a
`headstrt web` to answer /health."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy_within(port: int, seconds: float, *, still_running: Callable[[], None] = lambda: None,
                   every: float = 0.1) -> bool:
    """True once 127.0.0.1:port/health answers 200, False when `seconds` pass first. still_running raises
    when the process waited for has died, so a crash is said at once instead of waited out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        still_running()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(every)
    return False
