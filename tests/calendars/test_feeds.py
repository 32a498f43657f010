"""Feeds served by a local HTTP server, read by the scheduler's calendar job on SQLite and PostgreSQL:
busy times take slots away, 304s cost nothing, a broken feed backs off and is reported once per streak,
5,000 events, floating times and VTIMEZONE definitions, and a new event over a session told once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.calendars import service
from core import booking_service
from core.errors import SlotUnavailable
from core.sessions import MeetingRequest, SessionDetails
from tests.calendars.helpers import connect_feed, notices, slots, sync, utc
from tests.calendars.servers import Feed, vcalendar, vevent
from tests.flows.test_book import world

MIN = timedelta(minutes=1)


def _connection(uow, connection_id):  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.calendars.get(connection_id)


def _busy(uow, connection_id):  # type: ignore[no-untyped-def]
    with uow() as u:
        return [(b.start, b.end, b.uid) for b in u.calendars.busy(connection_id)]


def test_a_busy_event_in_the_feed_takes_its_slots_away_and_booking_one_is_refused(uow, clock, feeds, settings):
    w = world(uow)
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("board@x", ":20300305T100000Z", ":20300305T110000Z")), etag='"1"')
    connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    before = slots(uow, clock, w.eve)
    assert utc(2030, 3, 5, 10, 0) in before and utc(2030, 3, 5, 9, 45) in before
    assert sync(uow, clock, settings).refresh_due().read == 1
    after = slots(uow, clock, w.eve)
    for gone in (utc(2030, 3, 5, 9, 45), utc(2030, 3, 5, 10, 0), utc(2030, 3, 5, 10, 45)):
        assert gone not in after
    assert utc(2030, 3, 5, 9, 30) in after and utc(2030, 3, 5, 11, 0) in after
    assert len(before) - len(after) == 5  # 09:45 to 10:45, on the quarter hour
    with uow() as u, pytest.raises(SlotUnavailable):
        booking_service.request_booking(u, clock, client_id=w.ana, expert_id=w.eve,
                                        meetings=[MeetingRequest(utc(2030, 3, 5, 10, 0), 30)],
                                        details=SessionDetails("Seed plan", "A plan"),
                                        policy=booking_service.DEFAULT_POLICY)


def test_an_unchanged_feed_is_a_304_and_is_read_in_full_again_before_its_span_runs_out(uow, clock, feeds, settings):
    w = world(uow)
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("a@x", ":20300305T100000Z", ":20300305T110000Z")), etag='"v1"')
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    s = sync(uow, clock, settings)
    assert s.refresh_due().read == 1 and feeds.requests[-1][1] is None
    clock.advance(9 * MIN)
    assert s.refresh_due().unchanged == 0 and len(feeds.requests) == 1  # not due yet
    clock.advance(MIN)
    report = s.refresh_due()
    assert (report.read, report.unchanged) == (0, 1)
    assert feeds.requests[-1][1] == '"v1"'
    assert _busy(uow, cid) == [(utc(2030, 3, 5, 10), utc(2030, 3, 5, 11), "a@x")]
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("a@x", ":20300305T120000Z", ":20300305T130000Z")), etag='"v2"')
    clock.advance(10 * MIN)
    assert s.refresh_due().read == 1
    assert _busy(uow, cid) == [(utc(2030, 3, 5, 12), utc(2030, 3, 5, 13), "a@x")]
    clock.advance(8 * timedelta(days=1))  # the stored span no longer reaches past the horizon: read in full
    assert s.refresh_due().read == 1 and feeds.requests[-1][1] is None


def test_last_modified_alone_also_gives_304(uow, clock, feeds, settings):
    w = world(uow)
    stamp = "Mon, 04 Mar 2030 05:00:00 GMT"
    feeds.feeds["/lm.ics"] = Feed(vcalendar(vevent("a@x", ":20300305T100000Z", ":20300305T110000Z")),
                                  last_modified=stamp)
    connect_feed(uow, clock, w.eve_person, feeds.url("/lm.ics"), settings)
    s = sync(uow, clock, settings)
    assert s.refresh_due().read == 1
    clock.advance(10 * MIN)
    assert s.refresh_due().unchanged == 1 and feeds.requests[-1][2] == stamp


def test_a_broken_feed_backs_off_keeps_what_was_read_and_is_reported_once_per_streak(uow, clock, feeds, settings):
    w = world(uow)
    good = Feed(vcalendar(vevent("a@x", ":20300305T100000Z", ":20300305T110000Z")))
    feeds.feeds["/eve.ics"] = good
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    s = sync(uow, clock, settings)
    s.refresh_due()
    feeds.feeds["/eve.ics"] = Feed(b"<html>We moved!</html>", content_type="text/html")
    waits = []
    for _ in range(5):
        clock.set(_connection(uow, cid).next_refresh_at)
        report = s.refresh_due()
        assert report.failed == 1 and report.problems == {cid: "calendar_not_icalendar"}
        waits.append(_connection(uow, cid).next_refresh_at - clock.now())
    assert waits == [10 * MIN, 20 * MIN, 40 * MIN, 80 * MIN, 160 * MIN]
    told = notices(uow, "calendar:failing")
    assert len(told) == 1  # at the third failure, not at every tick
    text = json.loads(told[0].payload)["text"]
    assert "not been able to read your calendar feed" in text and "does not give calendar" in text
    assert _busy(uow, cid) == [(utc(2030, 3, 5, 10), utc(2030, 3, 5, 11), "a@x")]  # kept meanwhile
    with uow() as u:
        [st] = service.status(u, clock, w.eve_person)
    assert not st.ok and st.failures == 5 and st.problem == "calendar_not_icalendar"
    feeds.feeds["/eve.ics"] = good
    clock.set(_connection(uow, cid).next_refresh_at)
    assert s.refresh_due().read == 1 and _connection(uow, cid).failures == 0
    feeds.feeds["/eve.ics"] = Feed(b"oops", status=500)
    for _ in range(3):
        clock.set(_connection(uow, cid).next_refresh_at)
        assert s.refresh_due().problems == {cid: "calendar_http_error"}
    assert len(notices(uow, "calendar:failing")) == 2  # a new streak is told again


@pytest.mark.parametrize("feed, reason", [
    (Feed(b"x" * 5000), "calendar_too_large"),
    (None, "calendar_http_error"),  # 404
])
def test_too_large_and_missing_feeds_are_refused_with_a_reason(uow, clock, feeds, settings, feed, reason):
    from dataclasses import replace

    w = world(uow)
    if feed is not None:
        feeds.feeds["/f.ics"] = feed
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/f.ics"), settings)
    report = sync(uow, clock, replace(settings, max_bytes=2048)).refresh_due()
    assert report.problems == {cid: reason}


def test_an_address_nobody_answers_and_a_private_one_by_default(uow, clock, settings):
    from core.calendar_service import CalendarProblem
    from tests.calendars.servers import free_port

    w = world(uow)
    cid = connect_feed(uow, clock, w.eve_person, f"http://127.0.0.1:{free_port()}/x.ics", settings)
    assert sync(uow, clock, settings).refresh_due().problems == {cid: "calendar_unreachable"}
    with uow() as u, pytest.raises(CalendarProblem) as refused:
        service.connect_feed(u, clock, w.eve_person, "http://127.0.0.1:8080/x.ics")
    assert refused.value.reason == "calendar_private_address"


def test_a_feed_with_5000_events_is_read_whole(uow, clock, feeds, settings):
    w = world(uow)
    start = utc(2030, 3, 4, 12, 0)
    events = [vevent(f"e{i}@x", f":{start + i * 17 * MIN:%Y%m%dT%H%M%SZ}", f":{start + (i * 17 + 15) * MIN:%Y%m%dT%H%M%SZ}")
              for i in range(5000)]
    feeds.feeds["/big.ics"] = Feed(vcalendar(*events), etag='"big"')
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/big.ics"), settings)
    assert sync(uow, clock, settings).refresh_due().read == 1
    with uow() as u:
        assert u.calendars.busy_counts([cid], clock.now()) == {cid: 5000}
        busy = u.experts.busy(w.eve, clock.now(), clock.now() + timedelta(days=61))
    assert sum(1 for b in busy if not b.counts_toward_cap) == 5000
    last_end = start + (4999 * 17 + 15) * MIN
    free = slots(uow, clock, w.eve)
    assert free and all(slot >= last_end for slot in free)  # a 2-minute gap every 17 minutes fits nothing


def test_floating_times_vtimezones_all_day_and_events_that_do_not_block(uow, clock, feeds, settings):
    """Eve is in Europe/London, whose clocks go forward on 31 March 2030; the US ones did on 10 March."""
    w = world(uow)
    with uow() as u:
        eve = u.people.get(w.eve_person)
        eve.email = "eve@example.org"
        u.people.save(eve)
        u.commit()
    eastern = ("BEGIN:VTIMEZONE\r\nTZID:Custom Eastern\r\n"
               "BEGIN:STANDARD\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
               "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
               "BEGIN:DAYLIGHT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
               "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n")
    feeds.feeds["/eve.ics"] = Feed(vcalendar(
        vevent("floating@x", ":20300402T100000", ":20300402T110000"),  # London wall time, after the change
        vevent("custom-tz@x", ";TZID=Custom Eastern:20300311T100000", ";TZID=Custom Eastern:20300311T110000"),
        vevent("windows-tz@x", ";TZID=W. Europe Standard Time:20300305T100000",
               ";TZID=W. Europe Standard Time:20300305T103000"),
        vevent("all-day@x", ";VALUE=DATE:20300401", ";VALUE=DATE:20300402"),
        vevent("free@x", ":20300306T100000Z", ":20300306T110000Z", "TRANSP:TRANSPARENT"),
        vevent("called-off@x", ":20300306T120000Z", ":20300306T130000Z", "STATUS:CANCELLED"),
        vevent("declined@x", ":20300306T140000Z", ":20300306T150000Z",
               "ORGANIZER:mailto:boss@example.org",
               "ATTENDEE;PARTSTAT=DECLINED;CN=Eve:mailto:Eve@Example.org",
               "ATTENDEE;PARTSTAT=ACCEPTED:mailto:someone@example.org"),
        vevent("accepted@x", ":20300307T140000Z", ":20300307T150000Z",
               "ATTENDEE;PARTSTAT=ACCEPTED:mailto:eve@example.org"),
        vevent("headstrt-meeting-99@headstrt", ":20300307T100000Z", ":20300307T110000Z"),
        extra=eastern,
    ))
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    assert sync(uow, clock, settings).refresh_due().read == 1
    assert _busy(uow, cid) == [
        (utc(2030, 3, 5, 9, 0), utc(2030, 3, 5, 9, 30), "windows-tz@x"),  # CET, UTC+1
        (utc(2030, 3, 7, 14), utc(2030, 3, 7, 15), "accepted@x"),
        (utc(2030, 3, 11, 14), utc(2030, 3, 11, 15), "custom-tz@x"),  # EDT, UTC-4, from the VTIMEZONE
        (utc(2030, 3, 31, 23), utc(2030, 4, 1, 23), "all-day@x"),  # London midnights, in BST
        (utc(2030, 4, 2, 9), utc(2030, 4, 2, 10), "floating@x"),  # 10:00 BST
    ]


def test_a_new_event_over_a_confirmed_session_is_told_to_the_expert_once_with_buttons(uow, clock, feeds, settings):
    w = world(uow)
    with uow() as u:
        booking = booking_service.request_booking(u, clock, client_id=w.ana, expert_id=w.eve,
                                                  meetings=[MeetingRequest(utc(2030, 3, 5, 14), 30)],
                                                  details=SessionDetails("Seed plan", "A plan"),
                                                  policy=booking_service.DEFAULT_POLICY)
        booking_service.accept(u, clock, booking_id=booking.id, actor_id=w.eve_person)
        u.commit()
    meeting_id = booking.meetings[0].id
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("lunch@x", ":20300305T120000Z", ":20300305T130000Z")))
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    s = sync(uow, clock, settings)
    assert s.refresh_due().clashes == 0
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("lunch@x", ":20300305T120000Z", ":20300305T130000Z"),
                                             vevent("dentist@x", ":20300305T141500Z", ":20300305T150000Z")))
    clock.advance(10 * MIN)
    assert s.refresh_due().clashes == 1
    [told] = notices(uow, "calendar:clash")
    assert told.person_id == w.eve_person
    reply = json.loads(told.payload)
    assert "overlaps your session “Seed plan” with Ana" in reply["text"]
    assert [b[1] for b in reply["buttons"][0]] == [f"1|ses|rs|{booking.id}|{meeting_id}", f"1|ses|cx|{booking.id}|{meeting_id}"]
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("dentist@x", ":20300305T141500Z", ":20300305T150000Z"),
                                             vevent("gym@x", ":20300306T070000Z", ":20300306T080000Z")))
    clock.advance(10 * MIN)
    assert s.refresh_due().clashes == 0 and len(notices(uow, "calendar:clash")) == 1
    with uow() as u:  # the booking is as it was
        assert u.bookings.get(booking.id).meetings[0].start == utc(2030, 3, 5, 14)
    assert cid


def test_the_scheduler_process_reads_calendars_through_its_own_job(uow, clock, db, feeds, settings, tmp_path,
                                                                   monkeypatch):
    import asyncio

    from bot.scheduler import Jobs, SchedulerSettings, run
    from core.reminders import parse_offsets

    if db.dialect.name != "postgresql":
        monkeypatch.chdir(tmp_path)
    w = world(uow)
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("a@x", ":20300305T100000Z", ":20300305T110000Z")))
    cid = connect_feed(uow, clock, w.eve_person, feeds.url("/eve.ics"), settings)
    s = sync(uow, clock, settings)
    jobs = Jobs(s.queue_notice.__self__, SchedulerSettings(parse_offsets("24h"), tick_seconds=0.2))  # type: ignore[union-attr]

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run(db, jobs, stop, standby_seconds=0.1, calendars=s))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if _busy(uow, cid):
                break
        stop.set()
        await task

    asyncio.run(scenario())
    assert _busy(uow, cid) == [(utc(2030, 3, 5, 10), utc(2030, 3, 5, 11), "a@x")]
    with db.connect() as conn:
        assert sorted(conn.exec_driver_sql("SELECT id FROM apscheduler_jobs").scalars().all()) == ["calendars", "tick"]
