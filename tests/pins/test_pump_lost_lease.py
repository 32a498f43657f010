"""A sender whose lease on a row ran out while it was busy, and another sender took the row: the first one
neither sends the chat's next rows nor marks the row it was sending (the new holder does both). The real
pump and outbox on both databases; the senders record what they are asked (tests/pins/recording.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.delivery import OutboxPump
from storage.models import OutboxRow
from tests.pins.recording import Recorder, queue, until


def row(uow, row_id: int) -> OutboxRow:  # type: ignore[no-untyped-def]
    with uow() as u:
        found = u.session.scalar(select(OutboxRow).where(OutboxRow.id == row_id))
        u.session.expunge(found)
        return found


def test_a_sender_that_lost_its_lease_does_not_send_the_rest_nor_mark_the_row(uow, clock):
    async def scenario() -> tuple[Recorder, Recorder, OutboxPump, OutboxPump, int]:
        first, second = Recorder("first"), Recorder("second")
        first.hold("A")
        second.hold("A")
        [a] = queue(uow, "1", "A")
        queue(uow, "1", "B")
        slow = OutboxPump(uow, first, lease=timedelta(seconds=0.4), poll_seconds=0.05)
        sending = asyncio.get_running_loop().create_task(slow.deliver())
        await until(lambda: first.started == [("1", "A")])
        clock.advance(timedelta(seconds=1))  # the first sender's lease ran out while A was in flight
        other = OutboxPump(uow, second, poll_seconds=0.05)
        taking = asyncio.get_running_loop().create_task(other.deliver())
        await until(lambda: second.started == [("1", "A")])  # the other sender took A (and B) over
        await asyncio.sleep(0.3)  # the first claim is no longer fresh: the first sender must ask again
        first.release("A")  # the platform accepted A from the first sender after all (the one gap)
        await sending
        await slow.drain()
        assert first.started == [("1", "A")], "the sender without the lease went on to B"
        held = row(uow, a.id)
        assert held.sent_at is None and held.claim_token == other.token, "marked by a sender without the lease"
        second.release("A")
        await taking
        await other.drain()
        return first, second, slow, other, a.id

    first, second, slow, other, a = asyncio.run(scenario())
    assert second.of("1") == ["A", "B"]
    assert row(uow, a).sent_message_id == f"second-{a}"  # recorded by the holder of the lease
    with uow() as u:
        assert u.outbox.pending("telegram") == []
