"""What the bot says about calendars: a calendar that keeps failing, a new busy event over a session, and a
sentence for every reason a calendar could not be connected or read."""

from __future__ import annotations

from datetime import datetime

from core.calendar_service import ConnectionKind
from bot.i18n import Translator
from bot.flows import sessions
from bot.replies import Button, Reply

ADDRESS_CHARS = 60


def session_buttons(t: Translator, booking_id: int, meeting_id: int) -> tuple[tuple[Button, ...], ...]:
    """Reschedule and Cancel for one meeting, as the sessions flow builds them."""
    return ((sessions.reschedule_button(t, booking_id, meeting_id), sessions.cancel_button(t, booking_id, meeting_id)),)


def clash_notice(t: Translator, *, title: str, other_name: str, start: datetime, other_tz: str,
                 booking_id: int, meeting_id: int) -> Reply:
    text = "\n".join([
        t("Something new in your calendar overlaps your session “{title}” with {name} at {when}.",
          title=title, name=other_name, when=t.both(start, other_tz)),
        t("The session stays booked. If you cannot make it, move it or cancel it here."),
    ])
    return Reply(text, session_buttons(t, booking_id, meeting_id))


def failing_notice(t: Translator, *, kind: ConnectionKind, url: str, since: datetime, reason: str) -> Reply:
    what = t("your calendar feed") if kind is ConnectionKind.FEED else t("your CalDAV calendar")
    return Reply("\n".join([
        t("I have not been able to read {what} ({address}) since {when}: {why}",
          what=what, address=short_address(url), when=t.when(since), why=problem_sentence(t, reason)),
        t("Until it works again, your free times use what I read last. Use /calendar to test it, connect it "
          "again or disconnect it."),
    ]))


def short_address(url: str) -> str:
    """Enough of an address to recognise it, without the secret part a private feed address carries."""
    host_and_path = url.split("://", 1)[-1]
    host, _, path = host_and_path.partition("/")
    shown = f"{host}/{path[:12]}…" if len(path) > 12 else host_and_path
    return shown[:ADDRESS_CHARS]


def problem_sentence(t: Translator, reason: str) -> str:
    sentences = {
        "calendar_bad_url": t("that is not a calendar address. Use the https:// or webcal:// address your "
                              "calendar gives for sharing (iCal/ICS)."),
        "calendar_private_address": t("that address is on a private network, which this bot does not read."),
        "calendar_unreachable": t("the calendar's server could not be reached."),
        "calendar_timeout": t("the calendar's server did not answer in time."),
        "calendar_http_error": t("the calendar's server refused the request. Check the address."),
        "calendar_auth_failed": t("the user name or app password was refused."),
        "calendar_not_icalendar": t("the address does not give calendar (iCalendar) data."),
        "calendar_too_large": t("the calendar is too large to read."),
        "calendar_no_calendar": t("no calendar was found in that account."),
        "calendar_bad_user": t("that user name cannot be right."),
        "calendar_bad_secret": t("that password cannot be right."),
        "calendar_not_found": t("that calendar is not connected."),
        "calendar_secret_unreadable": t("the stored password can no longer be read; connect the calendar again."),
        "calendar_needs_password": t("a CalDAV calendar needs a user name and an app password."),
    }
    return sentences.get(reason, t("something went wrong while reading it."))
