"""One scheduler acts at a time: a standby takes over when the leader's lock is gone, and a leader that lost
its lock stops acting. bot.scheduler.run itself, twice in one process (each with its own Leadership);
on PostgreSQL the leader's lock dies with its connection, which the test ends from outside; on SQLite the
lock file is held until the leader stops."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

import bot.scheduler as scheduler
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from core.reminders import parse_offsets


class Counting(scheduler.Jobs):
    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__(dispatcher, scheduler.SchedulerSettings(parse_offsets("24h,1h"), tick_seconds=0.2))
        self.ticks = 0

    def tick(self) -> scheduler.TickReport:
        self.ticks += 1
        return scheduler.TickReport()


class Recorded(scheduler.Leadership):
    """The real lead, remembering whether it got it and (PostgreSQL) the server process that holds it."""

    made: list[Recorded] = []

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine)
        self.got = False
        self.pid: int | None = None
        Recorded.made.append(self)

    def try_acquire(self) -> bool:
        self.got = super().try_acquire()
        if self.got and self._conn is not None:
            self.pid = int(self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            self._conn.commit()
        return self.got


async def until(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_a_standby_takes_over_when_the_lead_is_gone_and_a_leader_without_its_lock_stops(
        uow, clock, db, tmp_path, monkeypatch):
    if db.dialect.name != "postgresql":
        monkeypatch.chdir(tmp_path)  # SQLite's lock file lies next to the database
    Recorded.made = []
    monkeypatch.setattr(scheduler, "Leadership", Recorded)
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]))
    first, second = Counting(dispatcher), Counting(dispatcher)

    async def scenario() -> None:
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        leader = asyncio.create_task(scheduler.run(db, first, stop_first, standby_seconds=0.1))
        await until(lambda: first.ticks > 0, 10)
        standby = asyncio.create_task(scheduler.run(db, second, stop_second, standby_seconds=0.3))
        await until(lambda: len(Recorded.made) == 2, 5)
        await asyncio.sleep(1.0)
        lead, waiting = Recorded.made
        assert lead.got and not waiting.got and not standby.done()  # one leads, the other stands by
        try:
            if db.dialect.name == "postgresql":
                with db.connect() as conn:  # the leader's connection dies, and its lock with it
                    conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lead.pid})
                    conn.commit()
                await until(leader.done, 5)  # it noticed, and stopped acting, without being told to
                assert leader.exception() is None
                ticks = first.ticks
            else:
                stop_first.set()  # on SQLite the lock goes when the leader does
                await until(leader.done, 5)
            await until(lambda: waiting.got, 5)  # the standby took over
            assert not standby.done()
            if db.dialect.name == "postgresql":
                await asyncio.sleep(0.5)
                assert first.ticks == ticks  # the old leader does nothing any more
        finally:
            stop_first.set()
            stop_second.set()
            await asyncio.gather(leader, standby, return_exceptions=True)

    asyncio.run(scenario())
