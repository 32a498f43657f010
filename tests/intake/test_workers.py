"""Intake workers over the real database: two workers share 500 events of 50 people without running one
twice or one person's out of order; a worker that died holding events is taken over within seconds;
a poison event is given up after MAX_ATTEMPTS and the person is told once."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from datetime import timedelta

import pytest

from bot.events import Sender
from bot.intake import IntakeWorker, Processing
from core.clock import SystemClock
from storage.intake_repo import NewEvent, StoredEvent
from storage.uow import SqlUnitOfWork


class Recorder:
    """An IntakeHandler that notes what it ran, and by whom, taking a little time like real work."""

    platform = "telegram"

    def __init__(self, name: str, log: list[tuple[str, str, int]], lock: threading.Lock,
                 fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.name, self.log, self.lock, self.fail = name, log, lock, fail

    async def process(self, event: StoredEvent) -> None:
        data = json.loads(event.payload)
        if event.event_key in self.fail:
            raise RuntimeError("poison")
        await asyncio.sleep(random.random() * 0.004)
        with self.lock:
            self.log.append((self.name, data["person"], data["n"]))

    def sender_of(self, event: StoredEvent) -> Sender | None:
        person = json.loads(event.payload)["person"]
        return Sender("telegram", person, person)


def store(factory, people: int, each: int) -> None:  # type: ignore[no-untyped-def]
    events = [NewEvent("telegram", f"{p}-{n}", f"telegram:{p}", json.dumps({"person": str(p), "n": n}))
              for n in range(each) for p in range(people)]
    with factory() as uow:
        uow.intake.store(events)
        uow.commit()


def unfinished(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as uow:
        return uow.intake.unfinished()


def run_workers(processings: list[Processing], until, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Each Processing in its own thread and event loop (as in its own process), until `until()`."""
    def run(p: Processing) -> None:
        async def main() -> None:
            await p.start()
            deadline = time.monotonic() + timeout
            while not until() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await p.stop()
            await p.goodbye()
        asyncio.run(main())

    threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in processings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)


@pytest.fixture
def factory(db):  # type: ignore[no-untyped-def]
    clock = SystemClock()
    return lambda: SqlUnitOfWork(db, clock)


def test_two_workers_run_500_events_of_50_people_once_each_and_in_order(factory, db):
    store(factory, people=50, each=10)
    log: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    pools = []
    for name in ("w1", "w2"):
        p = Processing(factory, kind="test", concurrency=16, poll_seconds=0.02)
        p.worker.serve(Recorder(name, log, lock))
        pools.append(p)
    run_workers(pools, lambda: unfinished(factory) == 0)
    assert unfinished(factory) == 0
    assert len(log) == 500 and len({(p, n) for _, p, n in log}) == 500  # nothing twice, nothing missing
    for person in map(str, range(50)):
        assert [n for _, p, n in log if p == person] == list(range(10))  # each person's order kept
    if db.dialect.name == "postgresql":  # one writer at a time on SQLite: sharing is only required here
        assert {w for w, _, _ in log} == {"w1", "w2"}


def test_a_dead_workers_events_are_taken_over_within_seconds_in_order(factory):
    store(factory, people=3, each=4)
    with factory() as uow:  # a worker that claimed each person's first event and then was killed
        uow.heartbeats.beat(["dead"], kind="test", host="h", pid=1, dead_after=timedelta(seconds=1.5))
        assert len(uow.intake.claim_next("dead", 10, timedelta(minutes=5))) == 3
        uow.commit()
    log: list[tuple[str, str, int]] = []
    p = Processing(factory, kind="test", poll_seconds=0.05, heartbeat_seconds=0.5)
    p.worker.serve(Recorder("live", log, threading.Lock()))
    started = time.monotonic()
    run_workers([p], lambda: unfinished(factory) == 0, timeout=30)
    took = time.monotonic() - started
    assert unfinished(factory) == 0
    assert took < 5, took  # the heartbeat's 1.5 s, not the lease's 5 minutes
    for person in map(str, range(3)):
        assert [n for _, q, n in log if q == person] == [0, 1, 2, 3]


def test_a_poison_event_is_given_up_and_the_person_told_once_while_the_rest_go_on(factory):
    store(factory, people=2, each=2)
    log: list[tuple[str, str, int]] = []
    p = Processing(factory, kind="test", poll_seconds=0.02)
    p.worker.max_attempts = 3
    p.worker.serve(Recorder("w", log, threading.Lock(), fail={"0-0"}))
    original = p.worker._failed

    async def no_wait(handler, event, error):  # type: ignore[no-untyped-def]
        await original(handler, event, error)
        with factory() as uow:  # skip the backoff: make the retry due now
            uow.session.execute(__import__("sqlalchemy").text(
                "UPDATE inbound_events SET available_at = received_at WHERE id = :i"), {"i": event.id})
            uow.commit()

    p.worker._failed = no_wait  # type: ignore[method-assign]
    run_workers([p], lambda: unfinished(factory) == 0, timeout=30)
    with factory() as uow:
        assert uow.intake.counts() == {("telegram", "done"): 3, ("telegram", "failed"): 1}
        told = uow.outbox.pending("telegram")
    assert [(m.chat_id, json.loads(m.payload)["text"]) for m in told] == [
        ("0", "Something went wrong. Nothing was changed; please try again.")]
    assert sorted((q, n) for _, q, n in log) == [("0", 1), ("1", 0), ("1", 1)]  # person 0 went on after
