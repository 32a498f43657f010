"""The scheduler process: every tick it lapses unanswered requests, completes ended meetings (feedback and
no-show prompts follow) and queues the reminders that are due. It only writes to the outbox; the chat
processes send. Exactly once without any bookkeeping of its own: each item is one transaction with its
outbox rows, state changes happen once (an expired request is not expired again), and each reminder's
outbox key names the meeting, the offset and the start, so a tick that runs twice, a crash in the middle
of a batch, or a restart after downtime sends nothing twice and loses nothing. A reschedule changes the
start (new keys: the reminders move); a cancellation takes the meeting out of the query.

The email reminder (24 h before, with the calendar invite; only when SMTP is set up) works the same way,
under its own key per meeting, start and person; the email pump sends it, and retries a failed send with
backoff a bounded number of times. A pending one whose meeting was cancelled or moved meanwhile (the
server was down) is withdrawn instead of sent.

One scheduler acts at a time: on PostgreSQL the leader holds an advisory lock on its own connection and
a standby takes over when that connection dies; on SQLite a lock file next to the database does it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core import booking_service, waitlist_service
from core.clock import Clock
from core.reminders import due_reminder, parse_offsets
from bot.calendars import jobs as calendar_jobs
from bot.calendars.sync import CalendarSync
from bot.dispatcher import Dispatcher
from bot.flows.base import Notice
from bot.notifications import event_notices
from bot.files.retention import purge_files
from bot.reminders import email_reminder, reminder
from bot.settings import FileSettings, file_settings
from storage.errors import one_line
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x48_53_54_52  # "HSTR": the scheduler's PostgreSQL advisory lock
DEFAULT_OFFSETS = "24h,1h"
EMAIL_BEFORE = timedelta(hours=24)  # the reminder email, with the calendar invite
BATCH = 200  # reminders queued per transaction
PAGE = 2000  # meetings read per query
SCHEDULER = "scheduler"  # the inbox "platform" under which queued reminders are marked done


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    offsets: tuple[timedelta, ...] = field(default_factory=lambda: parse_offsets(DEFAULT_OFFSETS))
    tick_seconds: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SchedulerSettings:
        tick = env.get("SCHEDULER_TICK_SECONDS", "").strip()
        try:
            offsets = parse_offsets(env.get("REMINDER_OFFSETS") or DEFAULT_OFFSETS)
        except ValueError as exc:
            raise ValueError(f"REMINDER_OFFSETS: {exc}") from None
        try:
            seconds = float(tick) if tick else 30.0
        except ValueError:
            seconds = 0.0
        if not 1 <= seconds <= 3600:
            raise ValueError(f"SCHEDULER_TICK_SECONDS must be a number of seconds from 1 to 3600, not {tick!r}")
        return cls(offsets, seconds)


@dataclass
class TickReport:
    expired: int = 0
    completed: int = 0
    reminded: int = 0
    emailed: int = 0
    files_deleted: int = 0
    passed_on: int = 0  # waitlist offers that ran out (and went to the next in line, if anyone fits)
    events_pruned: int = 0  # finished chat events forgotten after INTAKE_KEPT


class Jobs:
    def __init__(self, dispatcher: Dispatcher, settings: SchedulerSettings, files: FileSettings | None = None) -> None:
        self.dispatcher = dispatcher
        self.settings = settings
        self.files = files or file_settings()  # where stored files are, and how long they are kept

    @property
    def uow(self) -> Callable[[], SqlUnitOfWork]:
        return self.dispatcher.uow_factory

    @property
    def clock(self) -> Clock:
        return self.dispatcher.clock

    def tick(self) -> TickReport:
        return TickReport(self.expire_due(), self.complete_ended(), self.remind(), self.remind_by_email(),
                          self.purge_files(), self.pass_on_offers(), self.prune_intake())

    def prune_intake(self) -> int:
        """Finished chat events (inbound_events) are forgotten after INTAKE_KEPT, so the table holds days
        of traffic, not its history; an unfinished one is never (an indexed range, cheap every tick)."""
        with self.uow() as uow:
            pruned = uow.intake.prune(self.clock.now() - INTAKE_KEPT)
            uow.commit()
        return pruned

    def purge_files(self) -> int:
        """Files deleted with their booking's retention (HEADSTRT_FILE_RETENTION_DAYS), and abandoned drafts'."""
        return purge_files(self.uow, self.clock, self.files)

    def expire_due(self) -> int:
        with self.uow() as uow:
            due = uow.bookings.due_for_expiry(self.clock.now())
        done = 0
        for booking_id in due:
            with self.uow() as uow:
                if booking_service.expire(uow, self.clock, booking_id=booking_id):
                    self._queue(uow, event_notices(uow, uow.events, key_prefix=f"sched:expire:{booking_id}"))
                    done += 1
                uow.commit()
        return done

    def complete_ended(self) -> int:
        with self.uow() as uow:
            ended = uow.bookings.ended_unfinished(self.clock.now())
        done = 0
        for booking_id in ended:
            with self.uow() as uow:
                meetings = booking_service.complete_ended(uow, self.clock, booking_id=booking_id)
                if meetings:
                    key = f"sched:done:{booking_id}:{'-'.join(map(str, meetings))}"
                    self._queue(uow, event_notices(uow, uow.events, key_prefix=key))
                    done += len(meetings)
                uow.commit()
        return done

    def pass_on_offers(self) -> int:
        """Waitlist offers nobody answered in time: each closed, and its time offered to the next in line, in
        one transaction with the notice (an offer closed once is not passed on again)."""
        with self.uow() as uow:
            due = waitlist_service.due_offers(uow, self.clock)
        done = 0
        for offer_id in due:
            with self.uow() as uow:
                events = waitlist_service.lapse(uow, self.clock, offer_id=offer_id)
                self._queue(uow, event_notices(uow, events, key_prefix=f"sched:wl:{offer_id}"))
                done += 1
                uow.commit()
        return done

    def remind(self) -> int:
        """Every due reminder, page by page. A reminder queued once is marked done in the inbox table in the
        same transaction, so later ticks skip it with one query per page instead of building it again."""
        now = self.clock.now()
        offsets = self.settings.offsets
        end = now + max(offsets) + timedelta(minutes=1)
        queued = 0
        after: tuple[datetime, int] | None = None
        while True:
            with self.uow() as uow:
                page = uow.bookings.starting_between(now, end, after=after, limit=PAGE)
                due = [(b, m, start, offset, _marker(m, offset, start)) for b, m, start in page
                       if (offset := due_reminder(start, offsets, now)) is not None]
                done = uow.inbox.seen(SCHEDULER, [item[4] for item in due])
            todo = [item for item in due if item[4] not in done]
            for i in range(0, len(todo), BATCH):
                with self.uow() as uow:
                    for booking_id, meeting_id, start, offset, marker in todo[i:i + BATCH]:
                        if uow.inbox.first_time(SCHEDULER, marker):
                            queued += self._remind(uow, booking_id, meeting_id, start, offset)
                    uow.commit()
            if len(page) < PAGE:
                return queued
            after = (page[-1][2], page[-1][1])

    def _remind(self, uow: SqlUnitOfWork, booking_id: int, meeting_id: int, start: Any, offset: timedelta) -> int:
        booking = uow.bookings.get(booking_id)
        expert = uow.experts.get(booking.expert_id) if booking else None
        if booking is None or expert is None or expert.person_id is None:
            return 0
        meeting = next((m for m in booking.meetings if m.id == meeting_id), None)
        client, expert_person = uow.people.get(booking.client_id), uow.people.get(expert.person_id)
        if meeting is None or client is None or expert_person is None:
            return 0
        first = offset == max(self.settings.offsets)
        stamp = _marker(meeting_id, offset, start).removeprefix("remind:")
        notices = [
            Notice(person.id or 0, reminder(booking, meeting, expert, person, other, first=first, now=self.clock.now()),
                   f"remind:{stamp}:{person.id}")
            for person, other in ((client, expert_person), (expert_person, client))
        ]
        return self._queue(uow, notices)

    def remind_by_email(self) -> int:
        """The reminder emails that are due (from 24 h before until the start), once per meeting, start and
        person; nothing at all without SMTP. Pending ones of meetings that changed meanwhile are withdrawn."""
        if not self.dispatcher.email_enabled:
            return 0
        now = self.clock.now()
        with self.uow() as uow:
            withdrawn = uow.outbox.withdraw(_stale_mail_reminders(uow, now), "the meeting was cancelled or moved")
            uow.commit()
        if withdrawn:
            log.info("%s reminder emails withdrawn: their meetings were cancelled or moved", withdrawn)
        queued = 0
        after: tuple[datetime, int] | None = None
        while True:
            with self.uow() as uow:
                page = uow.bookings.starting_between(now, now + EMAIL_BEFORE + timedelta(minutes=1), after=after,
                                                     limit=PAGE)
                due = [(b, m, start, _mail_marker(m, start)) for b, m, start in page if start - EMAIL_BEFORE <= now]
                done = uow.inbox.seen(SCHEDULER, [item[3] for item in due])
            todo = [item for item in due if item[3] not in done]
            for i in range(0, len(todo), BATCH):
                with self.uow() as uow:
                    for booking_id, meeting_id, start, marker in todo[i:i + BATCH]:
                        if uow.inbox.first_time(SCHEDULER, marker):
                            queued += self._email(uow, booking_id, meeting_id, marker)
                    uow.commit()
            if len(page) < PAGE:
                return queued
            after = (page[-1][2], page[-1][1])

    def _email(self, uow: SqlUnitOfWork, booking_id: int, meeting_id: int, marker: str) -> int:
        booking = uow.bookings.get(booking_id)
        expert = uow.experts.get(booking.expert_id) if booking else None
        if booking is None or expert is None or expert.person_id is None:
            return 0
        meeting = next((m for m in booking.meetings if m.id == meeting_id), None)
        client, expert_person = uow.people.get(booking.client_id), uow.people.get(expert.person_id)
        if meeting is None or client is None or expert_person is None:
            return 0
        now = self.clock.now()
        notices = [
            Notice(person.id or 0, email_reminder(booking, meeting, expert, person, other, client=client,
                                                  expert_person=expert_person, now=now),
                   f"{marker}:{person.id}", platform="email")
            for person, other in ((client, expert_person), (expert_person, client))
            if person.email and person.email_reminders
        ]
        return self._queue(uow, notices)

    def _queue(self, uow: SqlUnitOfWork, notices: list[Notice]) -> int:
        return sum(len(self.dispatcher.queue_notice(uow, notice)) for notice in notices)


def _marker(meeting_id: int, offset: timedelta, start: datetime) -> str:
    """One reminder: the meeting, the offset and the start (a reschedule makes new ones)."""
    return f"remind:{meeting_id}:{int(offset.total_seconds())}:{start:%Y%m%dT%H%M%SZ}"


MAIL_REMINDER = "mailremind"


def _mail_marker(meeting_id: int, start: datetime) -> str:
    """One reminder email per meeting and start (a reschedule makes a new one); the person follows."""
    return f"{MAIL_REMINDER}:{meeting_id}:{start:%Y%m%dT%H%M%SZ}"


def _stale_mail_reminders(uow: SqlUnitOfWork, now: datetime) -> list[int]:
    """Unsent reminder emails (waiting for a retry) whose meeting is no longer confirmed at that start."""
    pending = uow.outbox.pending_keys("email", f"email:{MAIL_REMINDER}:")
    if not pending:
        return []
    stale = []
    for row_id, key in pending:
        _, _, meeting, stamp, _ = key.split(":", 4)
        current = uow.bookings.confirmed_start(int(meeting))
        if current is None or current <= now or f"{current:%Y%m%dT%H%M%SZ}" != stamp:
            stale.append(row_id)
    return stale


class Leadership:
    """Held while this process may act; a second scheduler waits as a standby."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
                conn.commit()
            except BaseException:
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        import fcntl

        database = make_url(str(self.engine.url)).database or "headstrt"
        handle = Path(f"{database}.scheduler.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def held(self) -> bool:
        """Still the leader? On PostgreSQL the lock lives exactly as long as its connection."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
                return False
        return self._file is not None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            except SQLAlchemyError as error:  # the connection is gone, and the lock went with it
                log.info("lead not released explicitly (%s); it ended with its connection", one_line(error))
            finally:
                try:
                    self._conn.close()
                except SQLAlchemyError:
                    pass
                self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


INTAKE_KEPT = timedelta(days=7)  # a platform redelivers within minutes; a week is for looking into a failure

_JOBS: Jobs | None = None  # APScheduler stores jobs by reference: the tick finds the process's Jobs here


async def tick() -> None:
    """The stored APScheduler job. A database that is away is one log line; the next tick tries again."""
    if _JOBS is not None:
        try:
            report = await asyncio.to_thread(_JOBS.tick)
        except DBAPIError as error:
            log.error("tick skipped, the database failed: %s", one_line(error))
            return
        if (report.expired or report.completed or report.reminded or report.emailed or report.files_deleted
                or report.passed_on or report.events_pruned):
            log.info("tick: %s expired, %s completed, %s reminders, %s reminder emails, %s files deleted, "
                     "%s waitlist offers run out, %s old chat events forgotten", report.expired,
                     report.completed, report.reminded, report.emailed, report.files_deleted, report.passed_on,
                     report.events_pruned)


async def run(engine: Engine, jobs: Jobs, stop: asyncio.Event, *, standby_seconds: float = 5.0,
              calendars: CalendarSync | None = None) -> None:
    """Wait to lead, then tick with APScheduler (its SQLAlchemy job store in the product's database) until
    stopped or the lead is lost."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    global _JOBS
    lead = Leadership(engine)
    while not await _acquire(lead):
        try:
            await asyncio.wait_for(stop.wait(), standby_seconds)
            return
        except TimeoutError:
            continue
    _JOBS = jobs
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    # APScheduler runs on the wall clock; the jobs themselves read the product's clock.
    scheduler.add_job(tick, "interval", seconds=jobs.settings.tick_seconds, id="tick", replace_existing=True,
                      next_run_time=datetime.now(UTC))
    if calendars is not None:  # people's own calendars: read when due, sessions written to CalDAV
        calendar_jobs.install(calendars)
        scheduler.add_job(calendar_jobs.tick, "interval", seconds=jobs.settings.tick_seconds, id="calendars",
                          replace_existing=True, next_run_time=datetime.now(UTC))
    scheduler.start()
    log.info("scheduler leads: ticking every %.0f s", jobs.settings.tick_seconds)
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), standby_seconds)
            except TimeoutError:
                if not await asyncio.to_thread(lead.held):
                    log.error("scheduler lost its lead; stopping so a standby takes over")
                    break
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.to_thread(lead.release)
        _JOBS = None
        calendar_jobs.install(None)


async def _acquire(lead: Leadership) -> bool:
    """Try to lead, in a worker thread (a database that does not answer must not hold the event loop,
    so a stop signal is still heard); a database error is a log line and a try later."""
    try:
        got = await asyncio.to_thread(lead.try_acquire)
    except SQLAlchemyError as error:
        log.error("cannot reach the database to take the lead: %s; trying again", one_line(error))
        return False
    if not got:
        log.info("another scheduler leads; standing by")
    return got

