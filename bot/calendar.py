"""Calendar invites (.ics) for confirmed meetings, so a session lands in people's own calendars and
follows every change: one event per meeting, always with the same UID, and a SEQUENCE the engine raises
on each reschedule or cancellation, so calendars replace the event instead of adding another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress

from core.experts import Expert
from core.model import Booking, Meeting, Person
from bot.i18n import Translator
from bot.replies import FileOut

PRODID = "-//Headstrt//Booking assistant//EN"
ALARM_BEFORE = timedelta(minutes=15)


def meeting_uid(meeting: Meeting) -> str:
    """The same on every update of a meeting: that is how a calendar knows which event to replace."""
    assert meeting.id is not None, "a meeting gets an invite once it is stored"
    return f"headstrt-meeting-{meeting.id}@headstrt"


def invite(
    booking: Booking, meeting: Meeting, expert: Expert, client: Person, expert_person: Person, *, url: str,
    cancelled: bool = False, for_expert: bool = False, stamp: datetime | None = None,
) -> FileOut:
    """The invite as one side sees it (`for_expert`: the title names the client, in the expert's language).
    `stamp` is when the invite was made (DTSTAMP); pass the clock's time so the bytes are reproducible."""
    method = "CANCEL" if cancelled else "REQUEST"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(session_event(booking, meeting, expert, client, expert_person, url=url, cancelled=cancelled,
                                         for_expert=for_expert, stamp=stamp))
    return FileOut(f"session-{meeting.id}.ics", f"text/calendar; method={method}", calendar.to_ical())


def session_event(
    booking: Booking, meeting: Meeting, expert: Expert, client: Person, expert_person: Person, *, url: str,
    cancelled: bool = False, for_expert: bool = False, stamp: datetime | None = None, people: bool = True,
) -> Event:
    """The meeting as one VEVENT, the same UID everywhere it goes: invites, CalDAV calendars and subscribed
    feeds. people=False leaves out ORGANIZER and ATTENDEE: a CalDAV server would otherwise send invitations
    of its own, and a feed address should not carry anyone's email."""
    reader = expert_person if for_expert else client
    t = Translator(reader.locale, reader.timezone)
    title = booking.details.title
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.ics_sequence)
    event.add("dtstamp", _utc(stamp or datetime.now(UTC)))
    event.add("dtstart", _utc(meeting.start))
    event.add("dtend", _utc(meeting.end))
    event.add("summary", t("{title} with {name}", title=title, name=client.name if for_expert else expert.name))
    event.add("description", "\n".join([
        t("Desired outcome: {outcome}", outcome=booking.details.outcome),
        t("Join: {url}", url=url),
    ]))
    event.add("url", url)
    event.add("location", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if people and expert_person.email:  # iTIP wants an organizer; without an address there is nobody to name
        event.add("organizer", _address(expert_person.email, expert.name))
    for person, name in ((client, client.name), (expert_person, expert.name)) if people else ():
        if person.email:
            attendee = _address(person.email, name)
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            if not cancelled:
                attendee.params["PARTSTAT"] = "ACCEPTED"  # both agreed in the chat already
            attendee.params["RSVP"] = "FALSE"  # nothing to answer by email
            event.add("attendee", attendee)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", t("“{title}” starts in 15 minutes.", title=title))
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    return event


def _utc(at: datetime) -> datetime:
    """Written as UTC ("...Z"): no VTIMEZONE to ship, and every calendar shows it in its own zone."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: times are aware UTC in the core")
    return at.astimezone(UTC).replace(microsecond=0)


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address
