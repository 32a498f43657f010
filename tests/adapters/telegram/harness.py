"""Runs the real Telegram runtime (python-telegram-bot, our adapter, the outbox pump) in a background
event loop against the fake Bot API, and plays Telegram users who type and tap in it."""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.runtime import TelegramRuntime, TelegramSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from core.clock import Clock
from storage.uow import SqlUnitOfWork
from tests.factories import unsent
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.background_loop import end_loop

T = TypeVar("T")
SENDING = ("sendmessage", "editmessagetext", "senddocument", "editmessagereplymarkup")
SECRET = "s3cret-token_for-tests"


class RunningBot:
    """The runtime in its own thread and loop, so tests stay plain functions that wait for results."""

    def __init__(
        self, fake: FakeTelegram, uow: Callable[[], SqlUnitOfWork], clock: Clock, *, polling: bool,
        platforms: Sequence[str] = ("telegram",), limiter: FloodLimiter | None = None, webhook_url: str = "",
        payment_provider_token: str = "",
    ) -> None:
        self.fake = fake
        self.uow = uow
        self.polling = polling
        settings = TelegramSettings(fake.token, fake.base_url, webhook_url, SECRET, payment_provider_token)
        dispatcher = Dispatcher(uow, clock, all_flows(), Router(platforms))
        limiter = limiter or FloodLimiter(private_chat=(1000, 1.0))  # as the `fake` fixture: see there
        self.runtime = TelegramRuntime(settings, dispatcher, uow, limiter=limiter, poll_seconds=0.05)
        self.done: set[int] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningBot:
        self.thread.start()
        self.call(self.runtime.start(polling=self.polling))
        adapter = self.runtime.adapter
        handle = adapter.handle

        async def counting(update: Any, *, answered: bool = False) -> Any:
            handled = await handle(update, answered=answered)  # an update that failed is not done: it may be tried again
            self.done.add(update.update_id)
            return handled

        adapter.handle = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.runtime.stop(), timeout=15)
        finally:
            end_loop(self.loop, self.thread)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def deliver(self, update: dict[str, Any]) -> int | None:
        """Hand an update over the way this bot receives them: queued for polling, or POSTed to the webhook."""
        if self.polling:
            return self.fake.deliver(update)
        return self.call(self._post(update))

    async def _post(self, update: dict[str, Any]) -> int:
        """As Telegram: the update POSTed, and a Bot API method in the answer performed."""
        import json

        status, answer = await self.runtime.webhook(SECRET, json.dumps(update).encode())
        if answer is not None:
            self.fake.perform_webhook_answer(json.dumps(answer).encode())
        return status

    def settle(self, update_id: int | None = None, timeout: float = 10) -> None:
        """Wait until the update was handled and everything the outbox holds for Telegram went out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ((update_id is None or update_id in self.done) and not self.runtime.pump._tasks
                    and self.unsent() == 0 and self.unfinished() == 0):
                return
            time.sleep(0.01)
        raise AssertionError(f"update {update_id} not settled: done={update_id in self.done} unsent={self.unsent()}")

    def unsent(self) -> int:
        return unsent(self.uow, "telegram")

    def unfinished(self) -> int:
        """Stored updates no worker has finished yet."""
        with self.uow() as u:
            return u.intake.unfinished()


class TgUser:
    """Someone in a Telegram chat: says things, taps buttons, and reads what the bot sent back."""

    def __init__(self, bot: RunningBot, user_id: int, name: str, *, chat_id: int | None = None,
                 language_code: str = "en") -> None:
        self.bot = bot
        self.fake = bot.fake
        self.user_id = user_id
        self.chat_id = chat_id if chat_id is not None else user_id
        self.fake.user(user_id, first_name=name, language_code=language_code)

    def say(self, text: str) -> str:
        return self._act(self.fake.message(self.user_id, text, chat_id=self.chat_id))

    def send_file(self, name: str, data: bytes, mime: str = "application/pdf") -> str:
        return self._act(self.fake.message(self.user_id, "", chat_id=self.chat_id, document=(name, data, mime)))

    def tap(self, label: str) -> str:
        message_id, data = self.button(label)
        return self.tap_data(message_id, data)

    def tap_data(self, message_id: int, data: str) -> str:
        return self._act(self.fake.press(self.user_id, message_id, data, chat_id=self.chat_id))

    def button(self, label: str) -> tuple[int, str]:
        """The newest message in this chat with a button called `label`."""
        for message in reversed(self.fake.sent(self.chat_id)):
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return message.message_id, button["callback_data"]
        raise AssertionError(f"no button {label!r} in chat {self.chat_id}: {self.screen()}")

    def labels(self) -> list[str]:
        """The buttons of the newest message that has any."""
        for message in reversed(self.fake.sent(self.chat_id)):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            if rows:
                return [button["text"] for row in rows for button in row]
        return []

    def screen(self) -> list[str]:
        return [m.text for m in self.fake.sent(self.chat_id)]

    def _act(self, update: dict[str, Any]) -> str:
        start = len(self.fake.calls)
        status = self.bot.deliver(update)
        assert status in (None, 200), status
        self.bot.settle(update["update_id"])
        return "\n".join(_texts(self.fake.calls[start:], self.chat_id))


def _texts(calls: Sequence[Any], chat_id: int) -> list[str]:
    out = []
    for call in calls:
        if call.method.lower() in SENDING and call.status == 200 and str(call.params.get("chat_id")) == str(chat_id):
            text = call.params.get("text") or call.params.get("caption") or ""
            out.append(html.unescape(str(text)))
    return out
