"""The waitlist's use cases: join, leave, and what happens when time frees up.

The booking engine and the availability flow record a "time_freed" event wherever an expert's time opens
(a cancellation, a move, a hold released, new hours); whoever turns a unit of work's events into messages
calls react() first, in the same transaction, so the offers and their notices commit with the change that
freed the time. An offer that runs out (the scheduler's lapse()) or is declined goes to the next in line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.booking_service import session_rules_for, visible_expert_ids
from core.clock import Clock
from core.errors import InvalidSession, InvalidTransition, NotAllowed, NotFound
from core.events import Event, TimeFreed, WaitlistOffer
from core.ports import UnitOfWork
from core.schedule import Busy
from core.sessions import lengths_for
from core.waitlist import (
    OFFER_TIME,
    OfferStatus,
    WaitEntry,
    WaitOffer,
    pick_slot,
    time_freed,
)

_MARGIN = timedelta(days=1)  # busy time around the horizon, for buffers and the daily cap


def schedule_changed(uow: UnitOfWork, expert_id: int) -> None:
    """An expert changed their hours or days off: there may be new time to offer."""
    uow.events.append(time_freed(expert_id))


# ---------------------------------------------------------------- joining and leaving


@dataclass(frozen=True, slots=True)
class Joined:
    entry: WaitEntry
    position: int  # 1 = first in line
    events: tuple[Event, ...]  # an offer made at once, when something fitting is free right now


def join(
    uow: UnitOfWork, clock: Clock, *, client_id: int, expert_id: int, minutes: int, before: datetime | None = None,
) -> Joined:
    """One entry per client per expert: joining again changes the wish and keeps the place in line."""
    now = clock.now()
    client = uow.people.get(client_id)
    expert = uow.experts.get(expert_id)
    if client is None or expert is None:
        raise NotFound("no such client or expert", reason="expert_not_found")
    if expert.person_id == client_id:
        raise NotAllowed("experts cannot book themselves", reason="self_booking")
    visible = visible_expert_ids(uow, client)
    if visible is not None and expert_id not in visible:
        raise NotAllowed("not assigned to this company", reason="not_assigned")
    if minutes not in lengths_for(expert, session_rules_for(uow, client)):
        raise InvalidSession(f"{minutes} minutes is not offered", reason="bad_length")
    if before is not None and before <= now:
        before = None  # "earlier than" a time already past: any time will do
    current = uow.waitlist.entry(client_id, expert_id)
    entry = uow.waitlist.put_entry(WaitEntry(current.id if current else None, client_id, expert_id, minutes,
                                             current.created_at if current else now, before))
    line = uow.waitlist.entries_of_expert(expert_id)
    position = next((n for n, e in enumerate(line, start=1) if e.id == entry.id), len(line))
    return Joined(entry, position, tuple(match(uow, clock, expert_id)))


def leave(uow: UnitOfWork, clock: Clock, *, client_id: int, expert_id: int) -> tuple[bool, list[Event]]:
    """Off the list; an offer still open for them goes to the next in line. False: they were not on it."""
    entry = uow.waitlist.entry(client_id, expert_id)
    if entry is None:
        return False, []
    uow.waitlist.remove_entry(client_id, expert_id)
    now = clock.now()
    had_offer = False
    for offer in uow.waitlist.offers_of_expert(expert_id, [client_id]):
        if offer.status is OfferStatus.OPEN and offer.id is not None:
            uow.waitlist.close_offer(offer.id, OfferStatus.WITHDRAWN, now)
            had_offer = had_offer or offer.live(now)
    return True, (match(uow, clock, expert_id) if had_offer else [])


def entries_of(uow: UnitOfWork, client_id: int) -> list[WaitEntry]:
    return uow.waitlist.entries_of_client(client_id)


# ---------------------------------------------------------------- offering freed time


def react(uow: UnitOfWork, clock: Clock, events: Iterable[Event]) -> list[Event]:
    """Freed time in these events becomes offers (returned as events, each for one client)."""
    experts: dict[int, None] = {}
    for event in events:
        if isinstance(event, TimeFreed):
            experts[event.expert_id] = None
    out: list[Event] = []
    for expert_id in experts:
        out += match(uow, clock, expert_id)
    return out


def match(uow: UnitOfWork, clock: Clock, expert_id: int, *, skip_client: int | None = None) -> list[Event]:
    """Offer free time to everyone waiting for this expert who has no live offer, first in line first: each
    the earliest free start of their length that fits their wish, never one offered to them before nor one on
    offer to someone else. `skip_client`: the one whose offer just ended waits for the next opening."""
    line = uow.waitlist.entries_of_expert(expert_id)
    if not line:
        return []  # the common case: one query
    expert = uow.experts.get(expert_id)
    if expert is None or expert.paused_at is not None:
        return []
    now = clock.now()
    uow.experts.lock(expert_id)  # bookings of this expert wait: what is free stays free while we offer it
    offers = uow.waitlist.offers_of_expert(expert_id, [e.client_id for e in line])
    for stale in (o for o in offers if o.status is OfferStatus.OPEN and not o.live(now) and o.id is not None):
        uow.waitlist.close_offer(stale.id or 0, OfferStatus.LAPSED, now)  # passed on right here
    live = [o for o in offers if o.live(now)]
    has_offer = {o.client_id for o in live}
    offered: dict[int, set[datetime]] = {}
    for o in offers:
        offered.setdefault(o.client_id, set()).add(o.start)
    schedule, busy = uow.experts.availability(expert_id, now - _MARGIN, now + _horizon(uow, expert_id) + _MARGIN)
    taken: list[Busy] = [*busy, *(Busy(o.start, o.end, counts_toward_cap=False) for o in live)]
    events: list[Event] = []
    for entry in line:
        if entry.client_id in has_offer or entry.client_id == skip_client:
            continue
        start = pick_slot(entry, schedule, taken, now, offered=offered.get(entry.client_id, set()))
        if start is None:
            continue
        offer = uow.waitlist.add_offer(WaitOffer(None, expert_id, entry.client_id, start, entry.minutes, now,
                                                 now + OFFER_TIME))
        taken.append(Busy(offer.start, offer.end, counts_toward_cap=False))
        assert offer.id is not None
        events.append(WaitlistOffer(offer_id=offer.id, client_id=offer.client_id, expert_id=expert_id, start=offer.start,
                                    minutes=offer.minutes, expires_at=offer.expires_at))
    return events


def _horizon(uow: UnitOfWork, expert_id: int) -> timedelta:
    return uow.experts.schedule(expert_id).rules.horizon


def lapse(uow: UnitOfWork, clock: Clock, *, offer_id: int) -> list[Event]:
    """An offer nobody answered in time: closed, and the time goes to the next in line. Nothing if it was
    answered (or closed) meanwhile, so a job that runs twice passes nothing on twice."""
    now = clock.now()
    offer = uow.waitlist.offer(offer_id, for_update=True)
    if offer is None or offer.status is not OfferStatus.OPEN or now < offer.expires_at:
        return []
    uow.waitlist.close_offer(offer_id, OfferStatus.LAPSED, now)
    return match(uow, clock, offer.expert_id, skip_client=offer.client_id)


def _own_offer(uow: UnitOfWork, offer_id: int, client_id: int) -> WaitOffer:
    offer = uow.waitlist.offer(offer_id, for_update=True)
    if offer is None or offer.client_id != client_id:
        raise NotFound(f"no offer {offer_id} for this person", reason="offer_not_found")
    return offer


def decline_offer(uow: UnitOfWork, clock: Clock, *, offer_id: int, client_id: int) -> tuple[WaitOffer, list[Event]]:
    """"No thanks": the next in line gets it now; the client stays on the list for the next opening."""
    now = clock.now()
    offer = _own_offer(uow, offer_id, client_id)
    if not offer.live(now):
        raise InvalidTransition("this offer is no longer open", reason="offer_expired", offer=offer)
    uow.waitlist.close_offer(offer_id, OfferStatus.DECLINED, now)
    return offer, match(uow, clock, offer.expert_id, skip_client=client_id)


def open_offer(uow: UnitOfWork, clock: Clock, *, offer_id: int, client_id: int) -> WaitOffer:
    """Book pressed on an offer: it must still be theirs and within its time (the slot itself is checked by
    the booking, as for any other time)."""
    offer = _own_offer(uow, offer_id, client_id)
    if offer.status is OfferStatus.TAKEN:
        raise InvalidTransition("this offer was booked already", reason="offer_taken", offer=offer)
    if not offer.live(clock.now()):
        raise InvalidTransition("this offer has run out", reason="offer_expired", offer=offer)
    return offer


def offer_taken(uow: UnitOfWork, clock: Clock, *, offer_id: int, client_id: int) -> None:
    """The client booked from the offer: it is done, and so is their wait for this expert."""
    offer = uow.waitlist.offer(offer_id, for_update=True)
    if offer is None or offer.client_id != client_id:
        return
    if offer.status is OfferStatus.OPEN:
        uow.waitlist.close_offer(offer_id, OfferStatus.TAKEN, clock.now())
    uow.waitlist.remove_entry(client_id, offer.expert_id)


def due_offers(uow: UnitOfWork, clock: Clock, limit: int = 500) -> Sequence[int]:
    return uow.waitlist.offers_due(clock.now(), limit)
