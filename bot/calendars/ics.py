"""iCalendar data from someone's calendar to busy intervals: recurring events and their exceptions expanded
(recurring-ical-events) over the span we keep, floating times and all-day dates read in the owner's zone,
VTIMEZONE definitions honoured, and free (transparent), cancelled and declined events left out. Our own
sessions (their UIDs) are left out too: they are in the meetings already, and a copy someone moved in
their calendar must not move or block anything."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from core.availability import local_day_bounds
from core.calendar_service import BusyInterval, CalendarProblem, blocks_time

MAX_INTERVALS = 50_000  # per calendar, over the span kept
UID_CHARS = 255  # as stored
_OUR_UID = re.compile(r"headstrt-meeting-\d+@headstrt")  # bot/calendar.py meeting_uid


def is_our_session(uid: str) -> bool:
    return _OUR_UID.fullmatch(uid.strip()) is not None


def busy_times(
    documents: Iterable[bytes | str], *, zone: str, start: datetime, end: datetime,
    owner_addresses: Iterable[str] = (), deadline: float | None = None, max_intervals: int = MAX_INTERVALS,
) -> list[BusyInterval]:
    """Busy intervals overlapping [start, end), sorted, each once. `documents` are VCALENDAR texts (a feed is
    one, a CalDAV calendar one per event). `deadline` (time.monotonic()) bounds the work."""
    owners = {a.strip().lower().removeprefix("mailto:") for a in owner_addresses if a and a.strip()}
    tz = ZoneInfo(zone)
    found: set[BusyInterval] = set()
    for document in documents:
        calendar = _parse(document)
        try:
            query = recurring_ical_events.of(calendar, skip_bad_series=True)
        except Exception as exc:  # noqa: BLE001 - any malformed calendar is the calendar's problem, said once
            raise CalendarProblem(f"not a calendar we can read: {exc}", reason="calendar_not_icalendar") from None
        for series in query.series:
            try:
                for occurrence in series.between(start, end):
                    interval = _interval(occurrence, tz, zone, owners)
                    if interval is not None and interval.end > start and interval.start < end:
                        found.add(interval)
                        if len(found) > max_intervals:
                            raise CalendarProblem(f"more than {max_intervals} busy times",
                                                  reason="calendar_too_large")
                    if deadline is not None and time.monotonic() > deadline:
                        raise CalendarProblem("reading took too long", reason="calendar_too_large")
            except CalendarProblem:
                raise
            except Exception:  # noqa: BLE001, S112 - one broken series does not hide the rest of the calendar
                continue
    return sorted(found, key=lambda i: (i.start, i.end, i.uid))


def digest(intervals: Sequence[BusyInterval]) -> str:
    """Changes when the busy times change: an unchanged calendar writes nothing."""
    h = hashlib.sha256()
    for i in intervals:
        h.update(f"{i.start.isoformat()}|{i.end.isoformat()}|{i.uid}\n".encode())
    return h.hexdigest()


def _parse(document: bytes | str) -> icalendar.Component:
    try:
        calendar = icalendar.Calendar.from_ical(document)
    except Exception as exc:  # noqa: BLE001 - icalendar raises ValueError and others on garbage
        raise CalendarProblem(f"not iCalendar data: {str(exc)[:120]}", reason="calendar_not_icalendar") from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise CalendarProblem("not iCalendar data (no VCALENDAR)", reason="calendar_not_icalendar")
    return calendar


class _Occurrence(Protocol):
    """One occurrence as recurring_ical_events yields it (the library ships no type information)."""

    start: date | datetime
    end: date | datetime

    def as_component(self, keep_recurrence_attributes: bool) -> icalendar.Component: ...


def _interval(occurrence: _Occurrence, tz: ZoneInfo, zone: str, owners: set[str]) -> BusyInterval | None:
    component = occurrence.as_component(False)
    uid = str(component.get("UID", "") or "")[:UID_CHARS]
    if is_our_session(uid):
        return None
    transparent = str(component.get("TRANSP", "OPAQUE")).strip().upper() == "TRANSPARENT"
    cancelled = str(component.get("STATUS", "")).strip().upper() == "CANCELLED"
    if not blocks_time(transparent=transparent, cancelled=cancelled, declined_by_owner=_declined(component, owners)):
        return None
    start = _instant(occurrence.start, tz, zone)
    end = _instant(occurrence.end, tz, zone)
    if start is None or end is None or end <= start:
        return None  # an instant with no length blocks nothing
    return BusyInterval(start, end, uid)


def _declined(component: icalendar.Component, owners: set[str]) -> bool:
    if not owners:
        return False
    attendees = component.get("ATTENDEE")
    if attendees is None:
        return False
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        address = str(attendee).strip().lower().removeprefix("mailto:")
        params = getattr(attendee, "params", {})
        if address in owners and str(params.get("PARTSTAT", "")).upper() == "DECLINED":
            return True
    return False


def _instant(value: object, tz: ZoneInfo, zone: str) -> datetime | None:
    """Aware UTC. A floating time is the owner's wall time; a date is the owner's local midnight."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return local_day_bounds(zone, value)[0]
    return None
