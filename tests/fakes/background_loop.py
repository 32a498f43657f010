"""Ending the event loop a test ran a runtime in, so that nothing of it outlives the test: a task still
pending (an outbox pump, an intake worker whose stop ran out of time) would otherwise go on claiming rows
of the next tests' database in a loop nobody watches."""

from __future__ import annotations

import asyncio
import threading


def end_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Cancel every task the loop still has, stop it and close it (it was run_forever in `thread`)."""

    async def cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)

    if loop.is_running():
        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(5)
        except Exception:  # noqa: BLE001 - the loop is stopped below whatever happened here
            pass
        loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    if not loop.is_running():
        loop.close()
