"""Two-way CalDAV against a real Radicale server on 127.0.0.1, on SQLite and PostgreSQL: connect, read busy
events (a weekly one with an exception across the March DST change), see the slots go, book, find the
session in both people's calendars, move it and cancel it there; a change made in the calendar does not
change the booking, and a new event over the session is told to the expert once."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import caldav
import icalendar
import pytest

from core.booking_service import DEFAULT_POLICY
from bot.calendars import service
from core import booking_service
from core.sessions import MeetingRequest, SessionDetails
from tests.calendars.helpers import notices, slots, sync, utc
from tests.calendars.servers import CLIENT_PASSWORD, CLIENT_USER, PASSWORD, USER, vcalendar, vevent
from tests.flows.test_book import world

LONDON_WEEKLY = vcalendar(
    vevent("weekly@other.app", ";TZID=Europe/London:20300312T100000", ";TZID=Europe/London:20300312T110000",
           "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Team sync"),
    vevent("weekly@other.app", ";TZID=Europe/London:20300402T140000", ";TZID=Europe/London:20300402T150000",
           "RECURRENCE-ID;TZID=Europe/London:20300402T100000", "SUMMARY:Team sync (moved)"),
).decode()
BOARD = vcalendar(vevent("board@other.app", ";TZID=Europe/London:20300306T100000",
                         ";TZID=Europe/London:20300306T110000", "SUMMARY:Board")).decode()


def _calendar(radicale, user: str, password: str) -> caldav.Calendar:
    """The person's only calendar: the server lives for the session, and a calendar left by the other
    database's run would be the one discovery finds (whichever Radicale lists first)."""
    client = caldav.DAVClient(url=radicale.url + "/", username=user, password=password, enable_rfc6764=False)
    principal = client.principal()
    for old in principal.calendars():
        old.delete()
    return principal.make_calendar(name="Work", cal_id=f"work-{uuid.uuid4().hex[:8]}")


def _our_events(calendar: caldav.Calendar) -> list[icalendar.Event]:
    found = []
    for obj in calendar.events():
        for event in icalendar.Calendar.from_ical(obj.data).walk("VEVENT"):
            if str(event["UID"]).startswith("headstrt-meeting-"):
                found.append(event)
    return found


def _connect(uow, clock, settings, person_id: int, url: str, user: str, password: str) -> int:  # type: ignore[no-untyped-def]
    probe = service.check_caldav(url, user, password, settings=settings, now=clock.now())
    with uow() as u:
        status = service.connect_caldav(u, clock, person_id, url, user, password, probe=probe, settings=settings)
        u.commit()
    return status.id


def test_caldav_both_ways(uow, clock, radicale, settings):
    w = world(uow)
    eve_cal = _calendar(radicale, USER, PASSWORD)
    ana_cal = _calendar(radicale, CLIENT_USER, CLIENT_PASSWORD)
    eve_cal.save_event(BOARD)
    eve_cal.save_event(LONDON_WEEKLY)
    s = sync(uow, clock, settings)

    eve_conn = _connect(uow, clock, settings, w.eve_person, str(eve_cal.url), USER, PASSWORD)
    _connect(uow, clock, settings, w.ana, radicale.url + "/", CLIENT_USER, CLIENT_PASSWORD)  # found by discovery
    with uow() as u:
        assert {st.address for st in service.status(u, clock, w.ana)} == {radicale.url.split("://")[1] + "/"}
    assert s.refresh_due().read == 2
    with uow() as u:
        busy = [(b.start, b.end) for b in u.calendars.busy(eve_conn)]
    assert busy == [
        (utc(2030, 3, 6, 10), utc(2030, 3, 6, 11)),
        (utc(2030, 3, 12, 10), utc(2030, 3, 12, 11)),  # GMT
        (utc(2030, 3, 19, 10), utc(2030, 3, 19, 11)),
        (utc(2030, 3, 26, 10), utc(2030, 3, 26, 11)),
        (utc(2030, 4, 2, 13), utc(2030, 4, 2, 14)),  # the exception: 14:00 BST
        (utc(2030, 4, 9, 9), utc(2030, 4, 9, 10)),  # 10:00 BST
        (utc(2030, 4, 16, 9), utc(2030, 4, 16, 10)),
    ]
    free = slots(uow, clock, w.eve)
    assert utc(2030, 3, 12, 10) not in free and utc(2030, 4, 9, 9) not in free and utc(2030, 4, 2, 13) not in free
    assert utc(2030, 4, 2, 9) in free  # 10:00 BST that Tuesday: the meeting moved away from it

    # Book: the session lands in both people's calendars, under the invite's UID.
    with uow() as u:
        booking = booking_service.request_booking(u, clock, client_id=w.ana, expert_id=w.eve,
                                                  meetings=[MeetingRequest(utc(2030, 3, 7, 14), 30)],
                                                  details=SessionDetails("Seed plan", "A plan"),
                                                  policy=booking_service.DEFAULT_POLICY)
        booking_service.accept(u, clock, booking_id=booking.id, actor_id=w.eve_person)
        u.commit()
    meeting_id = booking.meetings[0].id
    uid = f"headstrt-meeting-{meeting_id}@headstrt"
    calls = []

    def crash(*args: object) -> None:  # the process dies after the PUT, before recording it
        calls.append(args)
        raise RuntimeError("killed")

    real_record = s._record
    s._record = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        s.write_pending()
    s._record = real_record  # type: ignore[method-assign]
    assert s.write_pending().written == 2  # done again: the same address, still one event each
    assert s.write_pending().written == 0
    [mine] = _our_events(eve_cal)
    [theirs] = _our_events(ana_cal)
    assert str(mine["UID"]) == str(theirs["UID"]) == uid
    assert mine.decoded("DTSTART") == utc(2030, 3, 7, 14) and mine.decoded("DTEND") == utc(2030, 3, 7, 14, 30)
    assert str(mine["SUMMARY"]) == "Seed plan with Ana" and str(theirs["SUMMARY"]) == "Seed plan with Eve"
    assert "ATTENDEE" not in mine and "ORGANIZER" not in mine  # no invitations sent by the server

    # Our own event does not come back as busy time, nor as a clash.
    clock.advance(timedelta(minutes=10))
    s.refresh_due()
    with uow() as u:
        assert all(b.uid != uid for b in u.calendars.busy(eve_conn))
    assert notices(uow, "calendar:clash") == []

    # Move it: the event moves (same UID, higher SEQUENCE), in both calendars.
    with uow() as u:
        booking_service.reschedule_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking.id, meeting_id=meeting_id, actor_id=w.ana,
                                           new_start=utc(2030, 3, 8, 15))
        u.commit()
    assert s.write_pending().written == 2
    for calendar in (eve_cal, ana_cal):
        [event] = _our_events(calendar)
        assert event.decoded("DTSTART") == utc(2030, 3, 8, 15) and int(event["SEQUENCE"]) == 1

    # Someone drags the session in their calendar app: the booking stays, and the copy blocks nothing.
    obj = eve_cal.event_by_uid(uid)
    moved = obj.data.replace("DTSTART:20300308T150000Z", "DTSTART:20300311T100000Z").replace(
        "DTEND:20300308T153000Z", "DTEND:20300311T103000Z")
    assert moved != obj.data
    obj.data = moved
    obj.save()
    clock.advance(timedelta(minutes=10))
    s.refresh_due()
    with uow() as u:
        assert u.bookings.get(booking.id).meetings[0].start == utc(2030, 3, 8, 15)
    assert utc(2030, 3, 11, 10) in slots(uow, clock, w.eve)
    assert notices(uow, "calendar:clash") == []

    # A new event over the session: the expert is told once, with Reschedule and Cancel.
    eve_cal.save_event(vcalendar(vevent("dentist@other.app", ":20300308T151500Z", ":20300308T160000Z")).decode())
    clock.advance(timedelta(minutes=10))
    assert s.refresh_due().clashes == 1
    clock.advance(timedelta(minutes=10))
    eve_cal.save_event(BOARD.replace("SUMMARY:Board", "SUMMARY:Board (agenda)"))
    assert s.refresh(connection_ids=[eve_conn]).clashes == 0
    [told] = notices(uow, "calendar:clash")
    assert told.person_id == w.eve_person
    assert json.loads(told.payload)["buttons"][0][0][1] == f"1|ses|rs|{booking.id}|{meeting_id}"

    # Cancel: the event goes from both calendars.
    with uow() as u:
        booking_service.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=booking.id, meeting_id=meeting_id, actor_id=w.eve_person)
        u.commit()
    assert s.write_pending().deleted == 2
    assert _our_events(eve_cal) == [] and _our_events(ana_cal) == []
    assert s.write_pending().deleted == 0


def test_a_wrong_app_password_is_refused_when_tested(uow, clock, radicale, settings):
    w = world(uow)
    calendar = _calendar(radicale, USER, PASSWORD)
    from core.calendar_service import CalendarProblem

    with pytest.raises(CalendarProblem) as refused:
        service.check_caldav(str(calendar.url), USER, "wrong", settings=settings)
    assert refused.value.reason == "calendar_auth_failed"
    with uow() as u:
        status = service.connect_caldav(u, clock, w.eve_person, str(calendar.url), USER, "wrong", settings=settings)
        result = service.test_connection(u, clock, w.eve_person, status.id, settings=settings)
        u.commit()
    assert not result.ok and result.problem == "calendar_auth_failed"
    with uow() as u:
        [st] = service.status(u, clock, w.eve_person)
        sealed = u.calendars.get(status.id).secret_sealed
    assert st.problem == "calendar_auth_failed" and st.failures == 1
    assert sealed and "wrong" not in sealed  # stored sealed, never as typed
