"""People's own calendars:
- free slots for an expert with 2,000 busy events from their calendar over 90 days, next to the
  500-meeting figure of bench_slots (target: within 2x), in the core and through the database;
- one refresh of 1,000 connected feeds served on 127.0.0.1 (each 20 events, one of them weekly), on
  SQLite and PostgreSQL: the first read (everything parsed and stored) and the next (every feed a 304).

Run standalone: python -m bench.bench_calendar
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import Engine, insert

from bench.bench_slots import DURATION, NOW, _meetings, _schedule
from bench.harness import postgres_available, postgres_db, sqlite_db, time_ms
from bot.calendars.sync import CalendarSync
from bot.settings import CalendarSettings
from core.availability import free_slots
from core.calendar_service import BusyInterval, CalendarConnection, ConnectionKind
from core.clock import FixedClock
from core.experts import Expert, ExpertKind
from core.model import Person
from core.schedule import Busy
from storage.models import BookingRow, CalendarBusyRow, MeetingRow
from storage.uow import SqlUnitOfWork

FEEDS = 1000
EVENTS_PER_FEED = 20


def _external(count: int = 2000) -> list[Busy]:
    """Busy events from someone's own calendar: any length, anywhere in the open hours, overlapping freely."""
    return [Busy(b.start, b.end, counts_toward_cap=False) for b in _meetings(_schedule(), count, seed=11)]


def _spread(count: int = 2000) -> list[Busy]:
    """A full calendar that nothing joins: 30-minute events every 65 minutes, day and night, for 90 days."""
    step = timedelta(days=90) / count
    return [Busy(NOW + i * step, NOW + i * step + timedelta(minutes=30), counts_toward_cap=False)
            for i in range(count)]


def _core() -> list[tuple[str, str]]:
    schedule = _schedule()
    meetings = _meetings(schedule)
    rows = []
    base50, base99 = time_ms(lambda: free_slots(schedule, meetings, DURATION, NOW), 500)
    rows.append(("free slots, 90 days, 500 meetings (bench_slots' figure)", f"p50 {base50:.2f} ms, p99 {base99:.2f} ms"))
    for label, events in (("2,000 calendar events, none overlapping", _spread()),
                          ("2,000 calendar events at random (overlapping)", _external()),
                          ("the same, as busy() returns them", _joined(_external()))):
        p50, p99 = time_ms(lambda: free_slots(schedule, events, DURATION, NOW), 500)
        rows.append((f"free slots, 90 days, {label} ({len(events)} intervals)",
                     f"p50 {p50:.2f} ms, p99 {p99:.2f} ms ({p50 / base50:.2f}x the 500-meeting p50)"))
    both = sorted(meetings + _spread())
    p50, p99 = time_ms(lambda: free_slots(schedule, both, DURATION, NOW), 500)
    rows.append(("free slots, 90 days, 500 meetings + 2,000 calendar events", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms "
                 f"({p50 / base50:.2f}x)"))
    return rows


def _with_database(name: str, engine: Engine) -> list[tuple[str, str]]:
    """The whole path a picker takes: the busy query (meetings and calendar events in one) and free slots."""
    clock = FixedClock(NOW)
    schedule = _schedule()
    with SqlUnitOfWork(engine, clock) as uow:
        client = uow.people.add(Person(None, "client", "Client"))
        person = uow.people.add(Person(None, "expert", "Expert", timezone=schedule.timezone))
        expert = uow.experts.put(Expert(None, person.id, "expert", "Expert", schedule.timezone, ExpertKind.COMPENSATED),
                                 schedule)
        assert person.id is not None and expert.id is not None  # stored: they have ids now
        person_id = person.id
        meetings = _merged(_meetings(schedule))  # the database refuses overlapping meetings
        for i, m in enumerate(meetings):
            booking = uow.session.execute(insert(BookingRow).values(
                client_id=client.id, expert_id=expert.id, status="accepted", title="t", outcome="o", context="",
                intro_note="", attachments="", price_milli=0, created_at=NOW, expires_at=NOW, decline_reason="",
                proposed_by_expert=False, version=0).returning(BookingRow.id)).scalar_one()
            uow.session.execute(insert(MeetingRow).values(
                booking_id=booking, expert_id=expert.id, starts_at=m.start, ends_at=m.end, status="confirmed",
                price_milli=0, reschedule_count=0, ics_sequence=0))
        uow.commit()
        expert_id = expert.id

    def picker() -> int:
        with SqlUnitOfWork(engine, clock) as uow:
            busy = uow.experts.busy(expert_id, NOW - timedelta(days=1), NOW + schedule.rules.horizon + timedelta(days=1))
            return len(free_slots(uow.experts.schedule(expert_id), busy, DURATION, NOW))

    base50, base99 = time_ms(picker, 200)
    rows = [(f"{name}: busy query + free slots, {len(meetings)} meetings", f"p50 {base50:.2f} ms, p99 {base99:.2f} ms")]
    with SqlUnitOfWork(engine, clock) as uow:
        connection = uow.calendars.add(CalendarConnection(None, person_id, ConnectionKind.FEED, "https://cal.test/x.ics",
                                                          NOW, NOW + timedelta(days=1)))
        assert connection.id is not None
        uow.calendars.replace_busy(connection.id, person_id, [
            BusyInterval(b.start, b.end, f"e{i}@cal.test") for i, b in enumerate(_spread())])
        uow.commit()
    p50, p99 = time_ms(picker, 200)
    rows.append((f"{name}: busy query + free slots, {len(meetings)} meetings + 2,000 calendar events (none overlapping)",
                 f"p50 {p50:.2f} ms, p99 {p99:.2f} ms ({p50 / base50:.2f}x)"))
    return rows


def _joined(busy: list[Busy]) -> list[Busy]:
    """Overlapping calendar events joined, as storage's busy() returns an expert's calendar time."""
    out: list[Busy] = []
    for b in sorted(busy):
        if out and b.start <= out[-1].end:
            if b.end > out[-1].end:
                out[-1] = Busy(out[-1].start, b.end, counts_toward_cap=False)
            continue
        out.append(b)
    return out


def _merged(busy: list[Busy]) -> list[Busy]:
    out: list[Busy] = []
    for b in sorted(busy):
        if out and b.start < out[-1].end:
            continue
        out.append(b)
    return out


def _feed(n: int) -> bytes:
    rng = random.Random(n)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//feeds//EN",
             "BEGIN:VEVENT", f"UID:weekly-{n}@bench", "DTSTAMP:20260101T000000Z",
             "DTSTART;TZID=Europe/Berlin:20260302T100000", "DTEND;TZID=Europe/Berlin:20260302T110000",
             "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "END:VEVENT"]
    for i in range(EVENTS_PER_FEED - 1):
        start = NOW + timedelta(minutes=15 * rng.randrange(0, 60 * 24 * 4))
        lines += ["BEGIN:VEVENT", f"UID:e{n}-{i}@bench", "DTSTAMP:20260101T000000Z",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(minutes=45):%Y%m%dT%H%M%SZ}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines).encode()


class _Feeds:
    def __init__(self) -> None:
        bodies = {f"/f{n}.ics": _feed(n) for n in range(FEEDS)}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                body = bodies.get(self.path, b"")
                etag = f'"{len(body)}-{self.path}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _refresh(name: str, engine: Engine, feeds: _Feeds) -> list[tuple[str, str]]:
    clock = FixedClock(NOW)
    with SqlUnitOfWork(engine, clock) as uow:
        for n in range(FEEDS):
            person = uow.people.add(Person(None, f"p{n}", f"Person {n}", timezone="Europe/Berlin"))
            assert person.id is not None
            uow.calendars.add(CalendarConnection(None, person.id, ConnectionKind.FEED,
                                                 f"http://127.0.0.1:{feeds.port}/f{n}.ics", NOW, NOW))
        uow.commit()
    factory: Callable[[], SqlUnitOfWork] = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    sync = CalendarSync(factory, clock, CalendarSettings(allow_private=True), queue_notice=None)
    t0 = time.perf_counter()
    first = sync.refresh_due()
    t1 = time.perf_counter()
    clock.advance(timedelta(minutes=10))
    again = sync.refresh_due()
    t2 = time.perf_counter()
    sync.close()
    assert first.read == FEEDS and again.unchanged == FEEDS, (first, again)
    with SqlUnitOfWork(engine, clock) as uow:
        stored = uow.session.query(CalendarBusyRow).count()
    return [
        (f"{name}: first refresh of {FEEDS} feeds ({EVENTS_PER_FEED} events each, one weekly)",
         f"{t1 - t0:.1f} s ({FEEDS / (t1 - t0):.0f} feeds/s, {stored} busy intervals stored)"),
        (f"{name}: next refresh, every feed 304", f"{t2 - t1:.1f} s ({FEEDS / (t2 - t1):.0f} feeds/s)"),
    ]


def run() -> list[tuple[str, str]]:
    rows = _core()
    with sqlite_db() as engine:
        rows += _with_database("SQLite", engine)
    if postgres_available():
        with postgres_db() as engine:
            rows += _with_database("PostgreSQL", engine)
    feeds = _Feeds()
    try:
        with sqlite_db() as engine:
            rows += _refresh("SQLite", engine, feeds)
        if postgres_available():
            with postgres_db() as engine:
                rows += _refresh("PostgreSQL", engine, feeds)
    finally:
        feeds.close()
    return rows


def main() -> None:
    for name, result in run():
        print(f"{name:70s} {result}")


if __name__ == "__main__":
    main()
