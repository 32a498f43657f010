"""A guided walk through one booking on the demo data, inside a transaction that is rolled back.

Until the console chat arrives this is what `./dev run` shows: search, slots in
two timezones, a request holding credits, the expert accepting, a cancellation
with its refund.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from core import booking_service as bookings
from core.amounts import format_credits
from core.availability import free_slots
from core.credit_service import balance
from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import search_experts
from core.sessions import MeetingRequest, SessionDetails
from storage.uow import SqlUnitOfWork
from zoneinfo import ZoneInfo


def run_tour(uow: SqlUnitOfWork, say: Callable[[str], None]) -> int:
    with uow:
        ana = uow.people.by_handle("ana")
        if ana is None or ana.id is None:
            say("no demo data: run `headstrt demo` first")
            return 1

        def credits() -> str:
            bal = balance(uow, ana.id or 0)
            return f"{format_credits(bal.available)} available, {format_credits(bal.held)} held"

        def local(at: datetime, tz: str) -> str:
            return f"{at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M} {tz}"

        say(f"1. @{ana.handle} ({ana.timezone}) searches for 'fundraising pitch deck', paid experts, free this week:")
        matches = search_experts(uow.experts, uow.clock, SearchQuery("fundraising pitch deck", SearchFilters(pro_bono=False, free_within_days=7), 3))
        if not matches:
            say("   nobody matches; the demo data may be missing")
            return 1
        for m in matches:
            nxt = local(m.hit.next_free, ana.timezone) if m.hit.next_free else "-"
            say(f"   @{m.expert.handle}: {m.expert.headline} (score {m.hit.score}, next free {nxt})")
        expert = matches[0].expert
        assert expert.id is not None
        now = uow.clock.now()
        slots = free_slots(uow.experts.schedule(expert.id), uow.experts.busy(expert.id, now, now + timedelta(days=8)),
                           timedelta(minutes=30), now, end=now + timedelta(days=7))
        say(f"2. {expert.name}'s first 30-minute slots, in Ana's time and the expert's:")
        for slot in slots[:3]:
            say(f"   {local(slot, ana.timezone)}  (expert: {local(slot, expert.timezone)})")
        far = [s for s in slots if s - now >= timedelta(hours=25)] or slots
        say(f"   Ana's credits: {credits()}")
        booking = bookings.request_booking(
            uow, uow.clock, client_id=ana.id, expert_id=expert.id, meetings=[MeetingRequest(far[0], 30)],
            details=SessionDetails("Seed round narrative", "A pitch-deck storyline I can test with 5 investors"),
            policy=bookings.DEFAULT_POLICY,
        )
        say(f"3. Ana requests {local(far[0], ana.timezone)}: costs {format_credits(booking.price_milli)} credits, "
            f"held until {expert.name} answers (expires {local(booking.expires_at, ana.timezone)}). Credits: {credits()}")
        assert booking.id is not None
        bookings.accept(uow, uow.clock, booking_id=booking.id, actor_id=expert.person_id or 0)
        say(f"4. {expert.name} accepts: the hold is spent. Credits: {credits()}")
        meeting_id = booking.meetings[0].id or 0
        preview = bookings.cancellation_preview(uow, uow.clock, policy=bookings.DEFAULT_POLICY, booking_id=booking.id,
                                                meeting_id=meeting_id, actor_id=ana.id)
        say(f"5. Ana asks to cancel: policy says '{preview.code}', refund {format_credits(preview.refund_milli)} credits")
        bookings.cancel_meeting(uow, uow.clock, policy=bookings.DEFAULT_POLICY, booking_id=booking.id,
                                                meeting_id=meeting_id, actor_id=ana.id)
        say(f"   cancelled. Credits: {credits()}")
        say("Nothing was saved: the tour runs in a transaction it rolls back. The chat arrives with the console adapter.")
        uow.rollback()
    return 0
