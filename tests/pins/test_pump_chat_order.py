"""The outbox pump sends one chat's rows in order and one at a time, also when the first send is slow or
fails and is retried; other chats go on meanwhile. The real pump and outbox on both databases; the
sender records what it is asked and when (tests/pins/recording.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from tests.factories import unsent
from tests.pins.recording import Recorder, queue, until


def serving_pump(uow, clock, sender: Recorder) -> tuple[OutboxPump, object]:  # type: ignore[no-untyped-def]
    """A pump the dispatcher leases its rows to as it queues them (the chat processes' set-up)."""
    pump = OutboxPump(uow, sender, poll_seconds=0.05)
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["telegram"]))
    pump.serve(dispatcher)
    return pump, dispatcher.local_senders["telegram"]


def test_a_second_message_waits_for_a_slow_first_one_in_its_chat_only(uow, clock):
    """A person presses twice: the first reply's send is slow; the second reply is handed over while it is
    in flight and must not start until the first has ended. Another chat is not held up."""
    async def scenario() -> Recorder:
        sender = Recorder()
        sender.hold("A")
        pump, claim = serving_pump(uow, clock, sender)
        pump.hand_over(queue(uow, "1", "A", claim))
        await until(lambda: sender.started == [("1", "A")])
        pump.hand_over(queue(uow, "1", "B", claim) + queue(uow, "2", "C", claim))
        await until(lambda: sender.of("2") == ["C"])  # the other chat went meanwhile
        await asyncio.sleep(0.2)
        assert ("1", "B") not in sender.started, "B was sent while A was still in flight"
        sender.release("A")
        await until(lambda: sender.of("1") == ["A", "B"])
        await pump.drain()
        return sender

    sender = asyncio.run(scenario())
    assert sender.of("1") == ["A", "B"] and sender.max_parallel["1"] == 1
    assert unsent(uow, "telegram") == 0


def test_a_failed_first_message_holds_its_chat_until_its_retry_then_all_go_in_order(uow, clock):
    async def scenario() -> Recorder:
        sender = Recorder()
        sender.fail_once("A")
        pump = OutboxPump(uow, sender, poll_seconds=0.05)
        for text in ("A", "B", "C"):
            queue(uow, "1", text)
        queue(uow, "2", "D")
        await pump.deliver()
        await pump.drain()
        assert sender.of("2") == ["D"]  # the other chat is not held up
        assert sender.of("1") == [], "B or C overtook A, which waits for its retry"
        await pump.deliver()  # before A's retry time: nothing for chat 1 yet
        await pump.drain()
        assert sender.of("1") == []
        clock.advance(timedelta(seconds=3))  # past the first backoff (2 s)
        await pump.deliver()
        await pump.drain()
        return sender

    sender = asyncio.run(scenario())
    assert sender.of("1") == ["A", "B", "C"] and sender.max_parallel["1"] == 1
    assert [t for c, t in sender.started if c == "1"] == ["A", "A", "B", "C"]  # nothing twice, nothing skipped
    assert unsent(uow, "telegram") == 0


def test_a_slow_first_send_that_fails_keeps_the_messages_handed_over_meanwhile_behind_it(uow, clock):
    """The first reply is slow and then fails; a second reply handed over while it was in flight waits,
    and goes after the first once that is retried."""
    async def scenario() -> Recorder:
        sender = Recorder()
        sender.hold("A")
        sender.fail_once("A")
        pump, claim = serving_pump(uow, clock, sender)
        pump.hand_over(queue(uow, "1", "A", claim))
        await until(lambda: sender.started == [("1", "A")])
        pump.hand_over(queue(uow, "1", "B", claim))
        await asyncio.sleep(0.1)
        sender.release("A")  # A fails now
        await pump.drain()
        assert sender.of("1") == [], "B went before A, which failed and waits for its retry"
        clock.advance(timedelta(seconds=3))
        await pump.deliver()
        await pump.drain()
        return sender

    sender = asyncio.run(scenario())
    assert sender.of("1") == ["A", "B"] and sender.max_parallel["1"] == 1
    assert unsent(uow, "telegram") == 0


def test_a_reply_queued_while_an_earlier_message_waits_for_its_retry_goes_after_it(uow, clock):
    """The chat's first message failed and waits for its retry; the person then does something and the
    reply is queued (and leased to this process as it is queued): it must not overtake the waiting one."""
    async def scenario() -> Recorder:
        sender = Recorder()
        sender.fail_once("A")
        pump, claim = serving_pump(uow, clock, sender)
        pump.hand_over(queue(uow, "1", "A", claim))
        await pump.drain()
        assert sender.started == [("1", "A")] and sender.of("1") == []
        pump.hand_over(queue(uow, "1", "B", claim))
        await pump.drain()
        assert sender.of("1") == [], "B overtook A, which waits for its retry"
        clock.advance(timedelta(seconds=3))
        await pump.deliver()
        await pump.drain()
        return sender

    sender = asyncio.run(scenario())
    assert sender.of("1") == ["A", "B"]
    assert unsent(uow, "telegram") == 0
