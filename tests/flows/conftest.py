"""Transcript tests: conversations typed into the console chat, over the real dispatcher and database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router


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
def dispatcher(uow, clock) -> Dispatcher:  # type: ignore[no-untyped-def]
    return Dispatcher(uow, clock, all_flows(), Router(["console"]))


@pytest.fixture
def chat(dispatcher, uow) -> Callable[[str], Transcript]:  # type: ignore[no-untyped-def]
    return lambda handle: Transcript(ConsoleChat(dispatcher, uow, handle))
