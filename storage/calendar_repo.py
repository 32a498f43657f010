"""People's connected calendars: the connections, the busy times read from them, our meetings written to
CalDAV calendars (each link is also the retry state of its next write), and subscription tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.calendar_service import BusyInterval, CalendarConnection, ConnectionKind, SessionTime
from core.clock import Clock
from core.lifecycle import MeetingStatus
from storage import busy_spans
from storage.models import (
    BookingRow,
    CalendarBusyPackedRow,
    CalendarBusyRow,
    CalendarConnectionRow,
    CalendarEventLinkRow,
    CalendarTokenRow,
    ExpertRow,
    MeetingRow,
    PersonRow,
)

UID_CHARS = 255
ERROR_CHARS = 300
_GONE = [MeetingStatus.CANCELLED.value, MeetingStatus.RELEASED.value]  # an event of ours there must go


@dataclass(frozen=True, slots=True)
class CalendarWrite:
    """One thing to do in a CalDAV calendar: put the meeting's event there (again), or delete it."""

    connection_id: int
    meeting_id: int
    booking_id: int
    delete: bool
    href: str | None  # where it was written before, if it was
    sequence: int  # the meeting's ics_sequence now
    attempts: int


@dataclass(frozen=True, slots=True)
class OwnerContext:
    timezone: str
    email: str | None
    horizon_days: int | None  # None: not an expert


@dataclass(frozen=True, slots=True)
class SealedValue:
    """A secret at rest, for re-encryption under a new key: which table, which row."""

    table: str
    key: int
    sealed: str


class SqlCalendars:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # ---- connections

    def add(self, connection: CalendarConnection) -> CalendarConnection:
        """Connect, or connect again (the same address for the same person): the new credentials replace
        the old ones and it is read at once."""
        row = self.session.scalar(select(CalendarConnectionRow).where(
            CalendarConnectionRow.person_id == connection.person_id, CalendarConnectionRow.url == connection.url))
        if row is None:
            row = CalendarConnectionRow(person_id=connection.person_id, url=connection.url,
                                        created_at=connection.created_at, failures=0, last_error="")
            self.session.add(row)
        row.kind = connection.kind.value
        row.username, row.secret_sealed = connection.username, connection.secret_sealed
        row.calendar_url = connection.calendar_url
        row.next_refresh_at = connection.next_refresh_at
        row.etag = row.last_modified = row.expanded_until = None  # read everything again
        row.failures, row.failing_since, row.last_error, row.failure_reported_at = 0, None, "", None
        self.session.flush()
        return _connection(row)

    def get(self, connection_id: int) -> CalendarConnection | None:
        row = self.session.get(CalendarConnectionRow, connection_id, populate_existing=True)
        return _connection(row) if row is not None else None

    def for_person(self, person_id: int) -> list[CalendarConnection]:
        rows = self.session.scalars(select(CalendarConnectionRow).where(CalendarConnectionRow.person_id == person_id)
                                    .order_by(CalendarConnectionRow.id))
        return [_connection(r) for r in rows]

    def all(self, person_ids: Iterable[int] | None = None) -> list[CalendarConnection]:
        query = select(CalendarConnectionRow).order_by(CalendarConnectionRow.person_id, CalendarConnectionRow.id)
        if person_ids is not None:
            query = query.where(CalendarConnectionRow.person_id.in_(list(person_ids)))
        return [_connection(r) for r in self.session.scalars(query)]

    def remove(self, connection_id: int) -> bool:
        """Its busy times and links go with it (ON DELETE CASCADE, also spelled out for SQLite)."""
        person_id = self.session.scalar(select(CalendarConnectionRow.person_id)
                                        .where(CalendarConnectionRow.id == connection_id))
        if person_id is None:
            return False
        self.session.execute(delete(CalendarBusyRow).where(CalendarBusyRow.connection_id == connection_id))
        self.session.execute(delete(CalendarEventLinkRow).where(CalendarEventLinkRow.connection_id == connection_id))
        self.session.execute(delete(CalendarConnectionRow).where(CalendarConnectionRow.id == connection_id))
        self._repack(person_id)
        return True

    def due(self, now: datetime, limit: int = 1000) -> list[CalendarConnection]:
        rows = self.session.scalars(
            select(CalendarConnectionRow).where(CalendarConnectionRow.next_refresh_at <= now)
            .order_by(CalendarConnectionRow.next_refresh_at, CalendarConnectionRow.id).limit(limit)
        )
        return [_connection(r) for r in rows]

    def save_state(self, connection: CalendarConnection) -> None:
        """Where reading stands (ETag, schedule, failures); the credentials are left alone."""
        assert connection.id is not None
        self.session.execute(update(CalendarConnectionRow).where(CalendarConnectionRow.id == connection.id).values(
            calendar_url=connection.calendar_url, etag=connection.etag, last_modified=connection.last_modified,
            next_refresh_at=connection.next_refresh_at, last_attempt_at=connection.last_attempt_at,
            last_success_at=connection.last_success_at, expanded_until=connection.expanded_until,
            busy_digest=connection.busy_digest, failures=connection.failures,
            failing_since=connection.failing_since, last_error=connection.last_error[:ERROR_CHARS],
            failure_reported_at=connection.failure_reported_at,
        ))

    def refresh_now(self, connection_ids: Sequence[int], now: datetime) -> None:
        self.session.execute(update(CalendarConnectionRow).where(CalendarConnectionRow.id.in_(list(connection_ids)))
                             .values(next_refresh_at=now))

    def owners(self, connection_ids: Iterable[int]) -> dict[int, int]:
        ids = list(connection_ids)
        if not ids:
            return {}
        rows = self.session.execute(select(CalendarConnectionRow.id, CalendarConnectionRow.person_id)
                                    .where(CalendarConnectionRow.id.in_(ids)))
        return {c: p for c, p in rows}

    # ---- busy times

    def busy(self, connection_id: int) -> list[BusyInterval]:
        rows = self.session.execute(
            select(CalendarBusyRow.starts_at, CalendarBusyRow.ends_at, CalendarBusyRow.uid)
            .where(CalendarBusyRow.connection_id == connection_id).order_by(CalendarBusyRow.starts_at)
        )
        return [BusyInterval(s, e, u) for s, e, u in rows]

    def replace_busy(self, connection_id: int, person_id: int, intervals: Sequence[BusyInterval]) -> None:
        self.session.execute(delete(CalendarBusyRow).where(CalendarBusyRow.connection_id == connection_id))
        if intervals:
            self.session.execute(insert(CalendarBusyRow), [
                {"connection_id": connection_id, "person_id": person_id, "starts_at": i.start, "ends_at": i.end,
                 "uid": i.uid[:UID_CHARS]}
                for i in intervals
            ])
        self._repack(person_id)

    def _repack(self, person_id: int) -> None:
        """The person's packed busy time, from all their calendars' intervals (what free slots read)."""
        rows = self.session.execute(select(CalendarBusyRow.starts_at, CalendarBusyRow.ends_at)
                                    .where(CalendarBusyRow.person_id == person_id)).tuples().all()
        self.session.execute(delete(CalendarBusyPackedRow).where(CalendarBusyPackedRow.person_id == person_id))
        if rows:
            self.session.add(CalendarBusyPackedRow(person_id=person_id, spans=busy_spans.pack(rows),
                                                   updated_at=self.clock.now()))
            self.session.flush()

    def busy_counts(self, connection_ids: Iterable[int], since: datetime) -> dict[int, int]:
        ids = list(connection_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(CalendarBusyRow.connection_id, func.count()).where(
                CalendarBusyRow.connection_id.in_(ids), CalendarBusyRow.ends_at > since)
            .group_by(CalendarBusyRow.connection_id)
        )
        return {c: n for c, n in rows}

    def person_busy(self, person_id: int, start: datetime, end: datetime) -> list[BusyInterval]:
        rows = self.session.execute(
            select(CalendarBusyRow.starts_at, CalendarBusyRow.ends_at, CalendarBusyRow.uid).where(
                CalendarBusyRow.person_id == person_id, CalendarBusyRow.starts_at < end,
                CalendarBusyRow.ends_at > start).order_by(CalendarBusyRow.starts_at)
        )
        return [BusyInterval(s, e, u) for s, e, u in rows]

    # ---- our meetings in CalDAV calendars

    def pending_writes(self, now: datetime, limit: int = 200) -> list[CalendarWrite]:
        """Confirmed meetings still ahead whose event is missing or older than the meeting (a reschedule
        raised its SEQUENCE), and events of meetings since cancelled: for every CalDAV calendar of either
        party, not before a failed attempt's retry time. Derived from the meetings themselves, so nothing
        the booking engine did can be missed, and doing one twice writes the same event again."""
        c, m, b, e, link = CalendarConnectionRow, MeetingRow, BookingRow, ExpertRow, CalendarEventLinkRow
        query = (
            select(c.id, m.id, m.booking_id, m.status, m.ics_sequence, link.href, link.attempts)
            .select_from(m)
            .join(b, b.id == m.booking_id)
            .join(e, e.id == b.expert_id)
            .join(c, and_(c.kind == ConnectionKind.CALDAV.value, or_(c.person_id == b.client_id,
                                                                    c.person_id == e.person_id)))
            .outerjoin(link, and_(link.connection_id == c.id, link.meeting_id == m.id))
            .where(or_(link.retry_at.is_(None), link.retry_at <= now))
            .where(or_(
                and_(m.status == MeetingStatus.CONFIRMED.value, m.ends_at > now,
                     or_(link.sequence.is_(None), link.sequence < m.ics_sequence)),
                and_(link.href.is_not(None), m.status.in_(_GONE)),
            ))
            .order_by(m.starts_at, m.id, c.id)
            .limit(limit)
        )
        return [CalendarWrite(cid, mid, bid, status in _GONE, href, seq, attempts or 0)
                for cid, mid, bid, status, seq, href, attempts in self.session.execute(query)]

    def written(self, connection_id: int, meeting_id: int, *, href: str, etag: str | None, sequence: int) -> None:
        values = {"href": href, "etag": etag, "sequence": sequence, "attempts": 0, "retry_at": None, "last_error": ""}
        self._upsert_link(connection_id, meeting_id, values)

    def deleted(self, connection_id: int, meeting_id: int) -> None:
        self.session.execute(delete(CalendarEventLinkRow).where(
            CalendarEventLinkRow.connection_id == connection_id, CalendarEventLinkRow.meeting_id == meeting_id))

    def write_failed(self, connection_id: int, meeting_id: int, *, attempts: int, retry_at: datetime,
                     error: str) -> None:
        self._upsert_link(connection_id, meeting_id,
                          {"attempts": attempts, "retry_at": retry_at, "last_error": error[:ERROR_CHARS]})

    def links(self, meeting_id: int) -> list[tuple[int, str | None, int | None]]:
        """(connection, href, sequence written) of one meeting's events."""
        rows = self.session.execute(
            select(CalendarEventLinkRow.connection_id, CalendarEventLinkRow.href, CalendarEventLinkRow.sequence)
            .where(CalendarEventLinkRow.meeting_id == meeting_id).order_by(CalendarEventLinkRow.connection_id))
        return [(c, h, s) for c, h, s in rows]

    def write_failures(self, connection_ids: Iterable[int]) -> dict[int, int]:
        ids = list(connection_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(CalendarEventLinkRow.connection_id, func.count()).where(
                CalendarEventLinkRow.connection_id.in_(ids), CalendarEventLinkRow.attempts > 0)
            .group_by(CalendarEventLinkRow.connection_id))
        return {c: n for c, n in rows}

    def _upsert_link(self, connection_id: int, meeting_id: int, values: Mapping[str, object]) -> None:
        row = self.session.scalar(select(CalendarEventLinkRow).where(
            CalendarEventLinkRow.connection_id == connection_id, CalendarEventLinkRow.meeting_id == meeting_id))
        if row is None:
            row = CalendarEventLinkRow(connection_id=connection_id, meeting_id=meeting_id, attempts=0, last_error="")
            self.session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()

    # ---- subscription tokens

    def token(self, person_id: int) -> str | None:
        """The person's sealed token, if they have one."""
        return self.session.scalar(select(CalendarTokenRow.token_sealed).where(CalendarTokenRow.person_id == person_id))

    def set_token(self, person_id: int, token_hash: str, token_sealed: str, now: datetime) -> None:
        self.session.execute(delete(CalendarTokenRow).where(CalendarTokenRow.person_id == person_id))
        self.session.add(CalendarTokenRow(person_id=person_id, token_hash=token_hash, token_sealed=token_sealed,
                                          created_at=now))
        self.session.flush()

    def person_by_token(self, token_hash: str) -> int | None:
        return self.session.scalar(select(CalendarTokenRow.person_id).where(CalendarTokenRow.token_hash == token_hash))

    # ---- secrets at rest, for a new key

    def sealed_values(self) -> list[SealedValue]:
        out = [SealedValue("connection", i, s) for i, s in self.session.execute(
            select(CalendarConnectionRow.id, CalendarConnectionRow.secret_sealed)
            .where(CalendarConnectionRow.secret_sealed.is_not(None)).order_by(CalendarConnectionRow.id))]
        out += [SealedValue("token", p, s) for p, s in self.session.execute(
            select(CalendarTokenRow.person_id, CalendarTokenRow.token_sealed).order_by(CalendarTokenRow.person_id))]
        return out

    def reseal(self, value: SealedValue, sealed: str) -> None:
        if value.table == "connection":
            self.session.execute(update(CalendarConnectionRow).where(CalendarConnectionRow.id == value.key)
                                 .values(secret_sealed=sealed))
        else:
            self.session.execute(update(CalendarTokenRow).where(CalendarTokenRow.person_id == value.key)
                                 .values(token_sealed=sealed))

    # ---- what reading and clash-checking a person's calendar needs

    def owners_context(self, person_ids: Iterable[int]) -> dict[int, OwnerContext]:
        """Zone, email and booking horizon (experts only) of each person, in one query."""
        ids = list(person_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(PersonRow.id, PersonRow.timezone, PersonRow.email, ExpertRow.horizon_days)
            .outerjoin(ExpertRow, ExpertRow.person_id == PersonRow.id).where(PersonRow.id.in_(ids))
        )
        return {i: OwnerContext(tz, email, days) for i, tz, email, days in rows}

    def confirmed_sessions(self, person_id: int, start: datetime, end: datetime) -> list[SessionTime]:
        """The person's confirmed meetings (as client or expert) overlapping [start, end)."""
        m, b, e = MeetingRow, BookingRow, ExpertRow
        rows = self.session.execute(
            select(m.booking_id, m.id, m.starts_at, m.ends_at).join(b, b.id == m.booking_id)
            .join(e, e.id == b.expert_id)
            .where(or_(b.client_id == person_id, e.person_id == person_id),
                   m.status == MeetingStatus.CONFIRMED.value, m.starts_at < end, m.ends_at > start)
            .order_by(m.starts_at)
        )
        return [SessionTime(bid, mid, s, e_) for bid, mid, s, e_ in rows]

    # ---- who

    def handles(self, person_ids: Iterable[int]) -> dict[int, str]:
        ids = list(person_ids)
        if not ids:
            return {}
        return {i: h for i, h in self.session.execute(select(PersonRow.id, PersonRow.handle).where(PersonRow.id.in_(ids)))}


def _connection(row: CalendarConnectionRow) -> CalendarConnection:
    return CalendarConnection(
        id=row.id, person_id=row.person_id, kind=ConnectionKind(row.kind), url=row.url, created_at=row.created_at,
        next_refresh_at=row.next_refresh_at, username=row.username, secret_sealed=row.secret_sealed,
        calendar_url=row.calendar_url, etag=row.etag, last_modified=row.last_modified,
        last_attempt_at=row.last_attempt_at, last_success_at=row.last_success_at,
        expanded_until=row.expanded_until, busy_digest=row.busy_digest, failures=row.failures,
        failing_since=row.failing_since, last_error=row.last_error, failure_reported_at=row.failure_reported_at,
    )
