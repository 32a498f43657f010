"""Two events loaded at the same conversation version: only one may write (the version check in
storage/chat_repo.py), so two racing presses never both win. Stale saves on both databases; a real race
of two transactions, and of two presses through the dispatcher, on PostgreSQL (SQLite runs one writing
transaction at a time, BEGIN IMMEDIATE, so there two events never hold the same version at once)."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.events import Incoming, Press, Sender
from bot.flows import all_flows
from bot.router import Router
from storage.chat_repo import Conversation, SqlConversations
from tests.flows.test_book import world


def load(uow) -> Conversation:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.conversations.load("console", "ana", "ana")


def save(uow, convo: Conversation) -> bool:  # type: ignore[no-untyped-def]
    with uow() as u:
        won = u.conversations.save(convo)
        u.commit()
    return won


def test_of_two_saves_loaded_at_one_version_only_the_first_is_written(uow):
    start = load(uow)
    start.flow, start.step = "book", "len"
    assert save(uow, start) and start.version == 1
    first, second = load(uow), load(uow)  # both at version 1
    first.data, second.data = {"len": 30}, {"len": 60}
    assert save(uow, first) and first.version == 2
    assert not save(uow, second) and second.version == 1  # the second event lost, and is told so
    stored = load(uow)
    assert stored.data == {"len": 30} and stored.version == 2


def test_of_two_first_saves_of_a_new_conversation_only_one_is_written(uow):
    first, second = load(uow), load(uow)  # neither exists yet
    first.step, second.step = "one", "two"
    assert save(uow, first)
    assert not save(uow, second)
    stored = load(uow)
    assert stored.step == "one" and stored.version == 1


def test_two_transactions_racing_from_one_version_one_wins_on_postgresql(uow, db):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: the stale saves above cover it")
    start = load(uow)
    assert save(uow, start)
    both_loaded = threading.Barrier(2, timeout=10)
    won: dict[int, bool] = {}

    def event(n: int) -> None:
        with uow() as u:
            convo = u.conversations.load("console", "ana", "ana")
            both_loaded.wait()
            convo.data = {"n": n}
            won[n] = u.conversations.save(convo)
            u.commit()

    threads = [threading.Thread(target=event, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(won.values()) == [False, True]
    winner = next(n for n, w in won.items() if w)
    stored = load(uow)
    assert stored.data == {"n": winner} and stored.version == 2


def test_two_presses_loaded_at_one_version_only_one_takes_effect_on_postgresql(uow, clock, db, monkeypatch):
    """Ana taps 30 min and 60 min at once on the same card: one choice is kept, the other press is rolled
    back and told that something changed at the same moment."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: the second press sees the first")
    world(uow)
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]))
    ana = Sender("console", "ana", "ana", display_name="ana")

    console = ConsoleChat(dispatcher, uow, "ana")
    console.type("/book fundraising")
    console.type("Book Eve")
    card = load(uow)
    assert (card.flow, card.step) == ("book", "length"), (card.flow, card.step)

    real_load = SqlConversations.load
    both_loaded = threading.Barrier(2, timeout=10)
    first_loads = iter(range(2))

    def racing_load(self, platform, chat_id, user_id):  # type: ignore[no-untyped-def]
        convo = real_load(self, platform, chat_id, user_id)
        if next(first_loads, None) is not None:  # the two presses' first loads: wait until both have loaded
            both_loaded.wait()
        return convo

    monkeypatch.setattr(SqlConversations, "load", racing_load)
    answers: dict[int, str] = {}

    def press(minutes: int) -> None:
        handled = dispatcher.handle(Incoming(ana, uuid.uuid4().hex,
                                             press=Press(f"1|book|len|{card.version}|{minutes}")))
        answers[minutes] = " ".join(json.loads(m.payload)["text"] for m in handled.messages)

    threads = [threading.Thread(target=press, args=(m,)) for m in (30, 60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    monkeypatch.setattr(SqlConversations, "load", real_load)
    # the loser is rolled back and answered as the state that won has it: its card is an earlier message now
    lost = [m for m, text in answers.items()
            if "Something changed at the same moment" in text or "belongs to an earlier message" in text]
    assert len(answers) == 2 and len(lost) == 1, answers
    [won] = [m for m in answers if m not in lost]
    after = load(uow)
    # the winner's choice stands; the loser's rerun only showed the current step again (a new version)
    assert after.data["len"] == won and after.step == "count" and after.version > card.version
