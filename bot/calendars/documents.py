"""Our sessions as iCalendar documents: one event as stored in a CalDAV calendar, and a person's whole
subscription feed. Both use bot/calendar.py's event (the invite's UID), without organizer and attendees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from core.experts import Expert
from core.model import Booking, Meeting, Person
from bot.calendar import PRODID, session_event
from bot.links import meeting_url

FEED_NAME = "Headstrt sessions"
FEED_REFRESH = timedelta(hours=1)  # how often subscribers are asked to look again (Google and Outlook decide)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A meeting with what it takes to show it to one of its two people."""

    booking: Booking
    meeting: Meeting
    expert: Expert
    client: Person
    expert_person: Person
    for_expert: bool


def stored_event(view: SessionView, *, stamp: datetime) -> str:
    """The text PUT to a CalDAV calendar: no METHOD (RFC 4791 forbids it in stored objects)."""
    calendar = _calendar()
    calendar.add_component(_event(view, stamp))
    return calendar.to_ical().decode()


def subscription_feed(views: Sequence[SessionView]) -> bytes:
    """A person's sessions as one feed. DTSTAMP is when the booking was decided, so the bytes (and the ETag)
    stay the same until something changes."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", FEED_NAME)
    calendar.add("x-published-ttl", FEED_REFRESH)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    for view in sorted(views, key=lambda v: (v.meeting.start, v.meeting.id or 0)):
        calendar.add_component(_event(view, view.booking.decided_at or view.booking.created_at))
    return calendar.to_ical()


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _event(view: SessionView, stamp: datetime) -> Event:
    assert view.booking.id is not None
    return session_event(view.booking, view.meeting, view.expert, view.client, view.expert_person,
                         url=meeting_url(view.expert, view.booking.id), for_expert=view.for_expert, stamp=stamp,
                         people=False)
