"""Durable intake: what a receiving process does before it acknowledges (one insert into inbound_events,
its own transaction), and events per second through one and two intake workers running the real
dispatcher (console events, so no platform API is in the way)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from sqlalchemy import Engine

from bench.harness import percentiles, postgres_available, postgres_db, sqlite_db
from bot.dispatcher import Dispatcher
from bot.events import Incoming, Sender, parse_text
from bot.flows import all_flows
from bot.intake import Processing
from bot.router import Router
from core.clock import SystemClock
from storage.intake_repo import NewEvent, StoredEvent
from storage.uow import SqlUnitOfWork

STORES = 500
PEOPLE, EACH = 40, 10


class ConsoleEvents:
    """Stored events as console messages through the real dispatcher."""

    platform = "console"

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def process(self, event: StoredEvent) -> None:
        data = json.loads(event.payload)
        incoming: Incoming = parse_text(Sender("console", data["user"], data["user"]), event.event_key, data["text"])
        await asyncio.to_thread(self.dispatcher.handle, incoming)

    def sender_of(self, event: StoredEvent) -> Sender | None:
        return None


def store_latency(engine: Engine) -> tuple[float, float]:
    clock = SystemClock()
    samples = []
    for n in range(STORES):
        event = NewEvent("telegram", f"lat{n}", f"telegram:{n % 50}", json.dumps({"update_id": n, "x": "y" * 300}))
        t0 = time.perf_counter()
        with SqlUnitOfWork(engine, clock) as uow:
            uow.intake.store([event])
            uow.commit()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def throughput(engine: Engine, workers: int, round_: int) -> float:
    clock = SystemClock()
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    texts = ("/help", "/credits", "hello", "/sessions", "/cancel")
    events = [NewEvent("console", f"r{round_}-{p}-{n}", f"console:u{round_}x{p}",
                       json.dumps({"user": f"u{round_}x{p}", "text": texts[n % len(texts)]}))
              for n in range(EACH) for p in range(PEOPLE)]
    with factory() as uow:
        uow.intake.store(events)
        uow.commit()
    pools = []
    for _ in range(workers):
        dispatcher = Dispatcher(factory, clock, all_flows(), Router(["console"]))
        p = Processing(factory, kind="bench", concurrency=16, poll_seconds=0.02)
        p.worker.serve(ConsoleEvents(dispatcher))
        pools.append(p)

    def left() -> int:
        with factory() as uow:
            return uow.intake.unfinished("console")

    def run(p: Processing) -> None:
        async def main() -> None:
            await p.start()
            while left():
                await asyncio.sleep(0.01)
            await p.stop()
            await p.goodbye()
        asyncio.run(main())

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(p,)) for p in pools]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(events) / (time.perf_counter() - t0)


def run() -> list[tuple[str, str]]:
    results = []
    engines = [("SQLite", sqlite_db)] + ([("PostgreSQL", postgres_db)] if postgres_available() else [])
    for name, database in engines:
        with database() as engine:
            p50, p99 = store_latency(engine)
            one = throughput(engine, 1, 1)
            two = throughput(engine, 2, 2)
        results.append((f"{name}: store before the ack (one insert, one transaction)",
                        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms ({STORES} events)"))
        results.append((f"{name}: events through the dispatcher, one worker", f"{one:.0f} events/s"))
        results.append((f"{name}: the same, two workers (threads, one database)", f"{two:.0f} events/s"))
    if not postgres_available():
        results.append(("PostgreSQL intake", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    return results


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
