"""A stop never waits on the database: with every table it would write to locked by someone else (an
SQLite writer, a PostgreSQL lock), stopping a receiving runtime still ends within its drain time and a few
seconds, instead of each step sitting out the lock timeout (30 s on SQLite, 20 s in these tests on
PostgreSQL). What it could not record is left for the next process (the heartbeat expires)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine

from tests.adapters.telegram.harness import RunningBot
from tests.fakes.telegram_server import FakeTelegram

CHEN = 7000000001
DRAIN = 1.0
BOUND = DRAIN + 5.0  # the runtime's own steps (about drain + 4 s) and a margin for a loaded machine


def lock_everything(db: Engine):  # type: ignore[no-untyped-def]
    conn = db.connect()
    if db.dialect.name == "sqlite":
        conn.exec_driver_sql("SELECT 1")  # every transaction here is BEGIN IMMEDIATE: the one writer
    else:
        conn.exec_driver_sql("BEGIN")
        # In the order the workers' own transactions take them (events or outbox, then heartbeats), or the
        # lock and a claim that already recorded finished events would deadlock, and PostgreSQL cancels one.
        conn.exec_driver_sql("LOCK TABLE inbound_events, outbox, process_heartbeats IN ACCESS EXCLUSIVE MODE")
    return conn


def test_a_stop_with_the_database_locked_ends_in_bounded_time(uow, clock, db):
    with FakeTelegram() as fake:
        bot = RunningBot(fake, uow, clock, polling=True)
        with bot:
            fake.user(CHEN)
            fake.deliver(fake.message(CHEN, "/credits"))
            fake.wait_for(lambda f: len(f.sent(CHEN)) >= 1)  # a new person: a welcome comes first, then more
            fake.deliver(fake.message(CHEN, "/help"))  # may be in hand when the lock comes
            held = lock_everything(db)
            try:
                started = time.monotonic()
                bot.call(bot.runtime.stop(drain_seconds=DRAIN), timeout=60)
                took = time.monotonic() - started
            finally:
                held.rollback()
                held.close()
            # What the stop left behind (a store, a step waiting on the lock) finishes now, inside this test,
            # not in the database of the next one.
            bot.runtime._batches.shutdown(wait=True)  # noqa: SLF001
            bot.call(_threads_done(), timeout=60)
            bot.runtime.stop = _already_stopped  # type: ignore[method-assign]
        assert took < BOUND, f"the stop took {took:.1f} s with the database locked"


async def _threads_done() -> None:
    await asyncio.get_running_loop().shutdown_default_executor()


async def _already_stopped(drain_seconds: float = 5.0) -> None:
    return None
