"""Sends what the outbox holds for one platform, exactly as committed, from any number of processes.

Each process leases rows before sending (so two never send the same row), sends one chat's messages in
order and different chats at once, and marks each row sent as soon as the platform has it. A failure is
retried with backoff, or given up when the platform says it can never work (a person who blocked the
bot). The dispatcher hands over what it just queued, for speed; a poll picks up the rest (the scheduler's
reminders, notices queued by another process, retries, rows of a crashed process whose lease ran out).

The one gap no outbox closes: if a process dies after the platform accepted a message but before the row
is marked sent, that message goes again when the lease ends.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.keyed_locks import KeyedLocks
from bot.relay_notices import refused
from storage.chat_repo import OutboxMessage
from storage.errors import one_line, unavailable
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retry:
    after: float | None = None  # seconds the platform asked for; None: our own backoff


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str


class PlatformSender(Protocol):
    platform: str

    async def send(self, message: OutboxMessage) -> str | None:
        """Deliver one row; return the platform's id of the message that carries its buttons."""

    def classify(self, error: Exception) -> Retry | GiveUp:
        """Whether a failure is worth another try."""


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    gave_up: int = 0


class OutboxPump:
    def __init__(
        self, uow_factory: Callable[[], SqlUnitOfWork], sender: PlatformSender, *,
        lease: timedelta = timedelta(minutes=5), batch: int = 200, poll_seconds: float = 1.0,
        max_attempts: int = 50, max_backoff: float = 300.0,
    ) -> None:
        self.uow_factory = uow_factory
        self.sender = sender
        self.lease = lease
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.token = uuid.uuid4().hex
        self.stats = DeliveryStats()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._chats = KeyedLocks()
        # Chats whose earlier message failed here and waits for its retry (until when): a message handed over
        # meanwhile must not overtake it. Cleared when a claim (which keeps each chat's order) takes the chat.
        self._waiting: dict[str, datetime] = {}
        self._in_hand = 0
        self._preclaimed = False
        self._claimed_at: dict[int, float] = {}  # monotonic time of our claim: a fresh one needs no renewal
        self._marks: list[tuple[int, str | None, asyncio.Future[None]]] = []  # sent, to be recorded in the next batch
        self._marking: asyncio.Task[None] | None = None
        self._unavailable = False  # the last poll found the database away (logged once per outage)
        self._dispatcher: Dispatcher | None = None  # set by serve(): what a given-up row may need to queue

    # ---- entry points

    def serve(self, dispatcher: Dispatcher) -> None:
        """Have `dispatcher` lease this platform's rows to this pump as it queues them, so a hand-over
        needs no claim of its own."""
        dispatcher.local_senders[self.sender.platform] = (self.token, self.lease)
        dispatcher.hand_overs[self.sender.platform] = self.hand_over
        self._preclaimed = True
        self._dispatcher = dispatcher

    def hand_over(self, messages: Iterable[OutboxMessage]) -> None:
        """Start sending rows just committed by this process (call from the event loop)."""
        mine = [m for m in messages if m.platform == self.sender.platform]
        if not mine:
            return
        if self._preclaimed:
            now = time.monotonic()
            self._claimed_at.update((m.id, now) for m in mine)
            self._start_chats(mine)
            return
        task = asyncio.get_running_loop().create_task(self.deliver([m.id for m in mine]))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery for %s failed (the poll retries it)", self.sender.platform,
                      exc_info=task.exception())

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Poll for due rows until cancelled. Chats are sent to independently, so one slow chat (a group
        at 20 a minute) never holds up the others; at most `batch` rows are in hand at a time."""
        while True:
            try:
                while (room := self.batch - self._in_hand) > 0:
                    claimed = await asyncio.to_thread(self._claim, None, room)
                    self._start_chats(self._in_order(claimed))
                    if len(claimed) < room:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a database hiccup must not stop delivery for good
                if not unavailable(error):
                    log.exception("outbox poll for %s failed", self.sender.platform)
                elif not self._unavailable:  # once per outage, not every poll
                    log.error("outbox poll for %s: the database failed (%s); retrying every %.0f s",
                              self.sender.platform, one_line(error), self.poll_seconds)
                self._unavailable = unavailable(error)
            else:
                if self._unavailable:
                    log.info("outbox poll for %s: the database is back", self.sender.platform)
                self._unavailable = False
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def drain(self) -> None:
        """Wait for the sends in flight (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- sending

    async def deliver(self, ids: list[int] | None = None) -> int:
        """Lease and send due rows (these ids, or any), waiting until they are sent; returns how many."""
        claimed = await asyncio.to_thread(self._claim, ids, self.batch)
        await asyncio.gather(*self._start_chats(self._in_order(claimed)))
        return len(claimed)

    def _in_order(self, claimed: list[OutboxMessage]) -> list[OutboxMessage]:
        """Rows a claim took: the claim keeps each chat's order, so nothing earlier of these chats waits."""
        for message in claimed:
            self._waiting.pop(message.chat_id, None)
        return claimed

    def _start_chats(self, claimed: list[OutboxMessage]) -> list[asyncio.Task[None]]:
        by_chat: dict[str, list[OutboxMessage]] = defaultdict(list)
        for message in claimed:
            by_chat[message.chat_id].append(message)
        tasks = []
        for messages in by_chat.values():
            self._in_hand += len(messages)
            task = asyncio.get_running_loop().create_task(self._send_chat(messages))
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._chat_done, count=len(messages)))
            tasks.append(task)
        return tasks

    def _chat_done(self, task: asyncio.Task[None], count: int) -> None:
        was_full = self._in_hand >= self.batch
        self._in_hand -= count
        self._finished(task)
        if was_full:
            self._wake.set()  # room for more: claim again now rather than at the next poll

    async def _send_chat(self, messages: list[OutboxMessage]) -> None:
        """One chat at a time in this process, so hand-overs and polls never interleave a chat's messages."""
        async with self._chats.hold(messages[0].chat_id):
            await self._send_in_order(messages)

    async def _send_in_order(self, messages: list[OutboxMessage]) -> None:
        retry_at = self._waiting.get(messages[0].chat_id)
        if retry_at is not None:  # an earlier message of this chat waits for its retry: these go after it
            for message in messages:
                self._claimed_at.pop(message.id, None)
            await asyncio.to_thread(self._release, [m.id for m in messages], retry_at)
            return
        recorded: asyncio.Future[None] | None = None
        for n, message in enumerate(messages):
            if recorded is not None:
                # The previous message is recorded as sent before this one goes: a crash then repeats at
                # most the one message in flight in this chat (other chats' marks still share a batch).
                await asyncio.shield(recorded)
            claimed_at = self._claimed_at.pop(message.id, None)
            fresh = claimed_at is not None and time.monotonic() - claimed_at < self.lease.total_seconds() / 2
            if not fresh and not await asyncio.to_thread(self._renew, message.id):
                continue  # our lease ran out and another sender has it now
            try:
                sent_id = await self.sender.send(message)
            except asyncio.CancelledError:
                await asyncio.shield(asyncio.to_thread(self._release, [m.id for m in messages[n:]]))
                raise
            except Exception as error:  # noqa: BLE001 - every failure is classified and recorded
                retry_at = await asyncio.to_thread(self._failed, message, error, [m.id for m in messages[n + 1:]])
                if retry_at is not None:
                    self._waiting[message.chat_id] = retry_at
                return
            recorded = self._mark_sent(message.id, sent_id)

    # ---- bookkeeping (blocking: run in a thread)

    def _mark_sent(self, message_id: int, sent_id: str | None) -> asyncio.Future[None]:
        """Deliveries are recorded in batches: one transaction for all that finished meanwhile. The
        future is done once this one is recorded (or its recording gave up)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((message_id, sent_id, done))
        if self._marking is None:
            self._marking = asyncio.get_running_loop().create_task(self._record_marks())
            self._tasks.add(self._marking)
            self._marking.add_done_callback(self._finished)
        return done

    async def _record_marks(self) -> None:
        try:
            while self._marks:
                batch, self._marks = self._marks, []
                try:
                    await asyncio.to_thread(self._sent, [(i, sent) for i, sent, _ in batch])
                finally:
                    for _, _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._marking = None

    def _claim(self, ids: list[int] | None, limit: int) -> list[OutboxMessage]:
        with self.uow_factory() as uow:
            claimed = uow.outbox.claim(self.token, self.lease, platform=self.sender.platform, ids=ids,
                                       limit=limit)
            uow.commit()
        now = time.monotonic()
        self._claimed_at.update((m.id, now) for m in claimed)
        return claimed

    def _renew(self, message_id: int) -> bool:
        with self.uow_factory() as uow:
            held = uow.outbox.renew(message_id, self.token, self.lease)
            uow.commit()
            return held

    def _sent(self, batch: list[tuple[int, str | None]]) -> None:
        """The platform has them: recording that must not fail lightly, or the lease ends and they go again."""
        for pause in (0.2, 1.0, 5.0, None):
            try:
                with self.uow_factory() as uow:
                    uow.outbox.mark_many_sent(batch, self.token)
                    uow.commit()
                break
            except Exception:  # noqa: BLE001 - retried, then logged: those rows will be sent again
                if pause is None:
                    log.exception("outbox %s were sent but could not be marked; they will be sent again",
                                  [i for i, _ in batch])
                    return
                time.sleep(pause)
        self.stats.sent += len(batch)

    def _given_up(self, uow: SqlUnitOfWork, message: OutboxMessage, reason: str) -> None:
        """A row that will never arrive may matter to someone else: a relayed message's author is told that
        its recipient blocked the bot (bot.relay_notices)."""
        if self._dispatcher is None:
            return
        key = uow.outbox.key(message.id) or ""
        if ":relay:" in key:
            refused(uow, self._dispatcher, key, reason)

    def _release(self, message_ids: list[int], retry_at: datetime | None = None) -> None:
        with self.uow_factory() as uow:
            uow.outbox.release(message_ids, retry_at, token=self.token)
            uow.commit()

    def _failed(self, message: OutboxMessage, error: Exception, held_back: list[int]) -> datetime | None:
        """Record the failure; returns when the message is retried (None: given up, the chat goes on)."""
        verdict = self.sender.classify(error)
        with self.uow_factory() as uow:
            attempts = uow.outbox.attempts(message.id) + 1
            now = uow.clock.now()
            if isinstance(verdict, GiveUp) or attempts >= self.max_attempts:
                reason = verdict.reason if isinstance(verdict, GiveUp) else f"{attempts} attempts"
                log.warning("outbox %s to %s:%s given up (%s): %s", message.id, message.platform, message.chat_id,
                            reason, error)
                uow.outbox.mark_failed(message.id, f"{reason}: {error}", give_up=True, token=self.token)
                self._given_up(uow, message, reason)
                self.stats.gave_up += 1
                retry_at = None  # the chat's next messages go on
            else:
                delay = verdict.after if verdict.after is not None else min(2.0 ** attempts, self.max_backoff)
                retry_at = now + timedelta(seconds=delay)
                log.info("outbox %s to %s:%s retried in %.0f s: %s", message.id, message.platform, message.chat_id,
                         delay, error)
                uow.outbox.mark_failed(message.id, str(error) or type(error).__name__, retry_at=retry_at,
                                       token=self.token)
                self.stats.retried += 1
            uow.outbox.release(held_back, retry_at, token=self.token)  # later messages wait for this one
            uow.commit()
        return retry_at
