"""Group commit before the ack (bot.intake_batch): a burst is stored in a few transactions, each request
returns only once its own transaction committed, and one event the database refuses fails alone."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from bot.intake_batch import StoreBatches
from storage.intake_repo import NewEvent


def event(n: int) -> NewEvent:
    return NewEvent("slack", f"e{n}", f"slack:U{n}", "{}")


class SlowStore:
    """Records each transaction's events, and when it committed; refuses the keys in `bad`."""

    def __init__(self, bad: frozenset[str] = frozenset(), down: bool = False) -> None:
        self.transactions: list[list[str]] = []
        self.committed: dict[str, float] = {}
        self.bad, self.down = bad, down
        self.lock = threading.Lock()
        self.calls = 0

    def __call__(self, events: list[NewEvent]) -> None:
        with self.lock:
            self.calls += 1
        time.sleep(0.02)
        if self.down:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        if any(e.event_key in self.bad for e in events):
            raise ValueError("refused")
        with self.lock:
            self.transactions.append([e.event_key for e in events])
            for e in events:
                self.committed[e.event_key] = time.monotonic()


async def burst(store: SlowStore, n: int) -> list[tuple[str, float, BaseException | None]]:
    pool = ThreadPoolExecutor(2)
    batches = StoreBatches(store, pool, parallel=2)

    async def one(k: int) -> tuple[str, float, BaseException | None]:
        try:
            await batches.store(event(k))
            return f"e{k}", time.monotonic(), None
        except Exception as error:  # noqa: BLE001 - the test looks at it
            return f"e{k}", time.monotonic(), error

    try:
        return await asyncio.gather(*(one(k) for k in range(n)))
    finally:
        pool.shutdown()


def test_a_burst_is_stored_in_few_transactions_and_each_returns_after_its_commit():
    store = SlowStore()
    results = asyncio.run(burst(store, 50))
    assert sorted(k for t in store.transactions for k in t) == sorted(f"e{k}" for k in range(50))
    assert len(store.transactions) <= 4  # two alone at once, then the rest together
    for key, returned, error in results:
        assert error is None and returned >= store.committed[key]


def test_an_event_the_database_refuses_fails_alone():
    store = SlowStore(bad=frozenset({"e7"}))
    results = {key: error for key, _, error in asyncio.run(burst(store, 20))}
    assert isinstance(results.pop("e7"), ValueError)
    assert all(error is None for error in results.values())
    assert "e7" not in store.committed and len(store.committed) == 19


def test_with_the_database_away_every_request_fails_without_being_tried_one_by_one():
    store = SlowStore(down=True)
    results = asyncio.run(burst(store, 10))
    assert all(isinstance(error, OperationalError) for _, _, error in results)
    assert store.calls <= 4  # each transaction once: no point trying its events alone


def test_a_request_alone_is_stored_at_once():
    store = SlowStore()
    t0 = time.monotonic()
    asyncio.run(burst(store, 1))
    assert store.transactions == [["e0"]] and time.monotonic() - t0 < 1.0


def test_warm_gives_each_store_thread_a_connection_of_its_own_before_the_first_request(db, clock, caplog):
    """for_platform's warm(): the pool holds a connection per store thread once it returns (the first burst
    opens none); with the database away it only says so, in one line."""
    from bot.intake_batch import STORE_THREADS
    from storage.uow import SqlUnitOfWork

    fresh = create_engine(db.url.render_as_string(hide_password=False))  # its own pool: nothing open yet
    batches = StoreBatches.for_platform(lambda: SqlUnitOfWork(fresh, clock), "slack")
    try:
        assert fresh.pool.checkedin() == 0  # type: ignore[attr-defined]
        asyncio.run(batches.warm())
        assert fresh.pool.checkedin() == STORE_THREADS  # type: ignore[attr-defined]
    finally:
        batches.shutdown(wait=True)
        fresh.dispose()
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", pool_pre_ping=False)
    away = StoreBatches.for_platform(lambda: SqlUnitOfWork(broken, clock), "slack")
    try:
        caplog.set_level(logging.INFO)
        asyncio.run(away.warm())
    finally:
        away.shutdown(wait=True)
        broken.dispose()
    assert any("store connections not opened" in r.getMessage() for r in caplog.records)


def test_a_bug_in_a_store_thread_answers_its_batch_and_the_rest_still_get_stored():
    """Not the database: something escapes the store itself. The requests of that batch get the error,
    nothing waits for ever, and what arrives after is stored as usual."""
    class Bug(BaseException):  # not an Exception: escapes the per-event retry
        pass

    calls = {"n": 0}

    def store(events: list[NewEvent]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Bug
        time.sleep(0.01)

    async def run() -> list[BaseException | None]:
        pool = ThreadPoolExecutor(1)
        batches = StoreBatches(store, pool, parallel=1)

        async def one(k: int) -> BaseException | None:
            try:
                await asyncio.wait_for(batches.store(event(k)), 5)
                return None
            except BaseException as error:  # noqa: BLE001 - the test looks at it
                return error

        try:
            first = await one(0)
            rest = await asyncio.gather(*(one(k) for k in range(1, 6)))
            return [first, *rest]
        finally:
            pool.shutdown()

    outcomes = asyncio.run(run())
    assert isinstance(outcomes[0], Bug)
    assert outcomes[1:] == [None] * 5
