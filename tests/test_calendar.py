"""Calendar invites, parsed back with icalendar: calendars must replace the same event on every change,
show the right instant, and keep whatever a person typed in the title intact."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from core.experts import Expert
from core.lifecycle import BookingStatus, MeetingStatus
from core.model import Booking, Meeting, Person
from core.sessions import SessionDetails
from bot.calendar import PRODID, invite
from bot.replies import FileOut

START = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
STAMP = datetime(2030, 3, 4, 6, 0, 7, 123456, tzinfo=UTC)
URL = "https://meet.jit.si/headstrt-abc123"

CLIENT = Person(1, "ana", "Ana", timezone="Asia/Kolkata", email="ana@example.test")
EXPERT_PERSON = Person(3, "eve", "Eve", timezone="Europe/London", email="eve@example.test")
EXPERT = Expert(2, 3, "eve", "Eve Investor", "Europe/London")


def booking(title: str = "Seed round plan", outcome: str = "A plan I can start on", *,
            start: datetime = START, sequence: int = 0) -> tuple[Booking, Meeting]:
    meeting = Meeting(11, start, start + timedelta(minutes=30), 500, MeetingStatus.CONFIRMED, ics_sequence=sequence)
    b = Booking(7, CLIENT.id or 0, EXPERT.id or 0, BookingStatus.ACCEPTED, SessionDetails(title, outcome), [meeting],
                500, STAMP, STAMP)
    return b, meeting


def make(b: Booking, m: Meeting, *, client: Person = CLIENT, expert_person: Person = EXPERT_PERSON,
         **kwargs: object) -> FileOut:
    return invite(b, m, EXPERT, client, expert_person, url=URL, stamp=STAMP, **kwargs)  # type: ignore[arg-type]


def parse(file: FileOut) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(file.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    return calendar, events[0]


def test_a_request_is_a_confirmed_event_in_a_named_file():
    file = make(*booking())
    assert file.name == "session-11.ics" and file.content_type == "text/calendar; method=REQUEST"
    calendar, event = parse(file)
    assert calendar["PRODID"] == PRODID and calendar["VERSION"] == "2.0" and calendar["METHOD"] == "REQUEST"
    assert event["STATUS"] == "CONFIRMED"
    assert event["UID"] == "headstrt-meeting-11@headstrt" and event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == STAMP.replace(microsecond=0)


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    _, before = parse(make(*booking()))
    _, after = parse(make(*booking(start=START + timedelta(days=1), sequence=1)))
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] == 1 > before["SEQUENCE"]
    assert after.decoded("DTSTART") == START + timedelta(days=1)


def test_start_and_end_are_written_in_utc():
    b, m = booking(start=datetime(2030, 3, 5, 15, 30, tzinfo=ZoneInfo("Asia/Kolkata")))  # 10:00 UTC
    file = make(b, m)
    raw = file.data.decode()
    assert "DTSTART:20300305T100000Z" in raw and "DTEND:20300305T103000Z" in raw
    _, event = parse(file)
    assert event.decoded("DTSTART") == START and event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)


def test_a_cancellation_is_method_cancel_with_status_cancelled():
    file = make(*booking(sequence=2), cancelled=True)
    assert file.content_type == "text/calendar; method=CANCEL"
    calendar, event = parse(file)
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["UID"] == "headstrt-meeting-11@headstrt" and event["SEQUENCE"] == 2
    assert not list(event.walk("VALARM"))  # nothing left to remind of


def test_a_display_alarm_rings_fifteen_minutes_before():
    _, event = parse(make(*booking()))
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)
    assert "Seed round plan" in str(alarm["DESCRIPTION"])


def test_the_join_link_is_the_location_the_url_and_in_the_description():
    _, event = parse(make(*booking()))
    assert str(event["URL"]) == URL and str(event["LOCATION"]) == URL
    description = str(event["DESCRIPTION"])
    assert f"Join: {URL}" in description and "Desired outcome: A plan I can start on" in description


def test_the_summary_names_the_other_side():
    b, m = booking()
    _, for_client = parse(make(b, m))
    _, for_expert = parse(make(b, m, for_expert=True))
    assert str(for_client["SUMMARY"]) == "Seed round plan with Eve Investor"
    assert str(for_expert["SUMMARY"]) == "Seed round plan with Ana"


def test_typed_commas_semicolons_and_newlines_survive_the_round_trip():
    title = "Pricing, GTM; and\nhiring \\ plan"
    outcome = "Decide: A, B; or C\nthen act"
    file = make(*booking(title, outcome))
    raw = file.data.decode()
    assert "\\," in raw and "\\;" in raw and "\\n" in raw  # escaped, so no line or field ends early
    _, event = parse(file)
    assert str(event["SUMMARY"]) == f"{title} with Eve Investor"
    assert f"Desired outcome: {outcome}" in str(event["DESCRIPTION"])


def test_organizer_and_attendees_only_with_email_addresses():
    b, m = booking()
    _, event = parse(make(b, m))
    assert str(event["ORGANIZER"]) == "mailto:eve@example.test" and event["ORGANIZER"].params["CN"] == "Eve Investor"
    attendees = event["ATTENDEE"]
    assert sorted(str(a) for a in attendees) == ["mailto:ana@example.test", "mailto:eve@example.test"]

    no_mail = dataclasses.replace(CLIENT, email=None)
    _, event = parse(make(b, m, client=no_mail, expert_person=dataclasses.replace(EXPERT_PERSON, email=None)))
    assert "ORGANIZER" not in event and "ATTENDEE" not in event
    _, event = parse(make(b, m, client=no_mail))
    assert str(event["ATTENDEE"]) == "mailto:eve@example.test"  # a single attendee, not a list
