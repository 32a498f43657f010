"""Group commit for the inserts before an ack: requests that arrive while the store threads are busy wait
and are stored together, in one transaction, by the next thread free. A burst (50 people pressing at
once) then costs a few transactions instead of fifty, each with its round trips, its commit and its turns
at the GIL in the receiving process; a request alone is stored at once, as before. Each request is
still answered only after the transaction holding it committed: nothing acknowledged is unstored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from storage.errors import unavailable
from storage.intake_repo import NewEvent
from storage.uow import SqlUnitOfWork

MOST = 100  # events per transaction
STORE_THREADS = 4  # transactions at once: threads of their own, so an insert never queues behind the flows


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

        pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix=f"{platform}-intake")
        return cls(store, pool, STORE_THREADS)

    def __init__(self, store: Callable[[list[NewEvent]], object], pool: ThreadPoolExecutor, parallel: int) -> None:
        self._store = store
        self._pool = pool
        self._parallel = parallel  # transactions at once: the pool's threads
        self._waiting: list[tuple[NewEvent, asyncio.Future[None]]] = []
        self._running = 0

    async def store_many(self, events: list[NewEvent]) -> None:
        """These events in one transaction of their own (a page of long polling), on the same threads."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._store, events)

    def shutdown(self, *, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait)

    async def store(self, event: NewEvent) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((event, done))
        if self._running < self._parallel:
            self._next(loop)
        await done

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._waiting = self._waiting[:MOST], self._waiting[MOST:]
        try:
            work = loop.run_in_executor(self._pool, self._store_all, [event for event, _ in batch])
        except RuntimeError as error:  # the pool was shut down (a stop): nothing stored, each request told
            for _event, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        self._running += 1
        work.add_done_callback(lambda finished: self._settled(loop, batch, finished))

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

    def _settled(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[NewEvent, asyncio.Future[None]]],
                 finished: asyncio.Future[list[BaseException | None]]) -> None:
        self._running -= 1
        failure = finished.exception() if not finished.cancelled() else asyncio.CancelledError()
        outcomes: list[BaseException | None] = [failure] * len(batch) if failure else finished.result()
        for (_event, done), outcome in zip(batch, outcomes, strict=True):
            if done.done():  # the request went away (its connection closed)
                continue
            if outcome is None:
                done.set_result(None)
            else:
                done.set_exception(outcome)
        if self._waiting and self._running < self._parallel:
            self._next(loop)
