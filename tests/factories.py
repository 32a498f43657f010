"""Small builders for test data, written against the real repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.amounts import credits_to_milli
from core.credit_service import grant
from core.credits import Source
from core.experts import Expert, ExpertKind
from core.lifecycle import PairingMode
from core.model import Person, Programme
from core.schedule import BookingRules, Schedule, WeeklyWindow
from core.sessions import SessionRules
from storage.uow import SqlUnitOfWork

# A Monday morning well in the future, far from any DST change in most zones.
T0 = datetime(2030, 3, 4, 6, 0, tzinfo=UTC)
WEEKDAYS_9_TO_17 = tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5))


def person(uow: SqlUnitOfWork, handle: str, *, tz: str = "Europe/London", company_id: int | None = None) -> Person:
    return uow.people.add(Person(None, handle, handle.title(), timezone=tz, company_id=company_id))


def staff(uow: SqlUnitOfWork, handle: str, *programme_ids: int, tz: str = "Europe/London") -> Person:
    """Staff of exactly these programmes (staff reach nothing else)."""
    p = person(uow, handle, tz=tz)
    assert p.id is not None
    uow.programmes.set_staff(p.id, frozenset(programme_ids))
    found = uow.people.get(p.id)
    assert found is not None
    return found


def expert(uow: SqlUnitOfWork, handle: str, *, tz: str = "Europe/London", paid: bool = True,
           multiplier: str = "1", weekly: tuple[WeeklyWindow, ...] = WEEKDAYS_9_TO_17,
           rules: BookingRules | None = None, topics: tuple[str, ...] = ("Fundraising",),
           headline: str = "", bio: str = "", languages: tuple[str, ...] = ("en",)) -> Expert:
    p = person(uow, handle, tz=tz)
    return uow.experts.put(
        Expert(None, p.id, handle, handle.title(), tz, ExpertKind.COMPENSATED if paid else ExpertKind.PRO_BONO,
               headline=headline, bio=bio, topics=topics, languages=languages, rate_multiplier=Decimal(multiplier)),
        Schedule(tz, weekly, (), rules or BookingRules()),
    )


def programme(uow: SqlUnitOfWork, name: str = "Accelerator", mode: PairingMode = PairingMode.SELF_SELECT,
              lengths: tuple[int, ...] = (15, 30, 45, 60, 75, 90)) -> Programme:
    return uow.people.add_programme(Programme(0, name, mode, SessionRules(allowed_lengths=lengths)))


def credits(uow: SqlUnitOfWork, *, amount: str, source: Source = Source.INDIVIDUAL, person_id: int | None = None,
            company_id: int | None = None, key: str | None = None) -> None:
    grant(uow, key=key or f"test:{source}:{person_id}:{company_id}:{amount}", amount_milli=credits_to_milli(amount),
          source=source, person_id=person_id, company_id=company_id)


def grant_once(uow: SqlUnitOfWork, *, person_id: int | None, key: str, amount: str = "1") -> bool:
    return grant(uow, key=key, amount_milli=credits_to_milli(amount), source=Source.INDIVIDUAL, person_id=person_id)


def unsent(uow, platform: str) -> int:  # type: ignore[no-untyped-def]
    """Outbox rows for a platform still waiting to go out (not sent, not given up)."""
    from sqlalchemy import func, select

    from storage.models import OutboxRow

    with uow() as u:
        return int(u.session.scalar(
            select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.platform == platform, OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None))
        ) or 0)
