"""Bookings with their meetings, reviews and series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import func, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from core.clock import Clock
from core.credits import Movement
from core.lifecycle import OPEN_BOOKING_STATUSES, BookingStatus, MeetingStatus
from core.experts import Expert
from core.model import Booking, Meeting, Person, Review
from storage import mapping
from storage.db import loaded
from storage.models import BookingRow, CreditMovementRow, ExpertRow, MeetingRow, PersonRow, ReviewRow, SeriesRow


@dataclass(frozen=True, slots=True)
class BookingParties:
    """A booking with both sides, as a chat card or a press about it needs them."""

    booking: Booking
    expert: Expert
    client: Person


class SqlBookings:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        # Bookings this unit of work wrote or read, with all their meetings: a step that writes a booking
        # and then renders the notices about it does not read it back.
        self._rows: dict[int, tuple[BookingRow, list[MeetingRow]]] = {}
        self._locked: set[int] = set()  # read under the row lock (PostgreSQL): nobody changes them before commit

    def forget(self) -> None:
        self._rows.clear()
        self._locked.clear()

    def add(self, booking: Booking) -> Booking:
        row = BookingRow(
            client_id=booking.client_id, expert_id=booking.expert_id, programme_id=booking.programme_id,
            series_id=booking.series_id, price_milli=booking.price_milli, money_minor=booking.money_minor,
            currency=booking.currency, created_at=booking.created_at,
        )
        mapping.booking_into(row, booking)
        self.session.add(row)
        self.session.flush()
        meetings = []
        for meeting in booking.meetings:
            m = MeetingRow(booking_id=row.id, expert_id=booking.expert_id)
            mapping.meeting_into(m, meeting)
            meetings.append(m)
        self.session.add_all(meetings)
        self.session.flush()  # one INSERT for all of them, ids in order
        for meeting, m in zip(booking.meetings, meetings):
            meeting.id = m.id
        booking.id = row.id
        booking.version = row.version
        self._rows[row.id] = (_settled(row), [_settled(m) for m in meetings])
        return booking

    def get(self, booking_id: int, *, for_update: bool = False) -> Booking | None:
        """The booking and its meetings in one query. On SQLite the transaction holds the only writer
        lock from its start, so a booking this unit of work already read or wrote is still exactly that;
        on PostgreSQL `for_update` reads again, under the row lock, unless this unit of work holds it already
        (with_parties(for_update=True) just read it so)."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        known = self._rows.get(booking_id)
        if known is not None and not (for_update and postgres and booking_id not in self._locked):
            return mapping.booking(*known)
        stmt = (select(BookingRow, MeetingRow).outerjoin(MeetingRow, MeetingRow.booking_id == BookingRow.id)
                .where(BookingRow.id == booking_id))
        if for_update and postgres:
            stmt = stmt.with_for_update(of=BookingRow)
        found = self.session.execute(stmt.execution_options(populate_existing=True)).all()
        if not found:
            return None
        row, meetings = found[0][0], [m for _, m in found if m is not None]
        self._rows[booking_id] = (row, meetings)
        if for_update and postgres:
            self._locked.add(booking_id)
        return mapping.booking(row, meetings)

    def with_parties(self, booking_id: int, *, for_update: bool = False) -> BookingParties | None:
        """The booking, its expert and its client (None if any of them is missing): one query, or none for
        what this unit of work already holds. `for_update`: as get(for_update=True), the booking read under
        its row lock on PostgreSQL, so the engine's get(for_update=True) after it needs no second read."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        known = self._rows.get(booking_id)
        if known is not None and not (for_update and postgres and booking_id not in self._locked):
            booking = mapping.booking(*known)
            expert_row = loaded(self.session, ExpertRow, booking.expert_id)
            expert_person = loaded(self.session, PersonRow, expert_row.person_id) if expert_row is not None else None
            client = loaded(self.session, PersonRow, booking.client_id)
            if expert_person is not None and client is not None:
                return BookingParties(booking, mapping.expert(expert_row, expert_person), mapping.person(client))
        expert_person_row, client_row = aliased(PersonRow), aliased(PersonRow)
        query = (
            select(BookingRow, MeetingRow, ExpertRow, expert_person_row, client_row)
            .join(ExpertRow, ExpertRow.id == BookingRow.expert_id)
            .join(expert_person_row, expert_person_row.id == ExpertRow.person_id)
            .join(client_row, client_row.id == BookingRow.client_id)
            .outerjoin(MeetingRow, MeetingRow.booking_id == BookingRow.id)
            .where(BookingRow.id == booking_id)
            .execution_options(populate_existing=True)
        )
        if for_update and postgres:
            query = query.with_for_update(of=BookingRow)
        found = self.session.execute(query).all()
        if not found:
            return None
        row, _, expert, expert_person, client = found[0]
        meetings = [m for _, m, *_ in found if m is not None]
        self._rows[booking_id] = (row, meetings)
        if for_update and postgres:
            self._locked.add(booking_id)
        return BookingParties(mapping.booking(row, meetings), mapping.expert(expert, expert_person),
                              mapping.person(client))

    def save(self, booking: Booking) -> None:
        """Write back; the version column makes a lost update raise StaleDataError."""
        assert booking.id is not None
        known = self._rows.get(booking.id)
        row = known[0] if known is not None else self.session.get(BookingRow, booking.id)
        if row is None:
            raise KeyError(booking.id)
        mapping.booking_into(row, booking)
        flag_modified(row, "status")  # always bump the version, even when only meetings changed
        # keyed for Meeting.id, which is None before a meeting is saved (and then finds nothing)
        by_id: dict[int | None, MeetingRow]
        if known is not None:
            by_id = {m.id: m for m in known[1]}
        else:
            by_id = {m.id: m for m in self.session.scalars(select(MeetingRow).where(MeetingRow.booking_id == booking.id))}
        # The overlap guard checks every row as it is written, so meetings of one session that move
        # onto each other's old times (10:00 -> 11:00 while 11:00 -> 12:00) are written one by one,
        # in an order in which no intermediate state overlaps.
        for meeting in sorted(booking.meetings, key=lambda m: _write_order(m, by_id[m.id])):
            mapping.meeting_into(by_id[meeting.id], meeting)
            self.session.flush()
        self.session.flush()
        booking.version = row.version
        self._rows[booking.id] = (_settled(row), [_settled(m) for m in by_id.values()])

    def due_for_expiry(self, now: datetime, limit: int = 500) -> list[int]:
        return list(self.session.scalars(
            select(BookingRow.id).where(
                BookingRow.status.in_([s.value for s in OPEN_BOOKING_STATUSES]), BookingRow.expires_at <= now
            ).order_by(BookingRow.expires_at).limit(limit)
        ))

    def ended_unfinished(self, now: datetime, limit: int = 500) -> list[int]:
        return list(self.session.scalars(
            select(MeetingRow.booking_id).join(BookingRow, BookingRow.id == MeetingRow.booking_id).where(
                BookingRow.status == BookingStatus.ACCEPTED.value,
                MeetingRow.status == MeetingStatus.CONFIRMED.value, MeetingRow.ends_at <= now,
            ).distinct().limit(limit)
        ))

    def starting_between(
        self, start: datetime, end: datetime, *, after: tuple[datetime, int] | None = None, limit: int = 2000,
    ) -> list[tuple[int, int, datetime]]:
        """(booking id, meeting id, start) of confirmed meetings of accepted bookings starting in [start, end),
        a page at a time: pass the last (start, meeting id) seen as `after` for the next page."""
        query = (
            select(MeetingRow.booking_id, MeetingRow.id, MeetingRow.starts_at)
            .join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .where(BookingRow.status == BookingStatus.ACCEPTED.value, MeetingRow.status == MeetingStatus.CONFIRMED.value,
                   MeetingRow.starts_at >= start, MeetingRow.starts_at < end)
        )
        if after is not None:
            query = query.where(tuple_(MeetingRow.starts_at, MeetingRow.id) > tuple_(literal(after[0]), literal(after[1])))
        rows = self.session.execute(query.order_by(MeetingRow.starts_at, MeetingRow.id).limit(limit))
        return [(b, m, at) for b, m, at in rows]

    def confirmed_start(self, meeting_id: int) -> datetime | None:
        """When this meeting starts, if it is still a confirmed meeting of an accepted booking."""
        return self.session.scalar(
            select(MeetingRow.starts_at).join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .where(MeetingRow.id == meeting_id, BookingRow.status == BookingStatus.ACCEPTED.value,
                   MeetingRow.status == MeetingStatus.CONFIRMED.value))

    def for_person(self, person_id: int) -> list[Booking]:
        """Bookings where the person is the client or the expert, soonest first."""
        expert_id = self.session.scalar(select(ExpertRow.id).where(ExpertRow.person_id == person_id))
        rows = list(self.session.scalars(
            select(BookingRow).where(or_(BookingRow.client_id == person_id, BookingRow.expert_id == expert_id))
            .order_by(BookingRow.id)
        ))
        return sorted(self._with_meetings(rows), key=lambda b: b.first_start)

    def awaiting_triage(self, limit: int, programme_ids: Collection[int] | None = None) -> list[Booking]:
        """The oldest requests waiting for programme staff, with their meetings (two queries).
        programme_ids: only these programmes' (a staff member's, core.staff_access.staff_programmes);
        None reads every programme (the operator's view; a staff conversation must pass its programmes)."""
        query = select(BookingRow).where(BookingRow.status == BookingStatus.AWAITING_TRIAGE.value)
        if programme_ids is not None:
            query = query.where(BookingRow.programme_id.in_(sorted(programme_ids)))
        rows = list(self.session.scalars(query.order_by(BookingRow.created_at, BookingRow.id).limit(limit)))
        return self._with_meetings(rows)

    def awaiting_triage_count(self, programme_ids: Collection[int] | None = None) -> int:
        query = select(func.count()).select_from(BookingRow).where(
            BookingRow.status == BookingStatus.AWAITING_TRIAGE.value)
        if programme_ids is not None:
            query = query.where(BookingRow.programme_id.in_(sorted(programme_ids)))
        return self.session.scalar(query) or 0

    def _with_meetings(self, rows: Sequence[BookingRow]) -> list[Booking]:
        """Rows to bookings, their meetings loaded in one query for all of them."""
        meetings: dict[int, list[MeetingRow]] = defaultdict(list)
        if rows:
            for m in self.session.scalars(select(MeetingRow).where(MeetingRow.booking_id.in_([r.id for r in rows]))):
                meetings[m.booking_id].append(m)
        return [mapping.booking(r, meetings[r.id]) for r in rows]

    def sessions_between(self, client_id: int, expert_id: int) -> int:
        return self.session.scalar(
            select(func.count()).select_from(BookingRow).where(
                BookingRow.client_id == client_id, BookingRow.expert_id == expert_id,
                BookingRow.status.in_([BookingStatus.ACCEPTED.value, BookingStatus.COMPLETED.value]),
            )
        ) or 0

    def credits_returned(self, booking_ids: Iterable[int]) -> dict[str, int]:
        """Movement key -> millicredits, for the releases and refunds of these bookings (one query).

        The keys say what came back: "release:<booking>" for a request that closed without a meeting,
        "refund:meeting:<meeting>" for a meeting given back by policy.
        """
        wanted = sorted(set(booking_ids))
        if not wanted:
            return {}
        found = self.session.execute(
            select(CreditMovementRow.key, CreditMovementRow.amount).where(
                CreditMovementRow.booking_id.in_(wanted),
                CreditMovementRow.kind.in_([Movement.RELEASE.value, Movement.REFUND.value]),
            )
        )
        return {key: amount for key, amount in found}

    def has_review(self, booking_id: int, author_id: int) -> bool:
        return self.session.scalar(
            select(ReviewRow.id).where(ReviewRow.booking_id == booking_id, ReviewRow.author_id == author_id)
        ) is not None

    def reviewed_by(self, author_id: int, booking_ids: Iterable[int]) -> set[int]:
        """Which of these bookings the person has already reviewed (one query)."""
        wanted = sorted(set(booking_ids))
        if not wanted:
            return set()
        return set(self.session.scalars(
            select(ReviewRow.booking_id).where(ReviewRow.author_id == author_id, ReviewRow.booking_id.in_(wanted))
        ))

    def reviews_for(self, booking_ids: Iterable[int]) -> dict[int, list[Review]]:
        """Booking id -> its reviews (both sides', oldest first), in one query."""
        wanted = sorted(set(booking_ids))
        found: dict[int, list[Review]] = defaultdict(list)
        if wanted:
            for row in self.session.scalars(
                select(ReviewRow).where(ReviewRow.booking_id.in_(wanted)).order_by(ReviewRow.id)
            ):
                found[row.booking_id].append(_review(row))
        return dict(found)

    def add_review(self, review: Review) -> int | None:
        if self.has_review(review.booking_id, review.author_id):
            return None
        row = ReviewRow(
            booking_id=review.booking_id, author_id=review.author_id, stars=review.stars, text=review.text,
            private_note=review.private_note, created_at=self.clock.now(),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def review(self, review_id: int) -> Review | None:
        row = self.session.get(ReviewRow, review_id)
        return _review(row) if row is not None else None

    def public_reviews(self, expert_id: int, limit: int) -> list[Review]:
        rows = self.session.execute(
            select(ReviewRow.id, ReviewRow.booking_id, ReviewRow.author_id, ReviewRow.stars, ReviewRow.text,
                   ReviewRow.created_at, ReviewRow.answer, ReviewRow.answered_at)
            .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
            .where(BookingRow.expert_id == expert_id, ReviewRow.author_id == BookingRow.client_id,
                   ReviewRow.hidden_at.is_(None), ReviewRow.text != "")
            .order_by(ReviewRow.created_at.desc(), ReviewRow.id.desc()).limit(limit)
        ).all()
        return [Review(r.booking_id, r.author_id, r.stars, r.text, id=r.id, created_at=r.created_at, answer=r.answer,
                       answered_at=r.answered_at) for r in rows]

    def answer_review(self, review_id: int, answer: str, at: datetime) -> bool:
        done = self.session.execute(
            update(ReviewRow).where(ReviewRow.id == review_id, ReviewRow.answered_at.is_(None))
            .values(answer=answer, answered_at=at)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def hide_review(self, review_id: int, staff_id: int, at: datetime) -> bool:
        done = self.session.execute(
            update(ReviewRow).where(ReviewRow.id == review_id, ReviewRow.hidden_at.is_(None))
            .values(hidden_at=at, hidden_by=staff_id)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def next_series_id(self) -> int:
        row = SeriesRow(created_at=self.clock.now())
        self.session.add(row)
        self.session.flush()
        return row.id

    def in_series(self, series_id: int) -> list[Booking]:
        ids = self.session.scalars(select(BookingRow.id).where(BookingRow.series_id == series_id).order_by(BookingRow.id))
        return [b for b in (self.get(i, for_update=True) for i in list(ids)) if b is not None]


def _review(row: ReviewRow) -> Review:
    return Review(row.booking_id, row.author_id, row.stars, row.text, row.private_note, id=row.id,
                  created_at=row.created_at, answer=row.answer, answered_at=row.answered_at, hidden_at=row.hidden_at,
                  hidden_by=row.hidden_by)
_T = TypeVar("_T", BookingRow, MeetingRow)


def _settled(row: _T) -> _T:
    """Instants as a read gives them back (aware UTC), whatever zone they were written in: a booking
    remembered from its write reads exactly like one loaded from the database."""
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, datetime) and value.tzinfo is not UTC:
            set_committed_value(row, column.key, value.astimezone(UTC))
    return row


def _write_order(meeting: Meeting, row: MeetingRow) -> tuple[int, float]:
    """Meetings leaving the slot first, then those moving earlier (earliest first), then later (latest first)."""
    if not meeting.active:
        return (0, 0.0)
    if meeting.start < row.starts_at:
        return (1, meeting.start.timestamp())
    if meeting.start > row.starts_at:
        return (2, -meeting.start.timestamp())
    return (3, 0.0)
