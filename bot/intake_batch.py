"""Group commit for the inserts before an ack: requests that arrive while the store threads are busy wait
and are stored together, in one transaction, by the next thread free (which takes them itself, without
waiting for the event loop). A burst (50 people pressing at
once) then costs a few transactions instead of fifty, each with its round trips, its commit and its turns
at the GIL in the receiving process; a request alone is stored at once, as before. Each request is
still answered only after the transaction holding it committed: nothing acknowledged is unstored."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from storage.errors import unavailable
from storage.intake_repo import NewEvent
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

MOST = 100  # events per transaction
STORE_THREADS = 4  # transactions at once: threads of their own, so an insert never queues behind the flows
WARM_SECONDS = 2.0  # warm(): how long a thread waits for the others before giving its connection back


class StoreBatches:
    """await batches.store(event): returns once `event` is committed, raises what its transaction raised.
    A receiving runtime's one way to store (for_platform): the webhook and Slack requests one by one, long
    polling a page of updates at once (store_many)."""

    @classmethod
    def for_platform(cls, uow_factory: Callable[[], SqlUnitOfWork], platform: str) -> StoreBatches:
        """Into the database, on threads of their own: in the default pool the inserts would queue behind
        the flows' work, and the acks with them."""
        def store(events: list[NewEvent]) -> None:
            with uow_factory() as uow:
                uow.intake.store(events)
                uow.commit()

        def connect(everyone: threading.Barrier) -> None:
            with uow_factory() as uow, uow.intake.connection_held():
                everyone.wait(WARM_SECONDS)  # held until each thread has one: a connection apiece

        pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix=f"{platform}-intake")
        return cls(store, pool, STORE_THREADS, connect)

    def __init__(self, store: Callable[[list[NewEvent]], object], pool: ThreadPoolExecutor, parallel: int,
                 connect: Callable[[threading.Barrier], object] | None = None) -> None:
        self._store = store
        self._pool = pool
        self._parallel = parallel  # transactions at once: the pool's threads
        self._connect = connect
        self._lock = threading.Lock()  # the waiting line is shared by the event loop and the store threads
        self._waiting: deque[tuple[NewEvent, asyncio.Future[None]]] = deque()
        self._running = 0  # store threads draining the line

    async def warm(self) -> None:
        """Start every store thread with a database connection of its own, at start: in the first burst
        each new connection (about 10 ms on PostgreSQL) held up the requests queued behind it. Best effort:
        a database away now is reported by the first request."""
        if self._connect is None:
            return
        loop = asyncio.get_running_loop()
        everyone = threading.Barrier(self._parallel)
        outcomes = await asyncio.gather(*(loop.run_in_executor(self._pool, self._connect, everyone)
                                          for _ in range(self._parallel)), return_exceptions=True)
        failed = next((o for o in outcomes if isinstance(o, Exception)), None)
        if failed is not None:
            log.info("store connections not opened at start (%s); the first requests open them",
                     type(failed).__name__)

    async def store_many(self, events: list[NewEvent]) -> None:
        """These events in one transaction of their own (a page of long polling), on the same threads."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._store, events)

    def shutdown(self, *, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait)

    async def store(self, event: NewEvent) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((event, done))
            start = self._running < self._parallel
            if start:
                self._running += 1
        if start:
            try:
                self._pool.submit(self._drain)
            except RuntimeError as error:  # the pool was shut down (a stop): nothing stored, each request told
                with self._lock:
                    self._running -= 1
                    left, self._waiting = list(self._waiting), deque()
                for _event, waiting in left:
                    if not waiting.done():
                        waiting.set_exception(error)
        await done

    def _drain(self) -> None:
        """On a store thread: what is waiting, batch after batch, until nothing is. The thread takes the next
        batch itself as soon as it committed one, so a burst keeps the threads busy even while the event
        loop is still reading the rest of it (it only hears back to answer the requests)."""
        batch: list[tuple[NewEvent, asyncio.Future[None]]] = []
        try:
            while True:
                with self._lock:  # seeing nothing left and leaving are one step: store() starts a new drain
                    if not self._waiting:
                        self._running -= 1
                        return
                    batch = [self._waiting.popleft() for _ in range(min(MOST, len(self._waiting)))]
                outcomes = self._store_all([event for event, _ in batch])
                _answer(batch, outcomes)
                batch = []
        except BaseException as error:  # a bug, not the database: the batch in hand is told, not left waiting
            log.exception("a store thread failed; its %d requests are told so", len(batch))
            _answer(batch, [error] * len(batch))
            with self._lock:
                self._running -= 1
                more = bool(self._waiting)
                if more:
                    self._running += 1
            if more:  # the others still waiting get a thread of their own
                self._pool.submit(self._drain)
            raise

    def _store_all(self, events: list[NewEvent]) -> list[BaseException | None]:
        """Together; if that fails for a reason other than the database being away, each alone, so one
        event the database refuses does not take the others down with it."""
        try:
            self._store(events)
            return [None] * len(events)
        except Exception as error:  # noqa: BLE001 - given to each request's ack (a 500: Slack retries)
            if len(events) == 1 or unavailable(error):
                return [error] * len(events)
        outcomes: list[BaseException | None] = []
        for event in events:
            try:
                self._store([event])
                outcomes.append(None)
            except Exception as error:  # noqa: BLE001 - this request's own failure
                outcomes.append(error)
        return outcomes


def _answer(batch: list[tuple[NewEvent, asyncio.Future[None]]], outcomes: list[BaseException | None]) -> None:
    """From a store thread: each request told on its own event loop, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], BaseException | None]]] = {}
    for (_event, done), outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(done.get_loop(), []).append((done, outcome))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, answers)
        except RuntimeError:  # that loop is closed: nobody is waiting for these answers any more
            pass


def _settle(answers: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for done, outcome in answers:
        if done.done():  # the request went away (its connection closed)
            continue
        if outcome is None:
            done.set_result(None)
        else:
            done.set_exception(outcome)
