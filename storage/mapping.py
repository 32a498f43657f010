"""Rows to core records and back. The only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from core.amounts import Money
from core.experts import Expert, ExpertKind, MeetingLink, MeetingProvider, Rating
from core.lifecycle import BookingStatus, MeetingStatus, PairingMode
from core.model import Booking, Company, Meeting, Person, Programme
from core.schedule import BookingRules, DateException, ExceptionKind, Schedule, WeeklyWindow
from core.sessions import SessionDetails, SessionRules
from storage.models import (
    BookingRow,
    CompanyRow,
    ExpertRow,
    MeetingRow,
    PersonRow,
    ProgrammeRow,
)


def person(row: PersonRow | Row[Any]) -> Person:
    """From an ORM row, or from a plain row of the persons table (a large import reads those)."""
    return Person(
        id=row.id, handle=row.handle, name=row.name, timezone=row.timezone, locale=row.locale, email=row.email,
        slack_user_id=row.slack_user_id, telegram_user_id=row.telegram_user_id, is_staff=row.is_staff,
        company_id=row.company_id, email_reminders=row.email_reminders,
    )


def person_values(p: Person) -> dict[str, Any]:
    """A person's columns (all but the id), for a row or a bulk insert."""
    return {"handle": p.handle, "name": p.name, "timezone": p.timezone, "locale": p.locale, "email": p.email,
            "slack_user_id": p.slack_user_id, "telegram_user_id": p.telegram_user_id, "is_staff": p.is_staff,
            "company_id": p.company_id, "email_reminders": p.email_reminders}


def person_into(row: PersonRow, p: Person) -> None:
    for column, value in person_values(p).items():
        if column != "is_staff":
            setattr(row, column, value)
    if row.is_staff is None:  # a new row; afterwards only staff roles change it (SqlProgrammes.set_staff)
        row.is_staff = p.is_staff


def programme(row: ProgrammeRow) -> Programme:
    lengths = tuple(int(x) for x in row.allowed_lengths.split(",") if x)
    return Programme(row.id, row.name, PairingMode(row.pairing_mode), SessionRules(lengths, row.max_meetings),
                     credits_per_founder=row.credits_per_founder or 0, credits_per_company=row.credits_per_company or 0,
                     relay_days=row.relay_days if row.relay_days is not None else 30)


def programme_into(row: ProgrammeRow, p: Programme) -> None:
    row.name, row.pairing_mode = p.name, p.pairing_mode.value
    row.allowed_lengths = ",".join(str(m) for m in p.rules.allowed_lengths)
    row.max_meetings = p.rules.max_meetings
    row.credits_per_founder, row.credits_per_company = p.credits_per_founder, p.credits_per_company
    row.relay_days = p.relay_days


def company(row: CompanyRow) -> Company:
    return Company(row.id, row.name, row.programme_id, row.credits_milli)


def expert(row: ExpertRow, person_row: PersonRow) -> Expert:
    money = Money(row.hourly_rate_minor, row.currency) if row.hourly_rate_minor is not None and row.currency else None
    return Expert(
        id=row.id, person_id=row.person_id, handle=person_row.handle, name=person_row.name,
        timezone=person_row.timezone, kind=ExpertKind(row.kind), headline=row.headline, bio=row.bio,
        topics=tuple(t for t in row.topics.split("\n") if t),
        languages=tuple(x for x in row.languages.split(",") if x),
        rate_multiplier=Decimal(row.rate_multiplier), hourly_rate=money,
        meeting_link=MeetingLink(MeetingProvider(row.meeting_provider), row.meeting_url),
        rating=Rating(row.rating_sum, row.rating_count), session_count=row.session_count,
        paused_at=row.paused_at,
    )


def expert_values(e: Expert, booking_rules: BookingRules) -> dict[str, Any]:
    """An expert's profile and booking rules as columns (not the id, person or counters)."""
    return {
        "kind": e.kind.value, "headline": e.headline, "bio": e.bio, "topics": "\n".join(e.topics),
        "languages": ",".join(e.languages), "rate_multiplier": e.rate_multiplier,
        "hourly_rate_minor": e.hourly_rate.minor if e.hourly_rate else None,
        "currency": e.hourly_rate.currency if e.hourly_rate else None,
        "meeting_provider": e.meeting_link.provider.value, "meeting_url": e.meeting_link.url,
        "min_notice_minutes": int(booking_rules.min_notice.total_seconds() // 60),
        "horizon_days": booking_rules.horizon.days,
        "buffer_minutes": int(booking_rules.buffer.total_seconds() // 60),
        "daily_cap": booking_rules.daily_cap,
    }


def expert_into(row: ExpertRow, e: Expert, booking_rules: BookingRules) -> None:
    for column, value in expert_values(e, booking_rules).items():
        setattr(row, column, value)


def rules(row: Any) -> BookingRules:
    """From an ExpertRow or a plain row with the same column names."""
    return BookingRules(
        min_notice=timedelta(minutes=row.min_notice_minutes), horizon=timedelta(days=row.horizon_days),
        buffer=timedelta(minutes=row.buffer_minutes), daily_cap=row.daily_cap,
    )


def schedule(timezone: str, row: Any, windows: Iterable[Any], exceptions: Iterable[Any]) -> Schedule:
    """From rows (ORM or plain) carrying the columns of experts, weekly_windows and availability_exceptions."""
    return Schedule(
        timezone=timezone,
        # Sorted as plain tuples: comparing dataclasses is slow, and this runs for every search candidate.
        weekly=tuple(WeeklyWindow(*k) for k in sorted((w.weekday, w.start_minute, w.end_minute) for w in windows)),
        exceptions=tuple(
            sorted(DateException(x.day, ExceptionKind(x.kind), x.start_minute, x.end_minute) for x in exceptions)
        ),
        rules=rules(row),
    )


def meeting(row: MeetingRow) -> Meeting:
    return Meeting(
        id=row.id, start=row.starts_at, end=row.ends_at, price_milli=row.price_milli,
        status=MeetingStatus(row.status), reschedule_count=row.reschedule_count, ics_sequence=row.ics_sequence,
    )


def booking(row: BookingRow, meetings: list[MeetingRow]) -> Booking:
    return Booking(
        id=row.id, client_id=row.client_id, expert_id=row.expert_id, status=BookingStatus(row.status),
        details=SessionDetails(
            row.title, row.outcome, row.context, row.intro_note, tuple(a for a in row.attachments.split("\n") if a)
        ),
        meetings=[meeting(m) for m in sorted(meetings, key=lambda m: (m.starts_at, m.id))],
        price_milli=row.price_milli, created_at=row.created_at, expires_at=row.expires_at,
        programme_id=row.programme_id, money_minor=row.money_minor, currency=row.currency, series_id=row.series_id,
        decided_at=row.decided_at, decline_reason=row.decline_reason, proposed_by_expert=row.proposed_by_expert,
        version=row.version,
    )


def booking_into(row: BookingRow, b: Booking) -> None:
    row.status = b.status.value
    row.title, row.outcome, row.context, row.intro_note = (
        b.details.title, b.details.outcome, b.details.context, b.details.intro_note,
    )
    row.attachments = "\n".join(b.details.attachments)
    row.expires_at, row.decided_at = b.expires_at, b.decided_at
    row.decline_reason, row.proposed_by_expert = b.decline_reason, b.proposed_by_expert


def meeting_into(row: MeetingRow, m: Meeting) -> None:
    row.starts_at, row.ends_at, row.status = m.start, m.end, m.status.value
    row.price_milli, row.reschedule_count, row.ics_sequence = m.price_milli, m.reschedule_count, m.ics_sequence
