"""The waitlist as data and pure rules: a client waits for an expert's time (of one length, optionally
earlier than an instant); freed time is offered to the first waiting client it fits, for a while, then to
the next. Nothing is held by an offer: the slot is checked again when the client presses Book and when
they confirm (see the README for why)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.availability import free_slots
from core.events import TimeFreed
from core.schedule import SLOT_GRID, Busy, Schedule

OFFER_TIME = timedelta(minutes=15)  # how long one client has the first go at a freed slot


class OfferStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"  # the client booked it
    DECLINED = "declined"  # "No thanks"
    LAPSED = "lapsed"  # not answered in time
    WITHDRAWN = "withdrawn"  # the client left the waitlist while it was open


@dataclass(frozen=True, slots=True)
class WaitEntry:
    """One client waiting for one expert. `before`: only times starting before it will do."""

    id: int | None
    client_id: int
    expert_id: int
    minutes: int
    created_at: datetime
    before: datetime | None = None


@dataclass(frozen=True, slots=True)
class WaitOffer:
    id: int | None
    expert_id: int
    client_id: int
    start: datetime
    minutes: int
    created_at: datetime
    expires_at: datetime
    status: OfferStatus = OfferStatus.OPEN
    closed_at: datetime | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    def live(self, now: datetime) -> bool:
        """Open and still within its time: only then may the client take it, and nobody else is offered it."""
        return self.status is OfferStatus.OPEN and now < self.expires_at


def fits(entry: WaitEntry, start: datetime) -> bool:
    return entry.before is None or start < entry.before


def pick_slot(
    entry: WaitEntry, schedule: Schedule, busy: Sequence[Busy], now: datetime, *, offered: Collection[datetime],
) -> datetime | None:
    """The earliest free start of the entry's length that fits its wish and was never offered to this client
    (an offer ignored or declined is not made again). `busy` includes what is on offer to others."""
    end = entry.before - timedelta(seconds=1) if entry.before is not None else None  # free_slots' end is inclusive
    slots = free_slots(schedule, busy, timedelta(minutes=entry.minutes), now, end=end, step=SLOT_GRID,
                       limit=len(offered) + 1)
    return next((s for s in slots if s not in offered and fits(entry, s)), None)


def time_freed(expert_id: int, start: datetime | None = None, end: datetime | None = None) -> TimeFreed:
    """The event that wakes the waitlist. The span is for the record: the whole free schedule is matched."""
    return TimeFreed(expert_id=expert_id, start=start, end=end)
