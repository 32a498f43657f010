"""The reminder a person gets before a meeting, in their language and timezone; the first one of a
meeting carries Reschedule and Cancel, the later ones the join link only. The email reminder says the
same in a mail (its first line the subject) with the meeting's calendar invite attached."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.experts import Expert
from core.model import Booking, Meeting, Person
from bot.calendar import invite
from bot.flows import sessions
from bot.i18n import Translator
from bot.links import meeting_url
from bot.replies import Button, Reply


def reminder(booking: Booking, meeting: Meeting, expert: Expert, person: Person, other: Person, *,
             first: bool, now: datetime) -> Reply:
    t = Translator(person.locale, person.timezone)
    assert booking.id is not None and meeting.id is not None
    is_expert = person.id == expert.person_id
    other_name = other.name if is_expert else expert.name
    other_tz = other.timezone if is_expert else expert.timezone
    lines = [
        t("Reminder: “{title}” with {name} starts in {left}, at {when}.", title=booking.details.title,
          name=other_name, left=_left(t, meeting.start - now), when=t.both(meeting.start, other_tz)),
        t("Join: {url}", url=meeting_url(expert, booking.id)),
    ]
    buttons: tuple[tuple[Button, ...], ...] = ()
    if first:
        buttons = ((sessions.reschedule_button(t, booking.id, meeting.id),
                    sessions.cancel_button(t, booking.id, meeting.id)),)
    return Reply("\n".join(lines), buttons)


def email_reminder(booking: Booking, meeting: Meeting, expert: Expert, person: Person, other: Person, *,
                   client: Person, expert_person: Person, now: datetime) -> Reply:
    """The mail 24 h before: who, when in both zones, the join link, and the invite (the same UID and
    SEQUENCE as the confirmation's, so the calendar keeps one event and shows it up to date)."""
    t = Translator(person.locale, person.timezone)
    assert booking.id is not None and meeting.id is not None
    is_expert = person.id == expert.person_id
    other_name = other.name if is_expert else expert.name
    other_tz = other.timezone if is_expert else expert.timezone
    url = meeting_url(expert, booking.id)
    title = booking.details.title
    lines = [
        t("Reminder: “{title}” with {name}, {day} at {time}", title=title, name=other_name,
          day=t.day(meeting.start), time=t.time(meeting.start)),
        "",
        t("Your session “{title}” with {name} starts in {left}.", title=title, name=other_name,
          left=_left(t, meeting.start - now)),
        t("When: {when}", when=t.both(meeting.start, other_tz)),
        t("Join: {url}", url=url),
        "",
        t("The calendar invite is attached: open it to add the session to your calendar or bring it up to date."),
        t("To reschedule or cancel, use /sessions in the chat."),
        t("You get this email because email reminders are on; turn them off in /settings in the chat."),
    ]
    ics = invite(booking, meeting, expert, client, expert_person, url=url, for_expert=is_expert, stamp=now)
    return Reply("\n".join(lines), file=ics)


def _left(t: Translator, left: timedelta) -> str:
    minutes = max(1, round(left.total_seconds() / 60))
    if minutes < 120:
        return t.plural("{n} minute", "{n} minutes", minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return t.plural("{n} hour", "{n} hours", hours)
    days = round(hours / 24)
    return t.plural("{n} day", "{n} days", days)
