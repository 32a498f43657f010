"""Transcript tests: conversations typed into the console chat, over the real dispatcher and database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from tests.flows.declared import queued_buttons, undeclared


class Transcript:
    """chat.say("/book") returns what the bot printed; .saw(...) asserts on it."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat
        self.last: list[str] = []

    def say(self, line: str) -> str:
        self.last = self.chat.type(line)
        return "\n".join(self.last)

    def press(self, payload: str, message_id: str | None = None) -> str:
        self.last = self.chat.press(payload, message_id)
        return "\n".join(self.last)

    def as_(self, handle: str) -> str:
        self.last = self.chat.switch(handle)
        return "\n".join(self.last)

    @property
    def text(self) -> str:
        return "\n".join(self.last)


@pytest.fixture
def dispatcher(uow, clock) -> Iterator[Dispatcher]:  # type: ignore[no-untyped-def]
    flows = all_flows()
    yield Dispatcher(uow, clock, flows, Router(["console"]))
    # Every button any transcript produced must be one its flow declares, or it would be refused when pressed.
    bad = undeclared(queued_buttons(uow), flows)
    assert not bad, f"buttons their flow does not declare (bot/flows/actions.py): {bad[:5]}"


@pytest.fixture
def chat(dispatcher, uow) -> Callable[[str], Transcript]:  # type: ignore[no-untyped-def]
    return lambda handle: Transcript(ConsoleChat(dispatcher, uow, handle))
