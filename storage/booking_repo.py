"""Bookings with their meetings, reviews and series."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.clock import Clock
from core.lifecycle import OPEN_BOOKING_STATUSES, BookingStatus, MeetingStatus
from core.model import Booking, Meeting, Review
from storage import mapping
from storage.models import BookingRow, ExpertRow, MeetingRow, ReviewRow, SeriesRow


class SqlBookings:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def add(self, booking: Booking) -> Booking:
        row = BookingRow(
            client_id=booking.client_id, expert_id=booking.expert_id, programme_id=booking.programme_id,
            series_id=booking.series_id, price_milli=booking.price_milli, money_minor=booking.money_minor,
            currency=booking.currency, created_at=booking.created_at,
        )
        mapping.booking_into(row, booking)
        self.session.add(row)
        self.session.flush()
        for meeting in booking.meetings:
            m = MeetingRow(booking_id=row.id, expert_id=booking.expert_id)
            mapping.meeting_into(m, meeting)
            self.session.add(m)
            self.session.flush()
            meeting.id = m.id
        booking.id = row.id
        booking.version = row.version
        return booking

    def get(self, booking_id: int, *, for_update: bool = False) -> Booking | None:
        stmt = select(BookingRow).where(BookingRow.id == booking_id)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self.session.scalar(stmt.execution_options(populate_existing=True))
        if row is None:
            return None
        meetings = list(self.session.scalars(select(MeetingRow).where(MeetingRow.booking_id == booking_id)))
        return mapping.booking(row, meetings)

    def save(self, booking: Booking) -> None:
        """Write back; the version column makes a lost update raise StaleDataError."""
        row = self.session.get(BookingRow, booking.id)
        if row is None:
            raise KeyError(booking.id)
        mapping.booking_into(row, booking)
        flag_modified(row, "status")  # always bump the version, even when only meetings changed
        by_id = {m.id: m for m in self.session.scalars(select(MeetingRow).where(MeetingRow.booking_id == booking.id))}
        # The overlap guard checks every row as it is written, so meetings of one session that move
        # onto each other's old times (10:00 -> 11:00 while 11:00 -> 12:00) are written one by one,
        # in an order in which no intermediate state overlaps.
        for meeting in sorted(booking.meetings, key=lambda m: _write_order(m, by_id[m.id])):
            mapping.meeting_into(by_id[meeting.id], meeting)
            self.session.flush()
        self.session.flush()
        booking.version = row.version

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

    def for_person(self, person_id: int) -> list[Booking]:
        """Bookings where the person is the client or the expert, soonest first."""
        expert_id = self.session.scalar(select(ExpertRow.id).where(ExpertRow.person_id == person_id))
        rows = list(self.session.scalars(
            select(BookingRow).where(or_(BookingRow.client_id == person_id, BookingRow.expert_id == expert_id))
            .order_by(BookingRow.id)
        ))
        meetings: dict[int, list[MeetingRow]] = defaultdict(list)
        if rows:
            for m in self.session.scalars(select(MeetingRow).where(MeetingRow.booking_id.in_([r.id for r in rows]))):
                meetings[m.booking_id].append(m)
        bookings = [mapping.booking(r, meetings[r.id]) for r in rows]
        return sorted(bookings, key=lambda b: b.first_start)

    def sessions_between(self, client_id: int, expert_id: int) -> int:
        return self.session.scalar(
            select(func.count()).select_from(BookingRow).where(
                BookingRow.client_id == client_id, BookingRow.expert_id == expert_id,
                BookingRow.status.in_([BookingStatus.ACCEPTED.value, BookingStatus.COMPLETED.value]),
            )
        ) or 0

    def add_review(self, review: Review) -> bool:
        exists = self.session.scalar(
            select(ReviewRow.id).where(ReviewRow.booking_id == review.booking_id, ReviewRow.author_id == review.author_id)
        )
        if exists is not None:
            return False
        self.session.add(ReviewRow(
            booking_id=review.booking_id, author_id=review.author_id, stars=review.stars, text=review.text,
            private_note=review.private_note, created_at=self.clock.now(),
        ))
        self.session.flush()
        return True

    def next_series_id(self) -> int:
        row = SeriesRow(created_at=self.clock.now())
        self.session.add(row)
        self.session.flush()
        return row.id

    def in_series(self, series_id: int) -> list[Booking]:
        ids = self.session.scalars(select(BookingRow.id).where(BookingRow.series_id == series_id).order_by(BookingRow.id))
        return [b for b in (self.get(i, for_update=True) for i in list(ids)) if b is not None]


def _write_order(meeting: Meeting, row: MeetingRow) -> tuple[int, float]:
    """Meetings leaving the slot first, then those moving earlier (earliest first), then later (latest first)."""
    if not meeting.active:
        return (0, 0.0)
    if meeting.start < row.starts_at:
        return (1, meeting.start.timestamp())
    if meeting.start > row.starts_at:
        return (2, -meeting.start.timestamp())
    return (3, 0.0)
