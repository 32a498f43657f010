"""What the chat (`/calendar`) and the CLI call. Plain functions; every refusal is a CalendarProblem whose
`reason` problem_sentence() turns into a sentence (the address and the password are never echoed).

Database functions take the caller's unit of work and do not commit. check_feed and check_caldav only
talk to the calendar (no database): call them before opening the transaction that stores the result, so
no lock is held while a slow server answers. test_connection reads a stored calendar now and stores the
result in the caller's transaction (it waits on the network for up to CALENDAR_TIMEOUT_SECONDS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.calendar_service import (
    DEFAULT_HORIZON,
    CalendarConnection,
    CalendarProblem,
    ConnectionKind,
    calendar_url,
    check_secret,
    check_username,
    read_window,
)
from core.clock import Clock
from bot.calendars import ics
from bot.calendars.caldav_io import CalDavCalendar
from bot.calendars.crypto import Sealer, new_token, token_hash
from bot.calendars.feeds import fetch
from bot.calendars.notices import problem_sentence, session_buttons, short_address
from bot.calendars.sync import CalendarSync, NoticeQueue, RefreshReport
from bot.settings import CalendarSettings, calendar_settings, port, public_url
from storage.uow import SqlUnitOfWork

__all__ = [
    "ConnectionStatus", "Probe", "TestResult", "check_caldav", "check_feed", "connect_caldav", "connect_feed",
    "disconnect", "problem_sentence", "rotate_subscription", "session_buttons", "status", "subscription_url",
    "test_connection",
]


@dataclass(frozen=True, slots=True)
class Probe:
    """A calendar that answered: what to store, and how many busy times it has now."""

    kind: ConnectionKind
    url: str
    calendar_url: str | None
    busy_count: int


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    id: int
    kind: ConnectionKind
    address: str  # shortened: a private feed's address is a secret
    username: str | None
    connected_at: datetime
    last_success_at: datetime | None
    next_refresh_at: datetime
    failures: int  # in a row
    failing_since: datetime | None
    problem: str | None  # the last failure's reason (problem_sentence), None when the last read worked
    busy_count: int  # busy times ahead
    writes_failing: int  # CalDAV: sessions whose write is waiting for a retry

    @property
    def ok(self) -> bool:
        return self.failures == 0


@dataclass(frozen=True, slots=True)
class TestResult:
    ok: bool
    problem: str | None  # reason, when not ok
    busy_count: int


# ---- trying a calendar before storing it (network only)


def check_feed(url: str, *, settings: CalendarSettings | None = None, zone: str = "UTC",
               now: datetime | None = None) -> Probe:
    settings = settings or calendar_settings()
    address = calendar_url(url, allow_private=settings.allow_private)
    got = fetch(address, settings)
    now = now or datetime.now(UTC)
    start, end = read_window(now, DEFAULT_HORIZON)
    found = ics.busy_times([got.body], zone=zone, start=start, end=end)
    return Probe(ConnectionKind.FEED, address, None, len(found))


def check_caldav(url: str, username: str, password: str, *, settings: CalendarSettings | None = None,
                 zone: str = "UTC", now: datetime | None = None) -> Probe:
    settings = settings or calendar_settings()
    address = calendar_url(url, allow_private=settings.allow_private)
    user, secret = check_username(username), check_secret(password)
    if user is None or secret is None:
        raise CalendarProblem("user and app password are needed", reason="calendar_needs_password")
    now = now or datetime.now(UTC)
    start, end = read_window(now, DEFAULT_HORIZON)
    with CalDavCalendar(address, user, secret, settings) as calendar:
        found = ics.busy_times(calendar.events(start, end), zone=zone, start=start, end=end)
        return Probe(ConnectionKind.CALDAV, address, calendar.calendar_url, len(found))


# ---- connecting (database only)


def connect_feed(uow: SqlUnitOfWork, clock: Clock, person_id: int, url: str, *, probe: Probe | None = None,
                 username: str | None = None, password: str | None = None,
                 settings: CalendarSettings | None = None, sealer: Sealer | None = None) -> ConnectionStatus:
    """Connect an iCalendar feed address (https, http or webcal); a user and password only for a feed behind
    HTTP authentication. It is read at the scheduler's next tick (or now, with test_connection)."""
    settings = settings or calendar_settings()
    address = probe.url if probe is not None else calendar_url(url, allow_private=settings.allow_private)
    user, secret = check_username(username), check_secret(password)
    sealed = (sealer or Sealer.from_env()).seal(secret) if user and secret else None
    return _store(uow, clock, CalendarConnection(None, person_id, ConnectionKind.FEED, address, clock.now(),
                                                 clock.now(), username=user if sealed else None, secret_sealed=sealed))


def connect_caldav(uow: SqlUnitOfWork, clock: Clock, person_id: int, url: str, username: str, password: str, *,
                   probe: Probe | None = None, settings: CalendarSettings | None = None,
                   sealer: Sealer | None = None) -> ConnectionStatus:
    """Connect a CalDAV account (server or calendar address, user, app password): busy times are read from
    it and confirmed sessions are written to it. The password is stored sealed."""
    settings = settings or calendar_settings()
    address = probe.url if probe is not None else calendar_url(url, allow_private=settings.allow_private)
    user, secret = check_username(username), check_secret(password)
    if user is None or secret is None:
        raise CalendarProblem("user and app password are needed", reason="calendar_needs_password")
    sealed = (sealer or Sealer.from_env()).seal(secret)
    return _store(uow, clock, CalendarConnection(
        None, person_id, ConnectionKind.CALDAV, address, clock.now(), clock.now(), username=user,
        secret_sealed=sealed, calendar_url=probe.calendar_url if probe is not None else None))


def _store(uow: SqlUnitOfWork, clock: Clock, connection: CalendarConnection) -> ConnectionStatus:
    if uow.people.get(connection.person_id) is None:
        raise CalendarProblem("no such person", reason="calendar_not_found")
    stored = uow.calendars.add(connection)
    return _status(uow, clock, [stored])[0]


def disconnect(uow: SqlUnitOfWork, person_id: int, connection_id: int) -> bool:
    """Forget the calendar, its password and its busy times. Events already written to a CalDAV calendar
    stay there (the person's calendar is theirs to tidy)."""
    connection = uow.calendars.get(connection_id)
    if connection is None or connection.person_id != person_id:
        return False
    return uow.calendars.remove(connection_id)


def status(uow: SqlUnitOfWork, clock: Clock, person_id: int) -> list[ConnectionStatus]:
    return _status(uow, clock, uow.calendars.for_person(person_id))


def _status(uow: SqlUnitOfWork, clock: Clock, connections: list[CalendarConnection]) -> list[ConnectionStatus]:
    ids = [c.id for c in connections if c.id is not None]
    counts = uow.calendars.busy_counts(ids, clock.now())
    failing_writes = uow.calendars.write_failures(ids)
    out = []
    for c in connections:
        assert c.id is not None
        out.append(ConnectionStatus(
            c.id, c.kind, short_address(c.url), c.username, c.created_at, c.last_success_at, c.next_refresh_at,
            c.failures, c.failing_since, c.last_error.split(":", 1)[0] if c.failures else None,
            counts.get(c.id, 0), failing_writes.get(c.id, 0)))
    return out


def test_connection(uow: SqlUnitOfWork, clock: Clock, person_id: int, connection_id: int, *,
                    settings: CalendarSettings | None = None, sealer: Sealer | None = None,
                    queue_notice: NoticeQueue | None = None) -> TestResult:
    """Read the calendar now (ignoring ETags) and store what it gave, as the scheduler would."""
    connection = uow.calendars.get(connection_id)
    if connection is None or connection.person_id != person_id:
        raise CalendarProblem("not connected", reason="calendar_not_found")
    owner = uow.calendars.owners_context([person_id]).get(person_id)
    if owner is None:
        raise CalendarProblem("no such person", reason="calendar_not_found")
    sync = CalendarSync(lambda: uow, clock, settings or calendar_settings(), sealer=sealer, queue_notice=queue_notice)
    now = clock.now()
    try:
        outcome = sync.read_once(connection, owner, now, full=True)
    finally:
        sync.close()
    report = RefreshReport()
    sync.apply_in(uow, connection, outcome, now, report)
    if outcome.problem is not None:
        return TestResult(False, outcome.problem, 0)
    return TestResult(True, None, uow.calendars.busy_counts([connection_id], now).get(connection_id, 0))


# ---- the private feed of a person's sessions


def subscription_url(uow: SqlUnitOfWork, clock: Clock, person_id: int, *, base_url: str | None = None,
                     sealer: Sealer | None = None) -> str:
    """The person's private feed address (made on first use): PUBLIC_URL + /calendar/<token>.ics."""
    sealer = sealer or Sealer.from_env()
    sealed = uow.calendars.token(person_id)
    token = sealer.open(sealed) if sealed is not None else _new_token(uow, clock, person_id, sealer)
    return f"{_base(base_url)}/calendar/{token}.ics"


def rotate_subscription(uow: SqlUnitOfWork, clock: Clock, person_id: int, *, base_url: str | None = None,
                        sealer: Sealer | None = None) -> str:
    """A new address; the old one answers 404 from now on (calendars subscribed to it stop updating)."""
    sealer = sealer or Sealer.from_env()
    token = _new_token(uow, clock, person_id, sealer)
    return f"{_base(base_url)}/calendar/{token}.ics"


def _new_token(uow: SqlUnitOfWork, clock: Clock, person_id: int, sealer: Sealer) -> str:
    if uow.people.get(person_id) is None:
        raise CalendarProblem("no such person", reason="calendar_not_found")
    token = new_token()
    uow.calendars.set_token(person_id, token_hash(token), sealer.seal(token), clock.now())
    return token


def _base(base_url: str | None) -> str:
    return (base_url or public_url() or f"http://localhost:{port()}").rstrip("/")

