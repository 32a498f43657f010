"""A Slack 429 with Retry-After is honoured: the send is tried again after that delay, not before, and then
goes out once. Both layers: slack_sdk's own retry in the process's client (the first 429), and the outbox
pump's retry time when Slack keeps refusing beyond that (the sender's classification). Against the fake
Slack, over real HTTP, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.runtime import SlackRuntime, SlackSettings
from bot.adapters.slack.sender import SlackSender
from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.replies import Reply
from bot.router import Router
from tests.factories import unsent
from tests.fakes.slack_server import FakeSlack

ANA = "U0ANA"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.user(ANA, name="ana", real_name="Ana")
        yield server


def queue(uow, text: str) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        row_id = u.outbox.add(f"pin:slack:{text}", None, "slack", ANA, Reply(text).to_json())
        u.commit()
    assert row_id is not None
    return row_id


def posts(fake: FakeSlack) -> list:  # type: ignore[type-arg]
    return [c for c in fake.calls if c.method == "chat.postMessage"]


def test_the_process_client_waits_retry_after_then_sends_once(uow, clock, fake):
    """The first 429 (Retry-After: 1) is absorbed by the client the Slack process sends with."""
    settings = SlackSettings(fake.bot_token, fake.signing_secret, "", fake.api_url)

    async def scenario() -> None:
        runtime = SlackRuntime(settings, Dispatcher(uow, clock, all_flows(), Router(["slack"])), uow,
                               poll_seconds=0.05)
        await runtime.start()
        try:
            fake.fail_next("chat.postMessage", status=429, retry_after=1)
            queue(uow, "Reminder")
            await fake.wait_for_async(lambda f: any(c.status == 200 for c in posts(f)), timeout=10)
            await asyncio.sleep(0.3)  # nothing else follows
        finally:
            await runtime.stop()

    asyncio.run(scenario())
    tries = posts(fake)
    assert [c.status for c in tries] == [429, 200]
    assert tries[1].at - tries[0].answered_at >= 1.0, "tried again before Retry-After had passed"
    assert [m.text for m in fake.messages(ANA)] == ["Reminder"] and unsent(uow, "slack") == 0


def test_the_pump_waits_retry_after_when_slack_keeps_refusing(uow, clock, fake):
    """A 429 that reaches the pump (the client's own retries spent; here a client without them) makes the
    row wait exactly the Retry-After Slack gave, not the pump's own backoff."""
    sender = SlackSender(AsyncWebClient(token=fake.bot_token, base_url=fake.api_url))

    async def scenario() -> None:
        pump = OutboxPump(uow, sender, poll_seconds=0.05)
        fake.fail_next("chat.postMessage", status=429, retry_after=30)
        row_id = queue(uow, "Reminder")
        assert await pump.deliver() == 1
        await pump.drain()
        with uow() as u:
            assert u.outbox.attempts(row_id) == 1
        clock.advance(timedelta(seconds=29))
        assert await pump.deliver() == 0  # not before Retry-After
        clock.advance(timedelta(seconds=2))
        assert await pump.deliver() == 1
        await pump.drain()

    started = time.monotonic()
    asyncio.run(scenario())
    assert time.monotonic() - started < 10  # the pump's clock, not a sleep, kept it waiting
    assert [c.status for c in posts(fake)] == [429, 200]
    assert [m.text for m in fake.messages(ANA)] == ["Reminder"] and unsent(uow, "slack") == 0
