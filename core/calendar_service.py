"""People's own calendars, the rules: which addresses may be connected, when a calendar is read again
(every few minutes, further apart while it keeps failing), when its owner is told it fails, which events
block time, and which of them clash with a session. The reading and writing itself is in bot/calendars."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from core.errors import DomainError

MAX_URL_CHARS = 2000
MAX_USER_CHARS = 254
MAX_SECRET_CHARS = 1000
DEFAULT_REFRESH = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
REPORT_AFTER_FAILURES = 3  # one bad fetch is weather; three in a row (with backoff, over an hour) is a problem
DEFAULT_HORIZON = timedelta(days=60)  # for people who are not experts (no booking horizon of their own)
PAST_MARGIN = timedelta(days=1)  # busy times kept from a day back: a meeting running now still blocks
EXPAND_MARGIN = timedelta(days=7)  # read this far past the horizon, so an unchanged feed (304) stays complete


class ConnectionKind(StrEnum):
    FEED = "feed"  # an iCalendar (.ics) address we read
    CALDAV = "caldav"  # a CalDAV calendar we read and write our sessions to


class CalendarProblem(DomainError):
    """A calendar could not be connected or read. Reasons (stable, the chat turns them into sentences):
    calendar_bad_url, calendar_private_address, calendar_unreachable, calendar_timeout, calendar_http_error,
    calendar_auth_failed, calendar_not_icalendar, calendar_too_large, calendar_no_calendar, calendar_bad_user,
    calendar_bad_secret, calendar_not_found, calendar_secret_unreadable."""

    reason = "calendar_problem"


@dataclass(slots=True)
class CalendarConnection:
    """One connected calendar and where its reading stands. secret_sealed is the app password, encrypted."""

    id: int | None
    person_id: int
    kind: ConnectionKind
    url: str
    created_at: datetime
    next_refresh_at: datetime
    username: str | None = None
    secret_sealed: str | None = None
    calendar_url: str | None = None  # CalDAV: the calendar collection that was found
    etag: str | None = None  # a feed's ETag, or a CalDAV collection's sync token
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    expanded_until: datetime | None = None
    busy_digest: str | None = None
    failures: int = 0
    failing_since: datetime | None = None
    last_error: str = ""
    failure_reported_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.failures > 0


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """Time blocked in someone's own calendar (aware UTC); uid names the event it came from."""

    start: datetime
    end: datetime
    uid: str


@dataclass(frozen=True, slots=True)
class SessionTime:
    booking_id: int
    meeting_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RefreshRules:
    interval: timedelta = DEFAULT_REFRESH
    max_backoff: timedelta = MAX_BACKOFF
    report_after_failures: int = REPORT_AFTER_FAILURES

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ValueError("the refresh interval must be positive")

    def next_attempt(self, now: datetime, failures: int) -> datetime:
        """After a success, one interval; after n failures in a row, 1, 2, 4 ... intervals, at most max_backoff."""
        if failures <= 0:
            return now + self.interval
        return now + min(self.interval * (2 ** min(failures - 1, 16)), max(self.max_backoff, self.interval))

    def should_report(self, failures: int, already_reported: bool) -> bool:
        """Told once per failing streak: a success ends the streak (and a later streak is told again)."""
        return not already_reported and failures >= self.report_after_failures


def read_window(now: datetime, horizon: timedelta) -> tuple[datetime, datetime]:
    """The span whose busy times are stored: from a day back to a week past the booking horizon."""
    return now - PAST_MARGIN, now + horizon + EXPAND_MARGIN


def needs_full_read(expanded_until: datetime | None, now: datetime, horizon: timedelta) -> bool:
    """A feed that has not changed (304) still needs reading again once its stored span no longer covers
    the horizon with a day to spare: recurring events reach further as the days pass."""
    return expanded_until is None or expanded_until < now + horizon + timedelta(days=1)


def blocks_time(*, transparent: bool, cancelled: bool, declined_by_owner: bool) -> bool:
    """Free (TRANSP:TRANSPARENT), cancelled and declined events leave the time open; everything else,
    tentative included, blocks it."""
    return not (transparent or cancelled or declined_by_owner)


def clashes(busy: Iterable[BusyInterval], sessions: Sequence[SessionTime]) -> list[tuple[BusyInterval, SessionTime]]:
    """Busy intervals that overlap a session (touching ends do not overlap)."""
    found = []
    for interval in busy:
        for session in sessions:
            if interval.start < session.end and session.start < interval.end:
                found.append((interval, session))
    return found


def calendar_url(text: str, *, allow_private: bool = False) -> str:
    """A calendar address as typed (https, http or webcal) made into the URL we fetch; refuses anything
    else with a reason. Without allow_private, a literal loopback, private or link-local address is
    refused here (a host name is checked again when it is resolved, by the fetcher)."""
    url = (text or "").strip()
    if not url or len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        raise CalendarProblem("not a calendar address", reason="calendar_bad_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CalendarProblem("not a calendar address", reason="calendar_bad_url") from None
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if scheme not in ("http", "https") or not parts.hostname:
        raise CalendarProblem("use an http(s) or webcal address", reason="calendar_bad_url")
    if parts.username or parts.password:
        raise CalendarProblem("put the user and password in their own fields, not in the address",
                              reason="calendar_bad_url")
    if not allow_private and is_private_host(parts.hostname):
        raise CalendarProblem("that address is on a private network", reason="calendar_private_address")
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:  # IPv6 literal
        netloc = f"[{parts.hostname}]" if port is None else f"[{parts.hostname}]:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def is_private_host(host: str) -> bool:
    """A literal address (or localhost) that is not on the public internet."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def is_private_address(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address.split("%")[0]).is_global
    except ValueError:
        return True


def check_username(text: str | None) -> str | None:
    user = (text or "").strip()
    if not user:
        return None
    if len(user) > MAX_USER_CHARS or any(ord(c) < 32 for c in user):
        raise CalendarProblem("that user name cannot be right", reason="calendar_bad_user")
    return user


def check_secret(text: str | None) -> str | None:
    """An app password as given: never stripped inside, only of a trailing newline from a file."""
    secret = (text or "").rstrip("\r\n")
    if not secret:
        return None
    if len(secret) > MAX_SECRET_CHARS or "\x00" in secret:
        raise CalendarProblem("that password cannot be right", reason="calendar_bad_secret")
    return secret
