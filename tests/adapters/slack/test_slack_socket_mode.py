"""`headstrt slack --socket`: our Slack runtime over Socket Mode, the way bot/cli.py runs it (slack-bolt's
AsyncSocketModeHandler on slack_sdk's aiohttp SocketModeClient), against the fake Slack playing Slack's side:
apps.connections.open with the app-level token, a websocket that says hello, envelopes pushed and acked."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator, Sequence
from typing import Any, TypeVar

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.runtime import SlackRuntime, SlackSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from core.clock import Clock
from core.lifecycle import BookingStatus
from tests.adapters.slack.harness import SlackUser, settle
from tests.adapters.slack.test_slack_booking import ANA, EVE, on_slack
from tests.factories import unsent
from tests.fakes.slack_server import FakeSlack

T = TypeVar("T")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


class SocketSlack:
    """The Slack runtime over Socket Mode in a background event loop, like `headstrt slack --socket`: the
    runtime (outbox pump started) plus AsyncSocketModeHandler(runtime.app, app_token), connected to the
    fake. Quacks like harness.RunningSlack for SlackUser: post() delivers a body as a Socket Mode envelope."""

    def __init__(self, fake: FakeSlack, uow, clock: Clock, *,  # type: ignore[no-untyped-def]
                 platforms: Sequence[str] = ("slack",)) -> None:
        self.fake = fake
        self.uow = uow
        settings = SlackSettings(fake.bot_token, "", fake.app_token, fake.api_url)
        self.dispatcher = Dispatcher(uow, clock, all_flows(), Router(list(platforms)))
        self.runtime = SlackRuntime(settings, self.dispatcher, uow, socket_mode=True, poll_seconds=0.05)
        self.handler: AsyncSocketModeHandler | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SocketSlack:
        self.thread.start()
        try:
            self.call(self._start())
            self.fake.wait_socket()
        except BaseException:
            self.__exit__()
            raise
        return self

    async def _start(self) -> None:
        # As in cmd_slack: built inside the running loop (the SocketModeClient starts tasks in __init__), and
        # given no web_client, so it uses app.client, the runtime's client pointed at SLACK_API_URL.
        self.handler = AsyncSocketModeHandler(self.runtime.app, self.runtime.settings.app_token)
        await self.runtime.start()
        await self.handler.connect_async()

    async def _stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()
        await self.runtime.stop()

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stop(), timeout=20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def send(self, body: bytes, *, retry_num: int | None = None) -> dict[str, Any] | None:
        """Slack pushes the body as an envelope; returns the ack's payload once the work is done."""
        answer = self.fake.socket_send(*self.fake.socket_payload(body), retry_attempt=retry_num or 0,
                                       retry_reason="timeout" if retry_num else "")
        self.settle()
        return answer

    def post(self, body: bytes, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        answer = self.send(body, **kw)  # raises when the app does not ack: no "status" to report
        return 200, {}, json.dumps(answer).encode() if answer is not None else b""

    def settle(self, timeout: float = 10) -> None:
        settle(self.runtime, self.uow, timeout)

    def unsent(self) -> int:
        return unsent(self.uow, "slack")


def the_ack(fake: FakeSlack) -> dict[str, Any] | None:
    envelope = fake.envelopes[-1]
    assert envelope.acked, envelope
    return envelope.ack


# ------------------------------------------------------------------------------ our runtime over Socket Mode

def test_the_app_connects_with_its_app_token_and_says_nothing_unasked(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        [conn] = fake.sockets
        assert conn.open and conn.hello["type"] == "hello"
        opened = [c for c in fake.calls if c.method == "apps.connections.open"]
        assert [c.status for c in opened] == [200] and opened[0].error is None
        assert bot.handler is not None and bot.handler.client.web_client is bot.runtime.client
    # closed on the way out: the fake records it when its side of the websocket sees the close, a moment later
    fake.wait_for(lambda f: not f.socket_connected() and f.sockets[0].closed_at is not None, timeout=5)
    [conn] = fake.sockets  # everything the app sent over its whole connection
    assert fake.envelopes == [] and all(m.get("envelope_id") is None for m in conn.received if isinstance(m, dict))


def test_a_slash_command_over_the_socket_is_acked_and_answered_in_the_dm(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")  # type: ignore[arg-type]
        out = ana.command("/credits")
        envelope = fake.envelopes[-1]
        assert (envelope.type, envelope.accepts_response_payload) == ("slash_commands", True)
        assert the_ack(fake) == {"envelope_id": envelope.envelope_id}  # an empty ack: the answer goes to the DM
        assert envelope.elapsed < 3  # Slack's limit
        assert "Your credits" in out and "Your credits" in ana.screen()[-1]


def test_a_dm_over_the_socket_is_answered(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")  # type: ignore[arg-type]
        out = ana.say("hello")
        assert fake.envelopes[-1].type == "events_api" and the_ack(fake) == {
            "envelope_id": fake.envelopes[-1].envelope_id}
        assert "/book" in out and "/credits" in out, fake.dump()  # what it can do


def test_buttons_pressed_over_the_socket_work(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata")  # type: ignore[arg-type]
        out = ana.command("/book", "fundraising")
        assert "Eve — Seed investor" in out and "Book Eve" in ana.labels()
        out = ana.tap("Book Eve")
        envelope = fake.envelopes[-1]
        assert (envelope.type, envelope.payload["type"], envelope.accepts_response_payload) == (
            "interactive", "block_actions", False)
        assert the_ack(fake) == {"envelope_id": envelope.envelope_id}
        assert "30 min · 0.5 credits" in ana.labels(), out


def test_a_founder_books_over_the_socket_and_the_expert_accepts(uow, clock, fake):
    w = on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana, eve = SlackUser(bot, ANA, "Ana", tz="Asia/Kolkata"), SlackUser(bot, EVE, "Eve")  # type: ignore[arg-type]
        ana.command("/book", "fundraising")
        for label in ("Book Eve", "30 min · 0.5 credits", "1", "Tue 5 Mar"):
            ana.tap(label)
        assert "short title" in ana.tap("15:00")
        modal = fake.modal(ANA)  # views.open with the trigger_id that came over the socket
        assert modal is not None and modal.view["callback_id"] == "form:details"
        answer = fake.socket_submit(ANA, modal.id, {"title": "Seed plan", "outcome": "A plan",
                                                    "intro": "", "context": ""})
        assert fake.envelopes[-1].accepts_response_payload  # a view_submission's ack may carry errors
        assert answer is None and fake.modal(ANA) is None  # an empty ack closes the modal
        bot.settle()
        assert "the details are in" in "\n".join(ana.screen())
        ana.tap("Done")
        assert "Request sent" in ana.tap("Confirm")
        assert "New session request from Ana" in "\n".join(eve.screen())
        assert "Confirmed" in eve.tap("Accept")
        assert any("Confirmed: your session is booked." in text for text in ana.screen()[-3:])
        assert any(name.endswith(".ics") for name in _files(bot.fake, ANA))  # the calendar invite
    with uow() as u:
        [booking] = u.bookings.for_person(w.ana)
    assert booking.status is BookingStatus.ACCEPTED and booking.details.title == "Seed plan"


def test_a_retried_events_api_envelope_acts_once(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")  # type: ignore[arg-type]
        body = fake.dm_event(ANA, "/credits")
        bot.send(body)
        bot.send(body, retry_num=1)  # Slack's retry: a new envelope around the same event (same event_id)
        bot.send(body, retry_num=2)
        first, *retries = fake.envelopes
        assert [e.retry_attempt for e in fake.envelopes] == [0, 1, 2]
        assert all(e.acked and e.payload["event_id"] == first.payload["event_id"] for e in retries)
        assert len({e.envelope_id for e in fake.envelopes}) == 3
        assert len(ana.screen()) == 1 and "Your credits" in ana.screen()[0]


def test_a_retry_arriving_while_the_first_delivery_is_still_at_work_acts_once(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")  # type: ignore[arg-type]
        kind, payload = fake.socket_payload(fake.dm_event(ANA, "/credits"))
        fake.socket_send(kind, payload)
        fake.socket_send(kind, payload, retry_attempt=1, retry_reason="timeout")  # no settling in between
        bot.settle()
        assert len(ana.screen()) == 1 and "Your credits" in ana.screen()[0]


def test_the_app_reconnects_when_slack_asks_or_drops_the_socket(uow, clock, fake):
    on_slack(uow)
    with SocketSlack(fake, uow, clock) as bot:
        ana = SlackUser(bot, ANA, "Ana")  # type: ignore[arg-type]
        fake.socket_disconnect("refresh_requested")  # Slack's warning: the SDK opens a new connection
        fake.wait_for(lambda f: len(f.sockets) == 2 and f.sockets[1].open and not f.sockets[0].open)
        assert "Your credits" in ana.command("/credits")
        fake.socket_drop()  # no warning at all
        fake.wait_for(lambda f: len(f.sockets) == 3 and f.sockets[2].open)
        assert "Your credits" in ana.command("/credits")
        assert [c.status for c in fake.calls if c.method == "apps.connections.open"] == [200, 200, 200]


# ------------------------------------------------------------------------------ the fake's Socket Mode itself

def test_apps_connections_open_takes_only_the_app_level_token(fake):
    async def main() -> None:
        url = (await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=fake.app_token))["url"]
        assert url.startswith(fake.base_url.replace("http://", "ws://") + "/socket/")
        for token, error in (("xapp-wrong", "invalid_auth"), (fake.bot_token, "not_allowed_token_type")):
            with pytest.raises(SlackApiError) as caught:
                await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=token)
            assert caught.value.response["error"] == error
        with pytest.raises(SlackApiError) as caught:  # and an app token opens no Web API method
            await AsyncWebClient(token=fake.app_token, base_url=fake.api_url).auth_test()
        assert caught.value.response["error"] == "not_allowed_token_type"

    asyncio.run(main())


def test_the_socket_says_hello_pushes_envelopes_and_collects_acks(fake):
    fake.user(ANA, name="ana")

    async def main() -> None:
        url = (await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=fake.app_token))["url"]
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url) as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello == {"type": "hello", "num_connections": 1, "debug_info": hello["debug_info"],
                                 "connection_info": {"app_id": fake.app_id}}
                await fake.wait_socket_async()
                sent = asyncio.ensure_future(fake.asocket_send(*fake.socket_payload(fake.slash(ANA, "/credits", ""))))
                envelope = await ws.receive_json(timeout=5)
                assert set(envelope) == {"envelope_id", "payload", "type", "accepts_response_payload"}
                assert envelope["type"] == "slash_commands" and envelope["payload"]["command"] == "/credits"
                await ws.send_json({"envelope_id": "someone-else", "payload": {"text": "ignored"}})
                await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"text": "hi"}})
                assert await sent == {"text": "hi"}
                sent = asyncio.ensure_future(fake.asocket_send(*fake.socket_payload(fake.dm_event(ANA, "hi")),
                                                               retry_attempt=1, retry_reason="timeout"))
                envelope = await ws.receive_json(timeout=5)
                assert (envelope["type"], envelope["retry_attempt"], envelope["retry_reason"],
                        envelope["accepts_response_payload"]) == ("events_api", 1, "timeout", False)
                await ws.send_json({"envelope_id": envelope["envelope_id"]})
                assert await sent is None
                with pytest.raises(TimeoutError):  # never acked
                    await fake.asocket_send("events_api", envelope["payload"], timeout=0.2)
            with pytest.raises(aiohttp.WSServerHandshakeError):  # a URL connects once
                await session.ws_connect(url)
        await fake.wait_for_async(lambda f: not f.socket_connected())
        with pytest.raises(ConnectionError):
            await fake.asocket_send("events_api", envelope["payload"])

    asyncio.run(main())
    assert [(e.type, e.acked) for e in fake.envelopes] == [("slash_commands", True), ("events_api", True),
                                                           ("events_api", False)]


def test_socket_payloads_are_what_slack_sends_instead_of_http_bodies(fake):
    fake.user(ANA, name="ana")
    kind, payload = fake.socket_payload(fake.slash(ANA, "/book", "fundraising"))
    assert kind == "slash_commands" and payload["command"] == "/book" and payload["text"] == "fundraising"
    assert all(isinstance(v, str) for v in payload.values()) and payload["trigger_id"]
    kind, payload = fake.socket_payload(fake.dm_event(ANA, "hello"))
    assert kind == "events_api" and payload["type"] == "event_callback" and payload["event"]["text"] == "hello"
    with pytest.raises(ValueError):
        fake.socket_payload(fake.url_verification())  # Socket Mode apps never get one


def test_a_bolt_app_over_the_fake_socket_acks_with_its_answer(fake):
    """The SDK end to end with a tiny app: the slash command's ack carries the app's response payload."""
    fake.user(ANA, name="ana")

    async def main() -> None:
        app = AsyncApp(client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
                       request_verification_enabled=False)

        @app.command("/echo")
        async def echo(ack, command):  # type: ignore[no-untyped-def]
            await ack(f"you said {command['text']}")

        handler = AsyncSocketModeHandler(app, fake.app_token)
        await handler.connect_async()
        try:
            await fake.wait_socket_async()
            answer = await fake.asocket_send(*fake.socket_payload(fake.slash(ANA, "/echo", "hi")))
            assert answer == {"text": "you said hi"}
        finally:
            await handler.close_async()

    asyncio.run(main())


def _files(fake, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.name for f in fake.files(fake.dm(user))]
