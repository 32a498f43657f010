"""The web process as Telegram sees it: a real aiohttp server on 127.0.0.1, registered as the webhook
with a secret; the fake Bot API POSTs updates to it the way Telegram does."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web

from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime, TelegramSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.web import make_app
from tests.adapters.telegram.harness import SECRET
from tests.adapters.telegram.test_telegram_booking import CHEN, people
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.background_loop import end_loop
from tests.local_http import free_port  # noqa: F401 - imported from here by other tests too




class WebProcess:
    """bot.web.make_app served by aiohttp in a background loop, as `headstrt web` serves it."""

    def __init__(self, runtime: TelegramRuntime, port: int) -> None:
        self.runner = web.AppRunner(make_app(runtime))
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> WebProcess:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(15)
        return self

    async def _start(self) -> None:
        await self.runner.setup()  # starts the Telegram runtime: getMe, commands, setWebhook, the pump
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(15)
        finally:
            end_loop(self.loop, self.thread)


def web_runtime(uow, clock, fake: FakeTelegram) -> tuple[TelegramRuntime, int, str]:  # type: ignore[no-untyped-def]
    """A Telegram runtime whose webhook is a free port's /telegram/webhook, registered with the fake."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = TelegramSettings(fake.token, fake.base_url, url, SECRET)
    runtime = TelegramRuntime(settings, Dispatcher(uow, clock, all_flows(), Router(["telegram"])), uow,
                              limiter=FloodLimiter(private_chat=(1000, 1.0)), poll_seconds=0.05)
    return runtime, port, url


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:
        yield server


def test_the_web_process_registers_its_webhook_and_answers_what_telegram_posts(uow, clock, fake):
    people(uow)
    runtime, port, url = web_runtime(uow, clock, fake)
    with WebProcess(runtime, port):
        assert fake.webhook is not None and fake.webhook["url"] == url
        assert fake.webhook.get("secret_token") == SECRET
        health = httpx.get(f"http://127.0.0.1:{port}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"

        update = fake.message(CHEN, "/credits")
        assert fake.deliver(update) == 200  # POSTed with the secret header, as Telegram does
        fake.wait_for(lambda f: len(f.sent(CHEN)) == 1)
        assert "Your credits: 5 available" in fake.last(CHEN).text

        forged = fake.message(CHEN, "/help")
        body = json.dumps(forged)
        for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: SECRET + "x"}):
            answer = httpx.post(url, content=body, headers={"Content-Type": "application/json", **headers})
            assert answer.status_code == 403
        # not an update: acknowledged (Telegram would retry anything else for ever) and ignored
        assert httpx.post(url, content=b"not json", headers={SECRET_HEADER: SECRET}).status_code == 200
        assert fake.deliver(update) == 200  # a redelivery is acknowledged and does nothing
        fake.wait_for(lambda f: len(f.sent(CHEN)) == 1)
    assert [m.text.startswith("Your credits") for m in fake.sent(CHEN)] == [True]


def test_a_press_is_answered_in_the_webhooks_200_and_not_again_by_the_worker(uow, clock, fake):
    """The spinner stops at the ack (a method in the webhook's answer, performed by Telegram), whatever
    the workers' backlog; the worker that runs the press then acts on it without a second answer."""
    people(uow)
    runtime, port, _url = web_runtime(uow, clock, fake)
    with WebProcess(runtime, port):
        assert fake.deliver(fake.message(CHEN, "/book fundraising")) == 200
        fake.wait_for(lambda f: any(m.reply_markup for m in f.sent(CHEN)))
        before = len(fake.sent(CHEN))
        message_id = next(m.message_id for m in reversed(fake.sent(CHEN)) if m.reply_markup)
        _label, data = fake.buttons(CHEN, message_id)[0]
        press = fake.press(CHEN, message_id, data)
        query_id = press["callback_query"]["id"]
        assert fake.deliver(press) == 200

        def answers(f: FakeTelegram) -> list:  # type: ignore[type-arg]
            return [c for c in f.calls if c.method == "answerCallbackQuery"
                    and c.params.get("callback_query_id") == query_id]

        answered = answers(fake)  # performed as the 200 came back, before any worker ran the press
        assert len(answered) == 1 and answered[0].via_webhook and answered[0].status == 200
        assert query_id in fake.answered
        # the worker runs the press: the card it answers is edited (or a new message sent) after that
        fake.wait_for(lambda f: any(c.method in ("editMessageText", "sendMessage") and c.status == 200
                                    and c.at > answered[0].at for c in f.calls))
        assert len(answers(fake)) == 1  # and it did not answer the press a second time
        assert len(fake.sent(CHEN)) >= before


def test_a_stored_press_says_whether_the_webhook_answered_it() -> None:
    from bot.adapters.telegram.runtime import answered_payload, stored_update

    update = {"update_id": 5, "callback_query": {"id": "q"}}
    assert stored_update(answered_payload(update)) == (update, True)
    assert json.loads(answered_payload(update))["update_id"] == 5  # an older worker still reads an update
    assert stored_update(json.dumps(update)) == (update, False)  # stored by the webhook of old, or by polling
