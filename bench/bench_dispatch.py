"""A full booking conversation through the dispatcher: time per step (target p99 <= 10 ms in-process).

Each round, a different founder books through the console adapter: /book with
a topic, an expert card, length, count, day, slot, title, outcome, two skips,
no files, confirm. Steps are timed from the typed line to the replies being
delivered (dispatcher transaction and console delivery). Run standalone:
python -m bench.bench_dispatch
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from bench.harness import percentiles, postgres_available, postgres_db, sqlite_db
from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher, Handled
from bot.events import Incoming
from bot.flows import all_flows
from bot.router import Router
from core.amounts import credits_to_milli
from core.clock import FixedClock
from core.credit_service import grant
from core.credits import Source
from core.experts import Expert, ExpertKind
from core.model import Person
from core.schedule import Schedule, WeeklyWindow
from storage.uow import SqlUnitOfWork

NOW = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
ROUNDS = 60
OTHER_EXPERTS = 200


def _world(engine: Engine, rounds: int) -> None:
    uow = SqlUnitOfWork(engine, FixedClock(NOW))
    with uow:
        for i in range(OTHER_EXPERTS + 1):
            handle = "eve" if i == 0 else f"x{i}"
            person = uow.people.add(Person(None, handle, "Eve Stone" if i == 0 else f"Expert {i}", timezone="Europe/London"))
            uow.experts.put(
                Expert(None, person.id, handle, person.name, "Europe/London", ExpertKind.COMPENSATED,
                       headline="Seed fundraising for B2B SaaS" if i == 0 else "Operator and advisor",
                       topics=("Fundraising", "Pricing") if i == 0 else ("Hiring", "Operations")),
                Schedule("Europe/London", tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5))),
            )
        for n in range(rounds):
            founder = uow.people.add(Person(None, f"f{n}", f"Founder {n}", timezone="Asia/Kolkata"))
            grant(uow, key=f"bench:{n}", amount_milli=credits_to_milli(10), source=Source.INDIVIDUAL, person_id=founder.id)
        uow.commit()


def _press(chat: ConsoleChat, prefix: str) -> list[str]:
    """Press the button labelled `label` (or the first button just shown)."""
    if not prefix:
        return chat.press(*chat.button("1"))
    return chat.press(*chat.button(prefix))


def _conversation(chat: ConsoleChat) -> list[Callable[[], list[str]]]:
    return [
        lambda: chat.type("/book fundraising"),
        lambda: _press(chat, "Book Eve Stone"),
        lambda: _press(chat, "30 min · 0.5 credits"),
        lambda: chat.type("1"),
        lambda: _press(chat, ""),  # the first day offered
        lambda: _press(chat, ""),  # its first slot
        lambda: chat.type("Seed round narrative"),
        lambda: chat.type("A pitch storyline I can test with five investors"),
        lambda: chat.type("Skip"),
        lambda: chat.type("Skip"),
        lambda: chat.type("Done"),
        lambda: chat.type("Confirm"),
    ]


def measure(engine: Engine, rounds: int = ROUNDS) -> tuple[float, float, float, float, int, int]:
    _world(engine, rounds)
    clock = FixedClock(NOW)
    factory = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    dispatcher = Dispatcher(factory, clock, all_flows(), Router(["console"]))
    handled: list[float] = []  # the dispatcher's transaction: dedupe, state, flow, outbox, commit
    typed: list[float] = []  # the same plus the console printing and marking the replies sent
    handle = dispatcher.handle

    def timed_handle(incoming: Incoming) -> Handled:
        t0 = time.perf_counter()
        try:
            return handle(incoming)
        finally:
            handled.append((time.perf_counter() - t0) * 1000)

    dispatcher.handle = timed_handle  # type: ignore[method-assign]  # the bench times the live dispatcher
    booked = 0
    warmup = len(_conversation(ConsoleChat(dispatcher, factory, "f0")))
    for n in range(rounds):
        chat = ConsoleChat(dispatcher, factory, f"f{n}")
        for step in _conversation(chat):
            t0 = time.perf_counter()
            out = step()
            typed.append((time.perf_counter() - t0) * 1000)
        booked += any("Request sent" in line for line in out)
    # the first round warms caches (dateparser's language data, tz offsets) and is left out
    return (*percentiles(handled[warmup:]), *percentiles(typed[warmup:]), len(handled), booked)


def run() -> list[tuple[str, str]]:
    results = []
    engines = [("SQLite", sqlite_db)] + ([("PostgreSQL", postgres_db)] if postgres_available() else [])
    for name, database in engines:
        with database() as engine:
            h50, h99, t50, t99, steps, booked = measure(engine)
        results.append((f"{name}: booking conversation, per step through the dispatcher",
                        f"p50 {h50:.1f} ms, p99 {h99:.1f} ms ({steps} steps, {booked} bookings)"))
        results.append((f"{name}: the same, including console delivery",
                        f"p50 {t50:.1f} ms, p99 {t99:.1f} ms"))
    if not postgres_available():
        results.append(("PostgreSQL booking conversation", "skipped: no PostgreSQL at BENCH_POSTGRES_URL"))
    return results


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
