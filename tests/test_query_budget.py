"""How many statements the hot steps send to the database, through the real dispatcher on SQLite and
PostgreSQL: a founder's Confirm of a booking request, the expert's Accept, and a press on the time picker.

Each statement is a round trip inside the step's transaction (and its row locks): a repeat (the same person,
expert or booking read again, one INSERT per outbox row) shows up here first. Counted: everything SQLAlchemy
sends on the connection while the dispatcher handles the event, except SQLite's BEGIN IMMEDIATE (PostgreSQL's
BEGIN is sent by the driver itself and is not seen either)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from tests import factories as f

# Reached (PostgreSQL / SQLite): Confirm 9 / 11 (was 32, then 13), Accept 9 / 11 (was 34, then 12 / 11),
# a picker press 6 / 6 (was 10, then 8). Confirm: the flow reads the expert with the lock the engine
# takes, and that one statement also locks and reads the client's wallets. Accept: the card's booking is
# read under the lock the engine needs. A picker press: the expert's hours, days off, meetings and calendar
# busy time in one query (its horizon is known from the expert the step loaded). A credit movement of one
# portion is one statement on PostgreSQL (movement, wallet, ledger entry as data-modifying CTEs), three on
# SQLite (no such CTEs). Left: booking and meetings as two INSERTs, and the dispatcher's four (event, state
# read, state write, outbox).
CONFIRM = {"postgresql": 9, "sqlite": 11}
ACCEPT = {"postgresql": 9, "sqlite": 11}
PICKER = {"postgresql": 6, "sqlite": 6}


class Statements:
    """The statements of the engine while `counting` is open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []
        self.on = False
        self.handling = False  # inside Dispatcher.handle (not the console printing the replies after it)

    def __call__(self, _conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if self.on and self.handling and statement != "BEGIN IMMEDIATE":
            self.seen.append(" ".join(statement.split()))

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.seen, self.on = [], True
        try:
            yield self.seen
        finally:
            self.on = False

    def budget(self, step: str, limits: dict[str, int], seen: list[str]) -> None:
        limit = limits[self.engine.dialect.name]
        listing = "\n".join(f"  {i + 1:2d}. {s[:160]}" for i, s in enumerate(seen))
        assert len(seen) <= limit, (
            f"{step} on {self.engine.dialect.name}: {len(seen)} statements, budget {limit}:\n{listing}"
        )


@pytest.fixture
def statements(db: Engine) -> Iterator[Statements]:
    counter = Statements(db)
    event.listen(db, "before_cursor_execute", counter)
    yield counter
    event.remove(db, "before_cursor_execute", counter)


@pytest.fixture
def console(uow, clock, statements) -> Callable[[str], ConsoleChat]:  # type: ignore[no-untyped-def]
    """Chats over one real dispatcher whose handling of each event (its one transaction) is what is counted."""
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]))
    handle = dispatcher.handle

    def counted(incoming):  # type: ignore[no-untyped-def]
        statements.handling = True
        try:
            return handle(incoming)
        finally:
            statements.handling = False

    dispatcher.handle = counted  # type: ignore[method-assign]
    return lambda handle_: ConsoleChat(dispatcher, uow, handle_)


@pytest.fixture
def world(uow) -> None:  # type: ignore[no-untyped-def]
    """@eve, an expert in London (Mon-Fri 9-17); @ana, a founder in Kolkata with 10 credits of her own."""
    with uow() as u:
        f.expert(u, "eve", headline="Seed investor", topics=("Fundraising", "Pitch decks"))
        f.expert(u, "pat", topics=("Hiring",))
        ana = f.person(u, "ana", tz="Asia/Kolkata")
        f.credits(u, amount="10", person_id=ana.id)
        u.commit()


def _to_summary(ana: ConsoleChat, statements: Statements) -> None:
    """From /book to the summary with its Confirm button; the day and slot presses are counted."""
    assert any("Book Eve" in line for line in ana.type("/book fundraising"))
    ana.type("Book Eve")
    ana.type("30 min · 0.5 credits")
    out = ana.type("1")
    assert any("Pick a day" in line for line in out), out
    with statements.counting() as seen:
        out = ana.type("1")  # the first day offered
    statements.budget("a day press on the picker", PICKER, seen)
    with statements.counting() as seen:
        out = ana.type("1")  # its first time
    statements.budget("a time press on the picker", PICKER, seen)
    assert any("Time:" in line for line in out), out
    ana.type("Seed round plan")
    ana.type("A plan for our seed round")
    ana.type("Skip")
    ana.type("Skip")
    out = ana.type("Done")
    assert any("Confirm" in line for line in out), out


def test_confirm_accept_and_picker_presses_stay_within_their_budgets(world, console, statements) -> None:  # type: ignore[no-untyped-def]
    eve = console("eve")
    eve.type("hello")  # Eve has talked to the bot before, as anyone a notice can reach has
    ana = console("ana")
    _to_summary(ana, statements)
    with statements.counting() as seen:
        out = ana.type("Confirm")
    assert any("Request sent to Eve" in line for line in out), out
    statements.budget("Confirm of a booking request", CONFIRM, seen)

    assert any("New session request from Ana" in line for line in eve.pending())
    with statements.counting() as seen:
        out = eve.type("Accept")
    assert any("Accepted ✓" in line for line in out), out
    statements.budget("Accept of a request by the expert", ACCEPT, seen)
    assert any("Confirmed: your session is booked." in line for line in console("ana").pending())


def test_the_counter_sees_every_statement(world, console, statements, uow) -> None:  # type: ignore[no-untyped-def]
    """The budget above cannot pass by counting nothing: a unit of work's reads are all seen."""
    statements.handling = True
    with statements.counting() as seen, uow() as u:
        u.people.by_handle("ana")
        u.experts.by_handle("eve")
    assert len(seen) == 3, seen
