"""Shared steps of the calendar tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from bot.calendars import service
from bot.calendars.sync import CalendarSync
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.settings import CalendarSettings
from core.availability import free_slots
from storage.models import OutboxRow


def sync(uow, clock, settings: CalendarSettings) -> CalendarSync:  # type: ignore[no-untyped-def]
    dispatcher = Dispatcher(uow, clock, all_flows(), Router(["console"]))
    return CalendarSync(uow, clock, settings, queue_notice=dispatcher.queue_notice)


def connect_feed(uow, clock, person_id: int, url: str, settings: CalendarSettings) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        status = service.connect_feed(u, clock, person_id, url, settings=settings)
        u.commit()
    return status.id


def slots(uow, clock, expert_id: int, minutes: int = 30) -> list[datetime]:  # type: ignore[no-untyped-def]
    now = clock.now()
    with uow() as u:
        schedule = u.experts.schedule(expert_id)
        busy = u.experts.busy(expert_id, now - timedelta(days=1), now + schedule.rules.horizon + timedelta(days=1))
    return free_slots(schedule, busy, timedelta(minutes=minutes), now)


def notices(uow, marker: str) -> list[SimpleNamespace]:  # type: ignore[no-untyped-def]
    """Outbox rows whose key holds `marker`: key, person_id, payload."""
    with uow() as u:
        return [SimpleNamespace(key=r.key, person_id=r.person_id, payload=r.payload)
                for r in u.session.scalars(select(OutboxRow).order_by(OutboxRow.id)) if marker in r.key]


def utc(*args: int) -> datetime:
    from datetime import UTC

    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
