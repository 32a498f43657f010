"""The life of a long-running process (web, telegram, slack --socket, scheduler): start, run until
SIGTERM or SIGINT, stop in order, and be gone within STOP_DEADLINE seconds whatever it was doing.

A process may be anywhere when the signal comes: still starting (a Bot API that does not answer),
retrying a database that went away, or inside a database call in a worker thread that only gives up
after its own timeout. So the orderly stop has STOP_SECONDS; then the work still running is cancelled;
and if a thread still holds the interpreter open (Python waits for worker threads on exit), the process
exits anyway at STOP_DEADLINE. Nothing is lost by that: what was not recorded is redelivered by the
platform, and what was queued stays in the outbox for the next process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

STOP_SECONDS = 6.0  # the orderly stop: finish work in hand, deliver what it queued
STOP_DEADLINE = 9.0  # from the signal to the process being gone, whatever happens
FORCED_EXIT_STATUS = 1


def run_until_signalled(
    start: Callable[[], Awaitable[object]],
    stop: Callable[[], Awaitable[object]],
    *,
    serve: Callable[[asyncio.Event], Awaitable[object]] | None = None,
    stop_seconds: float = STOP_SECONDS,
    deadline: float = STOP_DEADLINE,
) -> int:
    """start(), then serve(stopping) (default: wait for the signal), then stop(). A signal during
    start() abandons the start and stops at once; serve() returning on its own ends the process too."""
    signalled: list[float] = []  # when the signal came (monotonic)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        body = asyncio.current_task()
        assert body is not None

        def on_signal() -> None:
            if stopping.is_set():
                return
            log.info("stopping (signal received)")
            signalled.append(time.monotonic())
            stopping.set()
            loop.call_later(stop_seconds, body.cancel)  # the orderly stop ran out of time
            _exit_at(deadline)  # the event loop itself stuck (a blocking call in it): the last resort

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        try:
            if await _first(start(), stopping):
                await (serve(stopping) if serve is not None else stopping.wait())
        finally:
            try:
                await stop()
            except asyncio.CancelledError:
                log.warning("stopped before finishing in %.0f s; the next process takes over what is left",
                            stop_seconds)

    # Not asyncio.run(): it waits, without limit, for every worker thread, and one may be inside a
    # database call that only gives up after its own timeout.
    loop = asyncio.new_event_loop()
    workers = ThreadPoolExecutor(thread_name_prefix="headstrt-worker")
    loop.set_default_executor(workers)
    try:
        loop.run_until_complete(main())
    except asyncio.CancelledError:
        pass
    finally:
        _cancel_remaining(loop)
        workers.shutdown(wait=False, cancel_futures=True)
        loop.close()
    if signalled:  # the worker threads get what is left of the deadline to finish, then are left behind
        until = signalled[0] + deadline - 0.5
        threads = list(workers._threads)  # noqa: SLF001 - the executor has no public view of its threads
        for thread in threads:
            thread.join(max(until - time.monotonic(), 0))
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            log.warning("exiting with %d call(s) to the database unfinished (it does not answer); nothing of "
                        "theirs was committed", stuck)
            _flush()
            os._exit(0)
    return 0


RECEIVING_SWITCH_SECONDS = 0.001  # see quick_thread_switches


def quick_thread_switches() -> None:
    """For a process that receives: its event loop shares the interpreter with threads that write to the
    database (the insert before each ack, the embedded worker's steps), and after each round trip a thread
    needs the GIL back. At Python's default 5 ms switch interval an ack could wait that long, per round
    trip, while a booking is written; 1 ms keeps acknowledgements prompt."""
    sys.setswitchinterval(RECEIVING_SWITCH_SECONDS)


def lower_priority(niceness: int) -> None:
    """Run this process `niceness` steps below the others (a worker: the receiving process's acks, which
    Slack times at 3 s, must not wait for the CPU behind work that is queued anyway). Raising niceness
    needs no privilege; where the system has no such thing it is said once and skipped."""
    if niceness <= 0:
        return
    try:
        os.nice(niceness)
    except (AttributeError, OSError) as error:
        log.warning("could not lower this process's priority (%s); running at the normal one", error)


async def within(work: Awaitable[Any], seconds: float, *, grace: float = 0.5) -> bool:
    """Run one step of a stop for at most `seconds` (True when it finished). Past that it is cancelled and
    given `grace` to unwind, then left behind: a stop never waits on a database call that does not return
    (an SQLite lock waits 30 s, a shielded release as long). Its own error, if it finished, is raised."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=max(seconds, 0.0))
    if task.done():
        task.result()
        return True
    task.cancel()
    await asyncio.wait({task}, timeout=grace)
    if task.done() and not task.cancelled():
        task.exception()  # read, so an error while unwinding is not reported as never retrieved
    return False


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


async def _first(work: Awaitable[object], stopping: asyncio.Event) -> bool:
    """Run work until it finishes (True) or the signal comes first (False: work is cancelled)."""
    task = asyncio.ensure_future(work)
    waiting = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if task.done():
        task.result()  # a failed start is raised here
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def _exit_at(seconds: float) -> None:
    """A daemon timer that ends the process if it is still here after `seconds`."""

    def exit_now() -> None:
        log.error("still running %.1f s after the signal (a database or network call that does not return); "
                  "exiting now", seconds)
        _flush()
        os._exit(FORCED_EXIT_STATUS)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
