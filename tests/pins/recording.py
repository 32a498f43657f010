"""A platform sender that records what the outbox pump asks of it, and can hold a send open or fail it once,
so a test controls exactly when each send ends. The pump, the outbox and the database around it are real."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable

from bot.delivery import GiveUp, Retry
from storage.chat_repo import OutboxMessage
from storage.uow import SqlUnitOfWork


class Recorder:
    platform = "telegram"

    def __init__(self, name: str = "sent") -> None:
        self.name = name  # the platform message ids it hands back start with it
        self.started: list[tuple[str, str]] = []  # (chat, text) as each send began
        self.delivered: list[tuple[str, str]] = []  # (chat, text) of each send that succeeded
        self.max_parallel: dict[str, int] = defaultdict(int)  # the most sends in flight at once, per chat
        self._in_flight: dict[str, int] = defaultdict(int)
        self._gates: dict[str, asyncio.Event] = {}
        self._failing: set[str] = set()

    def hold(self, text: str) -> None:
        """The send of `text` does not end until release(text)."""
        self._gates[text] = asyncio.Event()

    def release(self, text: str) -> None:
        self._gates[text].set()

    def fail_once(self, text: str) -> None:
        """The next send of `text` fails with a connection error (worth a retry)."""
        self._failing.add(text)

    def of(self, chat: str) -> list[str]:
        return [text for c, text in self.delivered if c == chat]

    async def send(self, message: OutboxMessage) -> str | None:
        chat, text = message.chat_id, json.loads(message.payload)["text"]
        self._in_flight[chat] += 1
        self.max_parallel[chat] = max(self.max_parallel[chat], self._in_flight[chat])
        self.started.append((chat, text))
        try:
            gate = self._gates.get(text)
            if gate is not None:
                await gate.wait()
            else:
                await asyncio.sleep(0)  # every send yields, as a real one does
            if text in self._failing:
                self._failing.discard(text)
                raise ConnectionResetError(f"connection reset while sending {text}")
            self.delivered.append((chat, text))
            return f"{self.name}-{message.id}"
        finally:
            self._in_flight[chat] -= 1

    def classify(self, error: Exception) -> Retry | GiveUp:
        return Retry()


def queue(uow: Callable[[], SqlUnitOfWork], chat: str, text: str, claim: object = None) -> list[OutboxMessage]:
    """One outbox row for `chat` (leased to a sender in the same transaction when `claim` is given, as the
    dispatcher does for the process's own sender)."""
    payload = json.dumps({"text": text})
    with uow() as u:
        row_id = u.outbox.add(f"pin:{chat}:{text}", None, "telegram", chat, payload, claim=claim)  # type: ignore[arg-type]
        u.commit()
    assert row_id is not None
    return [OutboxMessage(row_id, None, "telegram", chat, payload)]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (bounded) for a condition the event loop brings about."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
