"""Runs the real Slack runtime (slack-bolt's AsyncApp behind bot.web's aiohttp server, our listeners, the
outbox pump) in a background loop against the fake Slack, and plays Slack users who type and click."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bot.adapters.slack.runtime import SlackRuntime, SlackSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.web import make_app
from core.clock import Clock
from storage.uow import SqlUnitOfWork
from tests.factories import unsent
from tests.fakes.slack_server import FakeSlack, all_text, buttons
from tests.fakes.background_loop import end_loop
from tests.local_http import free_port  # noqa: F401 - imported from here by other tests too

T = TypeVar("T")




class RunningSlack:
    def __init__(self, fake: FakeSlack, uow: Callable[[], SqlUnitOfWork], clock: Clock, *,
                 platforms: Sequence[str] = ("slack",)) -> None:
        self.fake = fake
        self.uow = uow
        settings = SlackSettings(fake.bot_token, fake.signing_secret, "", fake.api_url)
        self.dispatcher = Dispatcher(uow, clock, all_flows(), Router(platforms))
        self.runtime = SlackRuntime(settings, self.dispatcher, uow, poll_seconds=0.05)
        self.port = free_port()
        self.runner = web.AppRunner(make_app(None, self.runtime))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningSlack:
        self.thread.start()
        self.call(self._start())
        self.fake.app_url = f"http://127.0.0.1:{self.port}/slack/events"
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.runner.cleanup(), timeout=20)
        finally:
            end_loop(self.loop, self.thread)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def post(self, body: bytes, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        answer = self.fake.post(body, **kw)
        self.settle()
        return answer

    def settle(self, timeout: float = 10) -> None:
        settle(self.runtime, self.uow, timeout)

    def unsent(self) -> int:
        return unsent(self.uow, "slack")


def settle(runtime: SlackRuntime, uow: Callable[[], SqlUnitOfWork], timeout: float = 10) -> None:
    """Wait until acknowledged work is done and the outbox holds nothing unsent for Slack."""
    def idle() -> bool:
        return (not runtime.busy and not runtime.pump._tasks and unfinished(uow, "slack") == 0
                and unsent(uow, "slack") == 0)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if idle():
            time.sleep(0.02)  # a listener may be between its ack and its work
            if idle():
                return
        time.sleep(0.01)
    raise AssertionError(f"slack not settled: busy={runtime.busy} unsent={unsent(uow, 'slack')}")


def unfinished(uow: Callable[[], SqlUnitOfWork], platform: str) -> int:
    """Stored requests no worker has finished yet."""
    with uow() as u:
        return u.intake.unfinished(platform)


class SlackUser:
    """Someone in their DM with the app: types, runs slash commands, clicks, and reads the answers."""

    def __init__(self, bot: RunningSlack, user_id: str, name: str, *, tz: str = "Europe/London") -> None:
        self.bot = bot
        self.fake = bot.fake
        self.user_id = user_id
        self.fake.user(user_id, name=name.lower(), real_name=name, tz=tz)
        self.dm = self.fake.dm(user_id)

    def say(self, text: str) -> str:
        return self._act(lambda: self.bot.post(self.fake.dm_event(self.user_id, text)))

    def command(self, command: str, text: str = "") -> str:
        return self._act(lambda: self.bot.post(self.fake.slash(self.user_id, command, text)))

    def tap(self, label: str) -> str:
        ts, action_id = self.button(label)
        return self._act(lambda: self.bot.post(self.fake.press(self.user_id, self.dm, ts, action_id)))

    def button(self, label: str) -> tuple[str, str]:
        for message in reversed(self.fake.messages(self.dm)):
            for text, action_id, _value in buttons(message):
                if text == label:
                    return message.ts, action_id
        raise AssertionError(f"no button {label!r} in {self.dm}: {self.screen()[-3:]}")

    def labels(self) -> list[str]:
        for message in reversed(self.fake.messages(self.dm)):
            found = [text for text, _a, _v in buttons(message)]
            if found:
                return found
        return []

    def screen(self) -> list[str]:
        return [all_text(m) for m in self.fake.messages(self.dm) if m.user != self.user_id]

    def _act(self, act: Callable[[], tuple[int, dict[str, str], bytes]]) -> str:
        before = {m.ts: (m.edits, all_text(m)) for m in self.fake.messages(self.dm)}
        status, _headers, _body = act()
        assert status == 200, status
        changed = [all_text(m) for m in self.fake.messages(self.dm)
                   if m.user != self.user_id and before.get(m.ts, (None,))[0] != m.edits]
        return "\n".join(changed)
