"""The intake worker: takes stored platform events from the database and runs them through the
platform's handler (the same adapter code and dispatcher as before), one event per person at a time and
different people at once. Any number of workers, in any number of processes, share the table.

An event done is recorded in the worker's next claim (one transaction completes what finished meanwhile
and takes what is next, so a busy worker pays one round of the database per event, not two); a failure
is recorded in its own. If the process dies before that, the event is run again, and the dispatcher's
inbox (processed_events) makes the second run a no-op. A person's next event waits for the record: it is
never claimed before the one before it is marked done. A
failure is retried with backoff; after MAX_ATTEMPTS the event is given up with a log line, and the
person is told once that something went wrong."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.events import Sender
from bot.i18n import Translator, normalise_locale
from bot.replies import Reply
from storage.errors import one_line, unavailable
from storage.intake_notify import IntakeListener
from storage.intake_repo import StoredEvent
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)  # a live process keeps its events this long; a dead one loses them at once
DB_PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)  # while the database is away, the last repeating


class IntakeHandler(Protocol):
    platform: str

    async def process(self, event: StoredEvent) -> None:
        """Act on one stored event; raise to have it tried again."""

    def sender_of(self, event: StoredEvent) -> Sender | None:
        """Who sent it and where (to tell them when it cannot be done), if the payload says."""


@dataclass
class WorkerStats:
    done: int = 0
    retried: int = 0
    gave_up: int = 0


class IntakeWorker:
    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], *, concurrency: int = 32,
                 poll_seconds: float = 0.5, max_attempts: int = MAX_ATTEMPTS, lease: timedelta = LEASE) -> None:
        self.uow_factory = uow_factory
        self.owner = uuid.uuid4().hex
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.lease = lease
        self.handlers: dict[str, IntakeHandler] = {}
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._done: list[int] = []  # finished, recorded by the next claim (or the stop)
        self._done_lock = threading.Lock()  # appended on the loop, recorded from a claim's thread
        self._unsettled: list[tuple[str, Any]] = []  # settlements the database refused: tried again
        self._unavailable = False
        self._stopping = False
        self._claiming = False  # the run loop is inside a claim (stop() lets it finish)

    def serve(self, handler: IntakeHandler) -> None:
        self.handlers[handler.platform] = handler

    def wake(self) -> None:
        """New events were stored by this process: look now rather than at the next poll."""
        self._wake.set()

    @property
    def busy(self) -> int:
        return len(self._in_hand)

    async def run(self) -> None:
        """Claim and run events until cancelled."""
        platforms = tuple(self.handlers)
        while True:
            self._wake.clear()
            try:
                if self._unsettled:
                    await asyncio.to_thread(self._settle_later)
                while True:
                    room = 0 if self._stopping else self.concurrency - len(self._in_hand)
                    if room <= 0 and not self._done:
                        break
                    self._claiming = True
                    try:
                        claimed = await asyncio.to_thread(self._claim, room, platforms)
                        for event in claimed:
                            task = asyncio.get_running_loop().create_task(self._work(event))
                            self._in_hand[event.id] = task
                    finally:
                        self._claiming = False
                    if len(claimed) < room or room <= 0:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the database away: logged once, polled again
                if not unavailable(error):
                    log.exception("intake: claiming events failed")
                elif not self._unavailable:
                    log.error("intake: the database failed (%s); retrying every %.1f s", one_line(error),
                              self.poll_seconds)
                self._unavailable = unavailable(error)
            else:
                if self._unavailable:
                    log.info("intake: the database is back")
                self._unavailable = False
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def stop(self, seconds: float = 5.0) -> None:
        """Finish the events in hand (bounded); what is left is released for the next worker."""
        self._stopping = True
        deadline = asyncio.get_running_loop().time() + seconds
        while self._claiming and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)  # a claim under way: the events it takes are in hand, waited for too
        tasks = list(self._in_hand.values())
        if tasks:  # the claim's wait and the tasks' share the one bound
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            _done, pending = await asyncio.wait(tasks, timeout=left) if left > 0 else (set(), set(tasks))
            for task in pending:
                task.cancel()
            if pending:  # each releases its event as it unwinds; a release the database holds up is left behind
                await asyncio.wait(pending, timeout=1.0)
        if self._done:
            try:
                await asyncio.wait_for(asyncio.to_thread(self._claim, 0, ()), 1.0)
            except Exception as error:  # noqa: BLE001 - not recorded: run again (a no-op) by the next worker
                log.warning("intake: could not record %d finished events (%s)", len(self._done), one_line(error))

    # ---- one event

    async def _work(self, event: StoredEvent) -> None:
        try:
            handler = self.handlers[event.platform]
            waits = 0
            while True:
                try:
                    await handler.process(event)
                except asyncio.CancelledError:
                    await asyncio.shield(self._settle("release", event.id))
                    raise
                except Exception as error:  # noqa: BLE001 - counted, retried, given up loudly
                    if unavailable(error) and not self._stopping:
                        # The database is away: not the event's fault. It stays ours (we are alive) and is
                        # tried again here, without a write the database could not take anyway.
                        pause = DB_PAUSES[min(waits, len(DB_PAUSES) - 1)]
                        log.warning("intake: %s event %s waits for the database (%s); again in %.1f s",
                                    event.platform, event.event_key, one_line(error), pause)
                        waits += 1
                        await asyncio.sleep(pause)
                        continue
                    await self._failed(handler, event, error)
                else:
                    with self._done_lock:
                        self._done.append(event.id)
                return
        finally:
            self._in_hand.pop(event.id, None)
            self._wake.set()  # the person's next event may be claimed now

    async def _failed(self, handler: IntakeHandler, event: StoredEvent, error: Exception) -> None:
        attempts = event.attempts + 1
        if unavailable(error):  # stopping while the database is away: the next process tries it again
            await self._settle("retry", (event.id, one_line(error), timedelta(0), False))
            return
        if attempts >= self.max_attempts:
            log.error("intake: %s event %s given up after %d attempts: %s", event.platform, event.event_key,
                      attempts, one_line(error), exc_info=error)
            self.stats.gave_up += 1
            await self._settle("give_up", (event, one_line(error), handler.sender_of(event)))
            return
        delay = timedelta(seconds=min(2 ** attempts, 60))
        log.warning("intake: %s event %s failed (attempt %d, again in %.0f s): %s", event.platform,
                    event.event_key, attempts, delay.total_seconds(), one_line(error), exc_info=error)
        self.stats.retried += 1
        await self._settle("retry", (event.id, one_line(error), delay, True))

    async def _settle(self, what: str, arg: Any) -> None:
        try:
            await asyncio.to_thread(self._apply, what, arg)
        except Exception as error:  # noqa: BLE001 - kept and tried again on the next round
            log.warning("intake: could not record an event's outcome (%s); trying again", one_line(error))
            self._unsettled.append((what, arg))

    def _settle_later(self) -> None:
        pending, self._unsettled = self._unsettled, []
        for n, (what, arg) in enumerate(pending):
            try:
                self._apply(what, arg)
            except Exception:
                self._unsettled.extend(pending[n:])
                raise

    def _apply(self, what: str, arg: Any) -> None:
        with self.uow_factory() as uow:
            if what == "release":
                uow.intake.release([arg], self.owner)
            elif what == "retry":
                event_id, error, delay, counted = arg
                uow.intake.fail(event_id, error, retry_in=delay, owner=self.owner, count=counted)
            elif what == "give_up":
                event, error, sender = arg
                uow.intake.fail(event.id, error, retry_in=None, owner=self.owner)
                if sender is not None:
                    _tell_failed(uow, event, sender)
            uow.commit()

    def _claim(self, limit: int, platforms: tuple[str, ...]) -> list[StoredEvent]:
        """Record the events finished since the last claim and take up to `limit` more, in one transaction.
        Finished ones stay listed until that commits (a failed claim records them next time)."""
        with self._done_lock:
            done = list(self._done)
        with self.uow_factory() as uow:
            if done:
                uow.intake.complete(done, self.owner)
            claimed = uow.intake.claim_next(self.owner, limit, self.lease, platforms=platforms) if limit > 0 else []
            uow.commit()
        if done:
            recorded = set(done)
            with self._done_lock:
                kept = [i for i in self._done if i not in recorded]
                self.stats.done += len(self._done) - len(kept)
                self._done[:] = kept
        return claimed


def _tell_failed(uow: SqlUnitOfWork, event: StoredEvent, sender: Sender) -> None:
    """Once per event (the outbox key): the person is not left waiting for an answer that never comes."""
    from bot.dispatcher import find_person

    person = find_person(uow, sender)
    t = Translator(person.locale if person else normalise_locale(sender.language))
    reply = Reply(t("Something went wrong. Nothing was changed; please try again."))
    uow.outbox.add(f"{event.platform}:{event.event_key}:failed", person.id if person else None, sender.platform,
                   sender.chat_id, reply.to_json())


def _waker(loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> Callable[[], None]:
    """wake() from the listener's thread, in the worker's loop (nothing once that loop has closed)."""
    def heard() -> None:
        try:
            loop.call_soon_threadsafe(wake)
        except RuntimeError:  # the loop closed: the process is stopping
            pass

    return heard


class Processing:
    """A process's share of the pool: its heartbeat (always: its outbox senders hold leases too) and,
    unless this process only receives, an intake worker. Shared by the runtimes of one process (Telegram
    and Slack in `headstrt web`): started by the first, stopped by the last."""

    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], *, kind: str, embedded: bool = True,
                 concurrency: int = 32, poll_seconds: float = 0.5, heartbeat_seconds: float = 2.0,
                 listener: IntakeListener | None = None) -> None:
        from bot.heartbeat import Heartbeat

        self.embedded = embedded
        self.listener = listener  # PostgreSQL: events stored by other processes wake the worker
        self.worker = IntakeWorker(uow_factory, concurrency=concurrency, poll_seconds=poll_seconds)
        self.heartbeat = Heartbeat(uow_factory, kind, interval=heartbeat_seconds,
                                   dead_after=max(5 * heartbeat_seconds, 2.0))
        if embedded:
            self.heartbeat.add(self.worker.owner)
        self._users = 0
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        if self.embedded:
            self.worker.wake()

    async def start(self) -> None:
        self._users += 1
        if self._users > 1:
            return
        await self.heartbeat.start()
        if self.embedded:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self.worker.run())
            if self.listener is not None:
                self.listener.start(_waker(loop, self.worker.wake))

    async def stop(self, seconds: float = 5.0) -> None:
        """Stop taking events, finish those in hand (bounded), then say goodbye: anything still held
        passes to the other processes at once."""
        self._users -= 1
        if self._users > 0:
            return
        if self.listener is not None:
            self.listener.stop()
        if self._task is not None:
            await self.worker.stop(seconds)
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=1.0)  # a claim in a database call is left behind
            self._task = None

    async def goodbye(self) -> None:
        """After the outbox senders stopped too (the last step of a stop)."""
        if self._users <= 0:
            await self.heartbeat.stop()
