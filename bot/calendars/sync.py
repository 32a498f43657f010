"""The scheduler's calendar work, also run by `headstrt calendar refresh`:
- read every connected calendar when it is due (several at once, each bounded in size and time), store
  its busy times, tell the owner about a new busy event over one of their sessions (once per event and
  session), and about a calendar that keeps failing (once per failing streak);
- put confirmed sessions into every CalDAV calendar of either party, again after a reschedule, and take
  them out after a cancellation. What is due is derived from the meetings on each pass and every write
  lands at the same address, so a crash or a retry never loses or doubles an event; a failed write is
  tried again later, further apart each time.
Network work happens outside any database transaction; each calendar's result is one transaction."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from core.calendar_service import (
    DEFAULT_HORIZON,
    BusyInterval,
    CalendarConnection,
    CalendarProblem,
    ConnectionKind,
    RefreshRules,
    clashes,
    needs_full_read,
    read_window,
)
from core.clock import Clock
from bot.calendars import ics
from bot.calendars.caldav_io import CalDavCalendar
from bot.calendars.crypto import Sealer
from bot.calendars.documents import SessionView, stored_event
from bot.calendars.feeds import fetch
from bot.calendars.notices import clash_notice, failing_notice
from bot.flows.base import Notice
from bot.i18n import Translator
from bot.replies import Reply
from bot.settings import CalendarSettings
from storage.calendar_repo import CalendarWrite, OwnerContext
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

NoticeQueue = Callable[[SqlUnitOfWork, Notice], object]
INBOX = "calendar"  # the inbox "platform" under which told clashes are remembered
WRITE_RETRY = timedelta(minutes=1)
WRITE_MAX_BACKOFF = timedelta(hours=6)


@dataclass
class RefreshReport:
    read: int = 0  # read and stored
    unchanged: int = 0  # 304, or the same sync token
    failed: int = 0
    clashes: int = 0  # owners told about a new busy event over a session
    reported: int = 0  # owners told their calendar keeps failing
    problems: dict[int, str] = field(default_factory=dict)  # connection -> reason


@dataclass
class WriteReport:
    written: int = 0
    deleted: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    problem: str | None = None
    detail: str = ""
    unchanged: bool = False
    intervals: list[BusyInterval] | None = None
    etag: str | None = None
    last_modified: str | None = None
    calendar_url: str | None = None
    expanded_until: datetime | None = None


class CalendarSync:
    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, settings: CalendarSettings, *,
                 sealer: Sealer | None = None, queue_notice: NoticeQueue | None = None) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.settings = settings
        self.rules = RefreshRules(interval=settings.refresh)
        self.sealer = sealer or Sealer.from_env()
        self.queue_notice = queue_notice
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """One client for every feed: its connection pool and TLS context are built once, not per fetch."""
        with self._http_lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self.settings.timeout_seconds, follow_redirects=False,
                                          limits=httpx.Limits(max_connections=self.settings.concurrency * 2))
            return self._http

    def close(self) -> None:
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def tick(self) -> tuple[WriteReport, RefreshReport]:
        return self.write_pending(), self.refresh_due()

    # ---- reading

    def refresh_due(self, limit: int = 2000) -> RefreshReport:
        now = self.clock.now()
        with self.uow() as uow:
            connections = uow.calendars.due(now, limit)
        return self._refresh(connections, now)

    def refresh(self, person_ids: Iterable[int] | None = None, *, connection_ids: Iterable[int] | None = None
                ) -> RefreshReport:
        """Read these now, due or not (all connections when neither is given)."""
        now = self.clock.now()
        with self.uow() as uow:
            connections = uow.calendars.all(person_ids)
        if connection_ids is not None:
            wanted = set(connection_ids)
            connections = [c for c in connections if c.id in wanted]
        return self._refresh(connections, now)

    def read_once(self, connection: CalendarConnection, owner: OwnerContext, now: datetime, *, full: bool = False
                  ) -> _Outcome:
        """Read one calendar (network only, no database); never raises."""
        try:
            return self._read(connection, owner, now, full)
        except CalendarProblem as problem:
            return _Outcome(problem=problem.reason, detail=problem.detail)
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the other calendars
            log.exception("calendar %s: reading failed", connection.id)
            return _Outcome(problem="calendar_problem", detail=type(exc).__name__)

    def _refresh(self, connections: Sequence[CalendarConnection], now: datetime) -> RefreshReport:
        report = RefreshReport()
        if not connections:
            return report
        with self.uow() as uow:
            owners = uow.calendars.owners_context({c.person_id for c in connections})
        workers = max(1, min(self.settings.concurrency, len(connections)))
        with ThreadPoolExecutor(workers, thread_name_prefix="calendar") as pool:
            futures = {pool.submit(self.read_once, c, owners[c.person_id], now): c
                       for c in connections if c.person_id in owners}
            for future in as_completed(futures):
                connection = futures[future]
                try:
                    self._apply(connection, future.result(), now, report)
                except Exception:  # noqa: BLE001 - one calendar's bad luck is not the others'
                    log.exception("calendar %s: storing the result failed", connection.id)
        return report

    def _read(self, c: CalendarConnection, owner: OwnerContext, now: datetime, full: bool) -> _Outcome:
        horizon = timedelta(days=owner.horizon_days) if owner.horizon_days is not None else DEFAULT_HORIZON
        start, end = read_window(now, horizon)
        full = full or needs_full_read(c.expanded_until, now, horizon)
        addresses = [a for a in (owner.email, c.username) if a and "@" in a]
        password = self.sealer.open(c.secret_sealed) if c.secret_sealed else None
        if c.kind is ConnectionKind.FEED:
            auth = (c.username, password) if c.username and password is not None else None
            got = fetch(c.url, self.settings, etag=None if full else c.etag,
                        last_modified=None if full else c.last_modified, auth=auth, client=self.http)
            if got.not_modified:
                return _Outcome(unchanged=True, etag=got.etag or c.etag, last_modified=got.last_modified or c.last_modified,
                                expanded_until=c.expanded_until)
            intervals = ics.busy_times([got.body], zone=owner.timezone, start=start, end=end, owner_addresses=addresses,
                                       deadline=time.monotonic() + self.settings.timeout_seconds)
            return _Outcome(intervals=intervals, etag=got.etag, last_modified=got.last_modified, expanded_until=end)
        if not c.username or password is None:
            raise CalendarProblem("a CalDAV calendar needs a user and an app password", reason="calendar_needs_password")
        with CalDavCalendar(c.url, c.username, password, self.settings, calendar_url=c.calendar_url) as calendar:
            token = calendar.sync_token()
            if not full and token is not None and token == c.etag:
                return _Outcome(unchanged=True, etag=token, calendar_url=calendar.calendar_url,
                                expanded_until=c.expanded_until)
            texts = calendar.events(start, end)
            intervals = ics.busy_times(texts, zone=owner.timezone, start=start, end=end, owner_addresses=addresses,
                                       deadline=time.monotonic() + self.settings.timeout_seconds)
            return _Outcome(intervals=intervals, etag=token, calendar_url=calendar.calendar_url, expanded_until=end)

    def _apply(self, seen: CalendarConnection, outcome: _Outcome, now: datetime, report: RefreshReport) -> None:
        with self.uow() as uow:
            self.apply_in(uow, seen, outcome, now, report)
            uow.commit()

    def apply_in(self, uow: SqlUnitOfWork, seen: CalendarConnection, outcome: _Outcome, now: datetime,
                 report: RefreshReport) -> None:
        """Store what reading a calendar gave, in the caller's transaction (not committed here)."""
        assert seen.id is not None
        connection_id = seen.id
        c = uow.calendars.get(connection_id)
        if c is None:  # disconnected while we read it
            return
        c.last_attempt_at = now
        if outcome.problem is not None:
            c.failures += 1
            c.failing_since = c.failing_since or now
            c.last_error = f"{outcome.problem}: {outcome.detail}"
            c.next_refresh_at = self.rules.next_attempt(now, c.failures)
            report.failed += 1
            report.problems[connection_id] = outcome.problem
            if self.rules.should_report(c.failures, c.failure_reported_at is not None):
                if self._tell_failing(uow, c, outcome.problem):
                    report.reported += 1
                c.failure_reported_at = now
            uow.calendars.save_state(c)
            return
        c.failures, c.failing_since, c.last_error, c.failure_reported_at = 0, None, "", None
        c.last_success_at = now
        c.next_refresh_at = self.rules.next_attempt(now, 0)
        c.etag, c.last_modified = outcome.etag, outcome.last_modified
        c.calendar_url = outcome.calendar_url or c.calendar_url
        c.expanded_until = outcome.expanded_until
        if outcome.unchanged:
            report.unchanged += 1
        else:
            report.read += 1
            intervals = outcome.intervals or []
            digest = ics.digest(intervals)
            if digest != c.busy_digest:
                before = set(uow.calendars.busy(connection_id))
                uow.calendars.replace_busy(connection_id, c.person_id, intervals)
                c.busy_digest = digest
                report.clashes += self._tell_clashes(uow, c.person_id, [i for i in intervals if i not in before])
        uow.calendars.save_state(c)

    def _tell_clashes(self, uow: SqlUnitOfWork, person_id: int, new: Sequence[BusyInterval]) -> int:
        if not new or self.queue_notice is None:
            return 0
        sessions = uow.calendars.confirmed_sessions(person_id, min(i.start for i in new), max(i.end for i in new))
        told = 0
        for interval, session in clashes(new, sessions):
            uid = hashlib.sha256(interval.uid.encode()).hexdigest()[:16]
            marker = f"clash:{session.meeting_id}:{uid}:{interval.start:%Y%m%dT%H%M}"
            if not uow.inbox.first_time(INBOX, marker):
                continue
            reply = self._clash_reply(uow, person_id, session.booking_id, session.meeting_id)
            if reply is not None:
                self.queue_notice(uow, Notice(person_id, reply, f"calendar:{marker}"))
                told += 1
        return told

    def _clash_reply(self, uow: SqlUnitOfWork, person_id: int, booking_id: int, meeting_id: int) -> Reply | None:
        parties = uow.bookings.with_parties(booking_id)
        person = uow.people.get(person_id)
        if parties is None or person is None:
            return None
        booking, expert, client = parties.booking, parties.expert, parties.client
        meeting = booking.meeting(meeting_id)
        is_expert = expert.person_id == person_id
        t = Translator(person.locale, person.timezone)
        return clash_notice(t, title=booking.details.title, other_name=client.name if is_expert else expert.name,
                            start=meeting.start, other_tz=client.timezone if is_expert else expert.timezone,
                            booking_id=booking_id, meeting_id=meeting_id)

    def _tell_failing(self, uow: SqlUnitOfWork, c: CalendarConnection, reason: str) -> bool:
        person = uow.people.get(c.person_id)
        if person is None or self.queue_notice is None or c.failing_since is None:
            return False
        t = Translator(person.locale, person.timezone)
        reply = failing_notice(t, kind=c.kind, url=c.url, since=c.failing_since, reason=reason)
        self.queue_notice(uow, Notice(c.person_id, reply, f"calendar:failing:{c.id}:{c.failing_since:%Y%m%dT%H%M%S}"))
        return True

    # ---- writing sessions to CalDAV calendars

    def write_pending(self, limit: int = 200) -> WriteReport:
        now = self.clock.now()
        report = WriteReport()
        with self.uow() as uow:
            tasks = uow.calendars.pending_writes(now, limit)
            if not tasks:
                return report
            connections = {i: uow.calendars.get(i) for i in {t.connection_id for t in tasks}}
            documents = {(t.connection_id, t.meeting_id): self._document(uow, t, connections[t.connection_id], now)
                         for t in tasks if not t.delete}
        by_connection: dict[int, list[CalendarWrite]] = defaultdict(list)
        for task in tasks:
            by_connection[task.connection_id].append(task)
        workers = max(1, min(self.settings.concurrency, len(by_connection)))
        with ThreadPoolExecutor(workers, thread_name_prefix="calendar-write") as pool:
            futures = [pool.submit(self._write_all, connections[cid], items, documents)
                       for cid, items in by_connection.items() if connections[cid] is not None]
            for future in as_completed(futures):
                self._record(future.result(), now, report)
        return report

    def _document(self, uow: SqlUnitOfWork, task: CalendarWrite, c: CalendarConnection | None, now: datetime
                  ) -> str | None:
        parties = uow.bookings.with_parties(task.booking_id)
        if parties is None or c is None or parties.expert.person_id is None:
            return None
        expert_person = uow.people.get(parties.expert.person_id)
        if expert_person is None:
            return None
        view = SessionView(parties.booking, parties.booking.meeting(task.meeting_id), parties.expert, parties.client,
                           expert_person, for_expert=c.person_id == parties.expert.person_id)
        return stored_event(view, stamp=now)

    def _write_all(self, c: CalendarConnection | None, tasks: list[CalendarWrite],
                   documents: dict[tuple[int, int], str | None]) -> list[tuple[CalendarWrite, str | None, str | None, str]]:
        """(task, href written, etag, problem) for each; network only."""
        results: list[tuple[CalendarWrite, str | None, str | None, str]] = []
        try:
            assert c is not None
            if not c.username or not c.secret_sealed:
                raise CalendarProblem("no credentials", reason="calendar_needs_password")
            password = self.sealer.open(c.secret_sealed)
            with CalDavCalendar(c.url, c.username, password, self.settings, calendar_url=c.calendar_url) as calendar:
                for task in tasks:
                    try:
                        if task.delete:
                            if task.href:
                                calendar.delete(task.href)
                            results.append((task, None, None, ""))
                            continue
                        document = documents.get((task.connection_id, task.meeting_id))
                        if document is None:
                            results.append((task, None, None, "calendar_problem: the session is gone"))
                            continue
                        name = f"headstrt-meeting-{task.meeting_id}"
                        written = calendar.put(name, f"{name}@headstrt", document, task.href)
                        results.append((task, written.href, written.etag, ""))
                    except CalendarProblem as problem:
                        results.append((task, None, None, f"{problem.reason}: {problem.detail}"))
        except CalendarProblem as problem:
            done = {id(r[0]) for r in results}
            results += [(t, None, None, f"{problem.reason}: {problem.detail}") for t in tasks if id(t) not in done]
        except Exception as exc:  # noqa: BLE001 - recorded as a failure and tried again later
            log.exception("calendar writes failed")
            done = {id(r[0]) for r in results}
            results += [(t, None, None, f"calendar_problem: {type(exc).__name__}") for t in tasks if id(t) not in done]
        return results

    def _record(self, results: list[tuple[CalendarWrite, str | None, str | None, str]], now: datetime,
                report: WriteReport) -> None:
        with self.uow() as uow:
            for task, href, etag, problem in results:
                if problem:
                    attempts = task.attempts + 1
                    delay = min(WRITE_RETRY * 2 ** min(attempts - 1, 16), WRITE_MAX_BACKOFF)
                    uow.calendars.write_failed(task.connection_id, task.meeting_id, attempts=attempts,
                                               retry_at=now + delay, error=problem)
                    report.failed += 1
                    log.warning("calendar %s, meeting %s: %s (attempt %s)", task.connection_id, task.meeting_id,
                                problem, attempts)
                elif task.delete:
                    uow.calendars.deleted(task.connection_id, task.meeting_id)
                    report.deleted += 1
                else:
                    assert href is not None
                    uow.calendars.written(task.connection_id, task.meeting_id, href=href, etag=etag,
                                          sequence=task.sequence)
                    report.written += 1
            uow.commit()
