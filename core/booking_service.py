"""The booking engine's use cases: plain functions over a unit of work and a clock.

Each function checks who may act, asks the pure rules, writes through the
unit of work and records events; the caller commits. Nothing here knows
which chat or database is on the other side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.availability import check_slot, nearest_free_slots
from core.clock import Clock
from core.credits import Movement, net_portions, plan_hold, plan_return
from core.errors import (
    InsufficientCredits,
    InvalidSession,
    InvalidTransition,
    NotAllowed,
    NotFound,
    OffGrid,
    PolicyViolation,
    SlotUnavailable,
)
from core.events import (
    BookingAccepted,
    BookingDeclined,
    BookingExpired,
    BookingRequested,
    BookingTriage,
    BookingWithdrawn,
    MeetingCancelled,
    MeetingCompleted,
    MeetingRescheduled,
    NoShowReported,
    ProposalDeclined,
    ReviewLeft,
    SeriesRequested,
    StaffNoShow,
    TimesProposed,
)
from core.experts import Expert
from core.lifecycle import (
    OPEN_BOOKING_STATUSES,
    BookingStatus,
    MeetingStatus,
    PairingMode,
    initial_status,
    move_booking,
    move_meeting,
)
from core.model import Booking, Meeting, Person, Programme, Review
from core.policy import CancelReason, Consequence, Initiator, NoShowParty, Policy, cancellation, expiry_deadline, no_show, reschedule
from core.ports import UnitOfWork
from core.pricing import meeting_credits_milli, session_price
from core.recurrence import SERIES_REACH, Frequency, OccurrenceCheck, check_series, occurrences
from core.schedule import SLOT_GRID, Busy, Schedule, SlotProblem
from core.sessions import MeetingRequest, SessionDetails, SessionRules, lengths_for, validate_details, validate_meetings
from core.staff import StaffAction
from core.staff_access import is_staff_of, require_any_staff, require_staff
from core.waitlist import time_freed

DEFAULT_POLICY = Policy()
_BUSY_MARGIN = timedelta(days=1)  # enough around a meeting for buffers and the local day's cap


# ---------------------------------------------------------------- look-ups


def _person(uow: UnitOfWork, person_id: int) -> Person:
    person = uow.people.get(person_id)
    if person is None:
        raise NotFound(f"no person {person_id}", reason="person_not_found")
    return person


def _expert(uow: UnitOfWork, expert_id: int) -> Expert:
    expert = uow.experts.get(expert_id)
    if expert is None:
        raise NotFound(f"no expert {expert_id}", reason="expert_not_found")
    return expert


def _booking(uow: UnitOfWork, booking_id: int) -> Booking:
    booking = uow.bookings.get(booking_id, for_update=True)
    if booking is None:
        raise NotFound(f"no booking {booking_id}", reason="booking_not_found")
    return booking


def programme_of(uow: UnitOfWork, person: Person) -> Programme | None:
    if person.company_id is None:
        return None
    company = uow.people.company(person.company_id)
    if company is None or company.programme_id is None:
        return None
    return uow.people.programme(company.programme_id)


def session_rules_for(uow: UnitOfWork, person: Person) -> SessionRules:
    programme = programme_of(uow, person)
    return programme.rules if programme else SessionRules()


def visible_expert_ids(uow: UnitOfWork, person: Person) -> frozenset[int] | None:
    """Admin-assigned programmes show a company only its assigned experts; None means everyone."""
    programme = programme_of(uow, person)
    if programme is None or programme.pairing_mode is not PairingMode.ADMIN_ASSIGNED or person.company_id is None:
        return None
    return uow.people.assigned_experts(person.company_id)


def _actor_role(uow: UnitOfWork, booking: Booking, expert: Expert, actor: Person) -> Initiator:
    if actor.id == booking.client_id:
        return Initiator.CLIENT
    if actor.id == expert.person_id:
        return Initiator.EXPERT
    if is_staff_of(uow, actor.id, booking.programme_id):  # staff of this booking's programme, no other
        return Initiator.STAFF
    raise NotAllowed("only the client, the expert or staff can change this booking", reason="not_a_party")


# ---------------------------------------------------------------- requesting


@dataclass(frozen=True, slots=True)
class Affordability:
    cheapest_milli: int
    available_milli: int

    @property
    def ok(self) -> bool:
        return self.available_milli >= self.cheapest_milli


def affordability(uow: UnitOfWork, client_id: int, expert_id: int) -> Affordability:
    """Can the client pay for the smallest session with this expert? Asked before any details."""
    client = _person(uow, client_id)
    expert = _expert(uow, expert_id)
    cheapest = min(lengths_for(expert, session_rules_for(uow, client)))
    need = session_price(expert, [cheapest]).credits_milli
    have = sum(w.available for w in uow.credits.wallets_for(client_id))
    return Affordability(need, have)


def _check_times(
    uow: UnitOfWork, expert_id: int, meetings: Sequence[MeetingRequest], now: datetime,
    *, except_meetings: frozenset[int] = frozenset(), reach: timedelta | None = None,
) -> Schedule:
    """Raise SlotUnavailable for the first meeting that does not fit; returns the schedule it checked.
    `reach`: how far ahead a series' date may be (priority scheduling), instead of the expert's horizon."""
    ordered = sorted(meetings, key=lambda m: m.start)
    schedule, busy = uow.experts.availability(  # both in one round trip: this runs under the expert's lock
        expert_id, ordered[0].start - _BUSY_MARGIN, ordered[-1].end + _BUSY_MARGIN, except_meetings=except_meetings
    )
    judged = schedule if reach is None else replace(
        schedule, rules=replace(schedule.rules, horizon=max(schedule.rules.horizon, reach)))
    for meeting in ordered:
        duration = timedelta(minutes=meeting.minutes)
        problem = check_slot(judged, busy, meeting.start, duration, now)
        if problem is SlotProblem.OFF_GRID:
            raise OffGrid(
                f"{meeting.start.isoformat()} is between two slot starts of the expert's grid", start=meeting.start,
                nearest=nearest_free_slots(schedule, busy, meeting.start, duration, now),
                grid_minutes=SLOT_GRID // timedelta(minutes=1),
            )
        if problem is not None:
            raise SlotUnavailable(
                f"{meeting.start.isoformat()} is not bookable: {problem}", reason=problem.value, start=meeting.start
            )
        busy.append(Busy(meeting.start, meeting.end))
    return schedule


def request_booking(
    uow: UnitOfWork, clock: Clock, *, client_id: int, expert_id: int, meetings: Sequence[MeetingRequest],
    details: SessionDetails, policy: Policy, series_id: int | None = None,
    triaged: bool = False,
) -> Booking:
    """Hold the slots and the credits, and put the request in front of the expert (or staff).

    triaged: staff have already looked at it (a reassignment), so it goes straight to the expert."""
    now = clock.now()
    client = _person(uow, client_id)
    expert = _expert(uow, expert_id)
    if expert.person_id == client_id:
        raise NotAllowed("experts cannot book themselves", reason="self_booking")
    if expert.paused_at is not None:
        raise NotAllowed("this expert is not taking new requests for now", reason="expert_paused")
    programme = programme_of(uow, client)
    rules = programme.rules if programme else SessionRules()
    visible = visible_expert_ids(uow, client)
    if visible is not None and expert_id not in visible:
        raise NotAllowed("your programme assigns your mentors; this one is not assigned to you", reason="not_assigned")
    validate_meetings(expert, meetings, rules)
    details = validate_details(details)
    # From here to commit, bookings of this expert queue up: check and insert cannot interleave.
    uow.experts.lock(expert_id, wallets_of=client_id)  # the client's wallets too: the hold is planned on them
    schedule = _check_times(uow, expert_id, meetings, now, reach=SERIES_REACH if series_id is not None else None)

    price = session_price(expert, [m.minutes for m in meetings])
    portions = plan_hold(uow.credits.wallets_for(client_id, lock=True), price.credits_milli)
    mode = programme.pairing_mode if programme else PairingMode.SELF_SELECT
    ordered = sorted(meetings, key=lambda m: m.start)
    booking = uow.bookings.add(
        Booking(
            id=None,
            client_id=client_id,
            expert_id=expert_id,
            status=BookingStatus.REQUESTED if triaged else initial_status(mode),
            details=details,
            meetings=[
                Meeting(None, m.start, m.end, meeting_credits_milli(m.minutes, expert.rate_multiplier) if not expert.is_pro_bono else 0)
                for m in ordered
            ],
            price_milli=price.credits_milli,
            money_minor=price.money.minor if price.money else None,
            currency=price.money.currency if price.money else None,
            created_at=now,
            expires_at=expiry_deadline(
                policy, requested_at=now, first_meeting_start=ordered[0].start, min_notice=schedule.rules.min_notice
            ),
            programme_id=programme.id if programme else None,
            series_id=series_id,
        )
    )
    assert booking.id is not None
    if portions:
        uow.credits.apply(f"hold:{booking.id}", Movement.HOLD, portions, booking_id=booking.id)
    kind = BookingTriage if booking.status is BookingStatus.AWAITING_TRIAGE else BookingRequested
    uow.events.append(kind(booking_id=booking.id, series_id=series_id))
    return booking


# ---------------------------------------------------------------- the expert's answer


def _release_hold(uow: UnitOfWork, booking: Booking) -> None:
    assert booking.id is not None
    portions = uow.credits.portions(booking.id, Movement.HOLD)
    if portions:
        uow.credits.apply(f"release:{booking.id}", Movement.RELEASE, portions, booking_id=booking.id)
    for meeting in booking.meetings:
        if meeting.status is MeetingStatus.HELD:
            meeting.status = move_meeting(meeting.status, MeetingStatus.RELEASED)
            uow.events.append(time_freed(booking.expert_id, meeting.start, meeting.end))  # the waitlist's turn


def _spend_hold(uow: UnitOfWork, booking: Booking) -> None:
    assert booking.id is not None
    portions = uow.credits.portions(booking.id, Movement.HOLD)
    if portions:
        uow.credits.apply(f"spend:{booking.id}", Movement.SPEND, portions, booking_id=booking.id)
    for meeting in booking.meetings:
        meeting.status = move_meeting(meeting.status, MeetingStatus.CONFIRMED)


def _refuse_if_lapsed(booking: Booking, now: datetime) -> None:
    """Past its deadline a request is answered as expired even before the expiry job has run."""
    if booking.status in OPEN_BOOKING_STATUSES and now >= booking.expires_at:
        raise InvalidTransition("this request has expired", reason="expired")


def accept(uow: UnitOfWork, clock: Clock, *, booking_id: int, actor_id: int) -> Booking:
    now = clock.now()
    booking = _booking(uow, booking_id)
    expert = _expert(uow, booking.expert_id)
    if actor_id != expert.person_id:
        raise NotAllowed("only the expert can accept this request", reason="not_the_expert")
    if booking.proposed_by_expert:
        raise InvalidTransition("you suggested other times; the client answers now", reason="awaiting_client")
    _refuse_if_lapsed(booking, now)
    booking.status = move_booking(booking.status, BookingStatus.ACCEPTED)
    _spend_hold(uow, booking)
    booking.decided_at = now
    uow.bookings.save(booking)
    uow.events.append(BookingAccepted(booking_id=booking_id, series_id=booking.series_id))
    return booking


def decline(uow: UnitOfWork, clock: Clock, *, booking_id: int, actor_id: int, reason: str = "") -> Booking:
    now = clock.now()
    booking = _booking(uow, booking_id)
    expert = _expert(uow, booking.expert_id)
    actor = _person(uow, actor_id)
    in_triage = booking.status is BookingStatus.AWAITING_TRIAGE
    if in_triage:
        if not is_staff_of(uow, actor.id, booking.programme_id):  # the expert has not been shown it yet
            raise NotAllowed("programme staff look at this request first", reason="not_staff")
    elif actor_id != expert.person_id:
        raise NotAllowed("only the expert can decline this request", reason="not_the_expert")
    booking.status = move_booking(booking.status, BookingStatus.DECLINED)
    if in_triage:
        _log_triage(uow, booking, actor_id, "triage_decline", now, reason.strip()[:500])
    _release_hold(uow, booking)
    booking.decided_at = now
    booking.decline_reason = reason.strip()[:500]
    uow.bookings.save(booking)
    by = "staff" if actor_id != expert.person_id else "expert"
    uow.events.append(BookingDeclined(booking_id=booking_id, series_id=booking.series_id, by=by))
    return booking


def withdraw(uow: UnitOfWork, clock: Clock, *, booking_id: int, actor_id: int) -> Booking:
    booking = _booking(uow, booking_id)
    if actor_id != booking.client_id:
        raise NotAllowed("only the client can withdraw a request", reason="not_the_client")
    booking.status = move_booking(booking.status, BookingStatus.WITHDRAWN)
    _release_hold(uow, booking)
    booking.decided_at = clock.now()
    uow.bookings.save(booking)
    uow.events.append(BookingWithdrawn(booking_id=booking_id, series_id=booking.series_id))
    return booking


def expire(uow: UnitOfWork, clock: Clock, *, booking_id: int) -> bool:
    """Lapse one unanswered request if its time has come; False if it was answered meanwhile."""
    now = clock.now()
    booking = _booking(uow, booking_id)
    if booking.status not in OPEN_BOOKING_STATUSES or now < booking.expires_at:
        return False
    booking.status = move_booking(booking.status, BookingStatus.EXPIRED)
    _release_hold(uow, booking)
    booking.decided_at = now
    uow.bookings.save(booking)
    uow.events.append(BookingExpired(booking_id=booking_id, series_id=booking.series_id))
    return True


def propose_times(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, actor_id: int, starts: Sequence[datetime], policy: Policy,
) -> Booking:
    """The expert suggests other times (one per meeting); the hold moves there while the client decides."""
    now = clock.now()
    booking = _booking(uow, booking_id)
    expert = _expert(uow, booking.expert_id)
    if actor_id != expert.person_id:
        raise NotAllowed("only the expert can suggest another time", reason="not_the_expert")
    if booking.status is not BookingStatus.REQUESTED:
        raise InvalidTransition(f"a {booking.status} booking cannot be moved", reason=f"booking_{booking.status}")
    _refuse_if_lapsed(booking, now)
    if len(starts) != len(booking.meetings):
        raise PolicyViolation("suggest one time for each meeting", reason="one_time_per_meeting")
    uow.experts.lock(booking.expert_id)
    moved = [MeetingRequest(s, m.minutes) for s, m in zip(sorted(starts), booking.meetings)]
    validate_meetings(expert, moved, SessionRules(allowed_lengths=tuple(sorted({m.minutes for m in booking.meetings}))))
    schedule = _check_times(
        uow, booking.expert_id, moved, now, except_meetings=frozenset(m.id for m in booking.meetings if m.id)
    )
    for meeting, new in zip(booking.meetings, moved):
        if (meeting.start, meeting.end) != (new.start, new.end):
            uow.events.append(time_freed(booking.expert_id, meeting.start, meeting.end))
        meeting.start, meeting.end = new.start, new.end
    booking.proposed_by_expert = True
    booking.expires_at = expiry_deadline(
        policy, requested_at=now, first_meeting_start=booking.first_start, min_notice=schedule.rules.min_notice
    )
    uow.bookings.save(booking)
    uow.events.append(TimesProposed(booking_id=booking_id, series_id=booking.series_id))
    return booking


def answer_proposal(uow: UnitOfWork, clock: Clock, *, booking_id: int, actor_id: int, agree: bool) -> Booking:
    now = clock.now()
    booking = _booking(uow, booking_id)
    if actor_id != booking.client_id:
        raise NotAllowed("only the client can answer the suggested time", reason="not_the_client")
    if not booking.proposed_by_expert:
        raise InvalidTransition("there is no suggested time to answer", reason="no_proposal")
    _refuse_if_lapsed(booking, now)
    if agree:
        booking.status = move_booking(booking.status, BookingStatus.ACCEPTED)
        _spend_hold(uow, booking)
        kind: type[BookingAccepted | ProposalDeclined] = BookingAccepted
    else:
        booking.status = move_booking(booking.status, BookingStatus.WITHDRAWN)
        _release_hold(uow, booking)
        kind = ProposalDeclined
    booking.proposed_by_expert = False
    booking.decided_at = now
    uow.bookings.save(booking)
    uow.events.append(kind(booking_id=booking_id, series_id=booking.series_id))
    return booking


# ---------------------------------------------------------------- triage


def _log_triage(uow: UnitOfWork, booking: Booking, staff_id: int, action: str, now: datetime, note: str = "") -> None:
    """Triage decisions are kept: the dashboard counts an expert's answers only for requests they were shown."""
    assert booking.id is not None
    uow.programmes.log(StaffAction(key=f"triage:{booking.id}", action=action, programme_id=booking.programme_id,
                                   actor_id=staff_id, created_at=now, booking_id=booking.id, note=note))


def triage_approve(uow: UnitOfWork, clock: Clock, *, booking_id: int, staff_id: int) -> Booking:
    require_any_staff(uow, staff_id)
    booking = _booking(uow, booking_id)
    require_staff(uow, staff_id, booking.programme_id)  # staff of the booking's programme, no other
    _refuse_if_lapsed(booking, clock.now())
    booking.status = move_booking(booking.status, BookingStatus.REQUESTED)
    _log_triage(uow, booking, staff_id, "triage_approve", clock.now())
    uow.bookings.save(booking)
    uow.events.append(BookingRequested(booking_id=booking_id, series_id=booking.series_id))
    return booking


def triage_reassign(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, staff_id: int, expert_id: int, policy: Policy,
) -> Booking:
    """Staff send the request to another expert at the same times: a new request, the old one closed,
    with the deployment's expiry (policy) counted from now."""
    require_any_staff(uow, staff_id)
    old = _booking(uow, booking_id)
    require_staff(uow, staff_id, old.programme_id)  # staff of the booking's programme, no other
    if old.status is not BookingStatus.AWAITING_TRIAGE:
        raise InvalidTransition(f"a {old.status} booking is not in triage", reason=f"booking_{old.status}")
    # The new expert's hours, grid and meetings first: a refusal leaves the request in triage, untouched.
    uow.experts.lock(expert_id)
    _check_times(uow, expert_id, [MeetingRequest(m.start, m.minutes) for m in old.meetings], clock.now(),
                 except_meetings=frozenset(m.id for m in old.meetings if m.id))
    old.status = move_booking(old.status, BookingStatus.DECLINED)
    _log_triage(uow, old, staff_id, "triage_reassign", clock.now(), f"to expert {expert_id}")
    _release_hold(uow, old)
    old.decline_reason = "reassigned by staff"
    old.decided_at = clock.now()
    uow.bookings.save(old)
    new = request_booking(
        uow, clock, client_id=old.client_id, expert_id=expert_id,
        meetings=[MeetingRequest(m.start, m.minutes) for m in old.meetings], details=old.details,
        policy=policy, triaged=True,
    )
    return new


# ---------------------------------------------------------------- after acceptance


def _refund(uow: UnitOfWork, booking: Booking, meeting: Meeting, amount: int) -> int:
    """Give back up to `amount` of what this booking still has spent, once per meeting (the key names the
    meeting: a policy refund, a no-show refund and a staff technical refund never add up). Returns what
    was given back now: 0 if nothing was left or the meeting was refunded before."""
    assert booking.id is not None and meeting.id is not None
    if amount <= 0:
        return 0
    taken = uow.credits.portions(booking.id, Movement.SPEND) + uow.credits.portions(booking.id, Movement.CHARGE)
    still = net_portions(taken, uow.credits.portions(booking.id, Movement.REFUND))
    amount = min(amount, sum(p.amount for p in still))
    if amount and uow.credits.apply(
        f"refund:meeting:{meeting.id}", Movement.REFUND, plan_return(still, amount), booking_id=booking.id
    ):
        return amount
    return 0


refund_meeting = _refund  # staff use cases (support_service) refund through the same key


def _settle_booking(uow: UnitOfWork, booking: Booking) -> None:
    """An accepted booking ends when none of its meetings is still ahead; a held one counts for the expert."""
    if booking.status is not BookingStatus.ACCEPTED or any(m.active for m in booking.meetings):
        return
    happened = any(m.status is not MeetingStatus.CANCELLED for m in booking.meetings)
    booking.status = move_booking(booking.status, BookingStatus.COMPLETED if happened else BookingStatus.CANCELLED)
    if any(m.status in (MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT) for m in booking.meetings):
        uow.experts.add_completed_session(booking.expert_id)  # the expert was there


def _confirmed_meeting(booking: Booking, meeting_id: int) -> Meeting:
    try:
        meeting = booking.meeting(meeting_id)
    except KeyError:
        raise NotFound(f"no meeting {meeting_id} in booking {booking.id}", reason="meeting_not_found") from None
    if booking.status is not BookingStatus.ACCEPTED or meeting.status is not MeetingStatus.CONFIRMED:
        raise InvalidTransition(f"a {meeting.status} meeting cannot be changed", reason=f"meeting_{meeting.status}")
    return meeting


def cancellation_preview(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, meeting_id: int, actor_id: int,
    reason: CancelReason = CancelReason.PERSONAL, policy: Policy,
) -> Consequence:
    booking = _booking(uow, booking_id)
    meeting = _confirmed_meeting(booking, meeting_id)
    by = _actor_role(uow, booking, _expert(uow, booking.expert_id), _person(uow, actor_id))
    return cancellation(policy, meeting_start=meeting.start, price_milli=meeting.price_milli, now=clock.now(), by=by, reason=reason)


def cancel_meeting(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, meeting_id: int, actor_id: int,
    reason: CancelReason = CancelReason.PERSONAL, policy: Policy,
) -> Consequence:
    booking = _booking(uow, booking_id)
    meeting = _confirmed_meeting(booking, meeting_id)
    expert = _expert(uow, booking.expert_id)
    by = _actor_role(uow, booking, expert, _person(uow, actor_id))
    outcome = cancellation(policy, meeting_start=meeting.start, price_milli=meeting.price_milli, now=clock.now(), by=by, reason=reason)
    if not outcome.allowed:
        raise PolicyViolation("this meeting has already started", reason=outcome.code)
    apply_cancellation(uow, booking, meeting, by, outcome)
    return outcome


def apply_cancellation(
    uow: UnitOfWork, booking: Booking, meeting: Meeting, by: Initiator, outcome: Consequence,
    reason: str = "", note: str = "",
) -> int:
    """The one place a confirmed meeting is cancelled: status, calendar sequence, refund, the booking's end,
    the event. Returns what was refunded now."""
    meeting.status = move_meeting(meeting.status, MeetingStatus.CANCELLED)
    meeting.ics_sequence += 1
    refunded = _refund(uow, booking, meeting, outcome.refund_milli)
    _settle_booking(uow, booking)
    uow.bookings.save(booking)
    assert booking.id is not None and meeting.id is not None
    uow.events.append(MeetingCancelled(booking_id=booking.id, series_id=booking.series_id, meeting_id=meeting.id,
                                       by=by, refund_milli=outcome.refund_milli, reason=reason, note=note))
    uow.events.append(time_freed(booking.expert_id, meeting.start, meeting.end))  # the waitlist's turn
    return refunded


def reschedule_preview(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, meeting_id: int, actor_id: int, policy: Policy
) -> Consequence:
    booking = _booking(uow, booking_id)
    meeting = _confirmed_meeting(booking, meeting_id)
    by = _actor_role(uow, booking, _expert(uow, booking.expert_id), _person(uow, actor_id))
    return reschedule(policy, meeting_start=meeting.start, price_milli=meeting.price_milli,
                      reschedules_so_far=meeting.reschedule_count, now=clock.now(), by=by)


def reschedule_meeting(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, meeting_id: int, actor_id: int, new_start: datetime,
    policy: Policy,
) -> Consequence:
    """Move a confirmed meeting. A late move by the client forfeits its credits: the meeting is paid again."""
    now = clock.now()
    booking = _booking(uow, booking_id)
    meeting = _confirmed_meeting(booking, meeting_id)
    expert = _expert(uow, booking.expert_id)
    by = _actor_role(uow, booking, expert, _person(uow, actor_id))
    outcome = reschedule(policy, meeting_start=meeting.start, price_milli=meeting.price_milli,
                         reschedules_so_far=meeting.reschedule_count, now=now, by=by)
    if not outcome.allowed:
        raise PolicyViolation(f"this meeting cannot be moved: {outcome.code}", reason=outcome.code)
    uow.experts.lock(booking.expert_id)
    _check_times(uow, booking.expert_id, [MeetingRequest(new_start, meeting.minutes)], now,
                 except_meetings=frozenset({meeting_id}))
    if outcome.code == "late_forfeit" and meeting.price_milli:
        portions = plan_hold(uow.credits.wallets_for(booking.client_id, lock=True), meeting.price_milli)
        uow.credits.apply(
            f"charge:meeting:{meeting_id}:{meeting.reschedule_count + 1}", Movement.CHARGE, portions, booking_id=booking.id
        )
    duration = meeting.end - meeting.start
    old = (meeting.start, meeting.end)
    meeting.start, meeting.end = new_start, new_start + duration
    if by is Initiator.CLIENT:  # the limit is the client's; an expert's move never uses it up
        meeting.reschedule_count += 1
    meeting.ics_sequence += 1
    uow.bookings.save(booking)
    uow.events.append(MeetingRescheduled(booking_id=booking_id, series_id=booking.series_id, meeting_id=meeting_id,
                                         by=by, code=outcome.code))
    if old[0] != new_start:
        uow.events.append(time_freed(booking.expert_id, *old))  # the old time is free: the waitlist's turn
    return outcome


def complete_ended(uow: UnitOfWork, clock: Clock, *, booking_id: int) -> list[int]:
    """Mark meetings that have ended as completed; returns their ids (feedback prompts follow)."""
    now = clock.now()
    booking = _booking(uow, booking_id)
    if booking.status is not BookingStatus.ACCEPTED:
        return []
    done: list[int] = []
    for meeting in booking.meetings:
        if meeting.status is MeetingStatus.CONFIRMED and meeting.end <= now:
            meeting.status = move_meeting(meeting.status, MeetingStatus.COMPLETED)
            done.append(meeting.id or 0)
    if done:
        _settle_booking(uow, booking)
        uow.bookings.save(booking)
        for meeting_id in done:
            uow.events.append(MeetingCompleted(booking_id=booking_id, series_id=booking.series_id, meeting_id=meeting_id))
    return done


def report_no_show(
    uow: UnitOfWork, clock: Clock, *, booking_id: int, meeting_id: int, reporter_id: int, policy: Policy
) -> Consequence:
    """The client reports the expert missing (full refund) or the expert reports the client (credits spent)."""
    booking = _booking(uow, booking_id)
    expert = _expert(uow, booking.expert_id)
    try:
        meeting = booking.meeting(meeting_id)
    except KeyError:
        raise NotFound(f"no meeting {meeting_id}", reason="meeting_not_found") from None
    if reporter_id == booking.client_id:
        absent = NoShowParty.EXPERT
    elif reporter_id == expert.person_id:
        absent = NoShowParty.CLIENT
    else:
        raise NotAllowed("only the client or the expert can report a no-show", reason="not_a_party")
    outcome = no_show(policy, meeting_start=meeting.start, price_milli=meeting.price_milli, now=clock.now(), absent=absent)
    target = MeetingStatus.NO_SHOW_EXPERT if absent is NoShowParty.EXPERT else MeetingStatus.NO_SHOW_CLIENT
    meeting.status = move_meeting(meeting.status, target)
    _refund(uow, booking, meeting, outcome.refund_milli)
    _settle_booking(uow, booking)
    uow.bookings.save(booking)
    uow.events.append(NoShowReported(booking_id=booking_id, series_id=booking.series_id, meeting_id=meeting_id,
                                     absent=absent))
    if booking.programme_id is not None:  # the programme's staff are told (uow.programmes.staff_of)
        uow.events.append(StaffNoShow(booking_id=booking_id, series_id=booking.series_id, meeting_id=meeting_id,
                                      absent=absent, programme_id=booking.programme_id,
                                      refund_milli=outcome.refund_milli))
    return outcome


def leave_review(
    uow: UnitOfWork, *, booking_id: int, author_id: int, stars: int, text: str = "", private_note: str = ""
) -> Review:
    booking = _booking(uow, booking_id)
    expert = _expert(uow, booking.expert_id)
    if author_id not in (booking.client_id, expert.person_id):
        raise NotAllowed("only the client or the expert can review this session", reason="not_a_party")
    if not any(m.status in (MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT, MeetingStatus.NO_SHOW_EXPERT) for m in booking.meetings):
        raise InvalidTransition("a session can be reviewed once a meeting has taken place", reason="not_yet_held")
    if not 1 <= stars <= 5:
        raise InvalidSession("stars are 1 to 5", reason="bad_stars")
    review = Review(booking_id, author_id, stars, text.strip()[:2000], private_note.strip()[:2000])
    review_id = uow.bookings.add_review(review)
    if review_id is None:
        raise InvalidTransition("you have already reviewed this session", reason="already_reviewed")
    by_client = author_id == booking.client_id
    if by_client:
        uow.experts.add_rating(booking.expert_id, stars)
    # The expert hears of the client's review (and may answer it); the programme's staff may hide it.
    uow.events.append(ReviewLeft(booking_id=booking_id, series_id=booking.series_id, review_id=review_id,
                                 by="client" if by_client else "expert"))
    return replace(review, id=review_id)


# ---------------------------------------------------------------- recurring series


@dataclass(frozen=True, slots=True)
class SeriesResult:
    series_id: int
    bookings: tuple[Booking, ...]
    conflicts: tuple[tuple[datetime, SlotProblem], ...]


def _series_checks(
    uow: UnitOfWork, clock: Clock, *, expert_id: int, first_start: datetime, minutes: int, frequency: Frequency,
    count: int | None, until: date | None,
) -> tuple[Schedule, list[Busy], list[OccurrenceCheck]]:
    schedule = uow.experts.schedule(expert_id)
    starts = occurrences(first_start, schedule.timezone, frequency, count=count, until=until)
    busy = uow.experts.busy(expert_id, starts[0] - _BUSY_MARGIN, starts[-1] + timedelta(minutes=minutes) + _BUSY_MARGIN)
    return schedule, busy, check_series(schedule, busy, starts, timedelta(minutes=minutes), clock.now())


def preview_series(
    uow: UnitOfWork, clock: Clock, *, expert_id: int, first_start: datetime, minutes: int, frequency: Frequency,
    count: int | None = None, until: date | None = None,
) -> list[OccurrenceCheck]:
    """Each date of a series with what stands in its way (None: free), exactly as request_series will judge it
    (the expert's hours, days off, own calendar, other meetings, daily cap), without holding anything."""
    _expert(uow, expert_id)
    return _series_checks(uow, clock, expert_id=expert_id, first_start=first_start, minutes=minutes,
                          frequency=Frequency(frequency), count=count, until=until)[2]


def request_series(
    uow: UnitOfWork, clock: Clock, *, client_id: int, expert_id: int, first_start: datetime, minutes: int,
    frequency: Frequency, details: SessionDetails, policy: Policy, count: int | None = None,
    until: date | None = None,
) -> SeriesResult:
    """One request per occurrence (credits per occurrence); occurrences that do not fit are reported.
    A `series_requested` event names the series so the expert can be asked once for all of it."""
    now = clock.now()
    expert = _expert(uow, expert_id)
    uow.experts.lock(expert_id)
    frequency = Frequency(frequency)
    schedule, busy, checks = _series_checks(uow, clock, expert_id=expert_id, first_start=first_start,
                                            minutes=minutes, frequency=frequency, count=count, until=until)
    if checks[0].problem is SlotProblem.OFF_GRID:  # the time chosen is off the grid, not only a later date
        raise OffGrid(
            f"{checks[0].start.isoformat()} is between two slot starts of the expert's grid", start=checks[0].start,
            nearest=nearest_free_slots(schedule, busy, checks[0].start, timedelta(minutes=minutes), now),
            grid_minutes=SLOT_GRID // timedelta(minutes=1),
        )
    fitting = [c.start for c in checks if c.problem is None]
    conflicts = tuple((c.start, c.problem) for c in checks if c.problem is not None)
    if not fitting:
        raise SlotUnavailable("none of the series' times is free", reason="series_no_fit")
    need = session_price(expert, [minutes]).credits_milli * len(fitting)
    have = sum(w.available for w in uow.credits.wallets_for(client_id))
    if need > have:
        raise InsufficientCredits(f"the series needs {need}, has {have}", needed=need, available=have)
    series_id = uow.bookings.next_series_id()
    bookings = tuple(
        request_booking(uow, clock, client_id=client_id, expert_id=expert_id, meetings=[MeetingRequest(s, minutes)],
                        details=details, policy=policy, series_id=series_id)
        for s in fitting
    )
    assert bookings[0].id is not None
    uow.events.append(SeriesRequested(booking_id=bookings[0].id, series_id=series_id, frequency=frequency,
                                      count=len(bookings), conflicts=len(conflicts)))
    return SeriesResult(series_id, bookings, conflicts)


def _answerable_in_series(uow: UnitOfWork, series_id: int, now: datetime) -> list[Booking]:
    bookings = uow.bookings.in_series(series_id)
    if not bookings:
        raise NotFound(f"no series {series_id}", reason="series_not_found")
    return [b for b in bookings if b.status is BookingStatus.REQUESTED and not b.proposed_by_expert
            and now < b.expires_at]


def accept_series(uow: UnitOfWork, clock: Clock, *, series_id: int, actor_id: int) -> list[Booking]:
    """The expert says yes to every occurrence still waiting for them, at once (each one's credits are spent)."""
    waiting = _answerable_in_series(uow, series_id, clock.now())
    if not waiting:
        raise InvalidTransition("nothing in this series is waiting for an answer", reason="series_answered")
    assert all(b.id is not None for b in waiting)
    return [accept(uow, clock, booking_id=b.id or 0, actor_id=actor_id) for b in waiting]


def decline_series(uow: UnitOfWork, clock: Clock, *, series_id: int, actor_id: int, reason: str = "") -> list[Booking]:
    """The expert says no to every occurrence still waiting for them, at once (each one's hold is released)."""
    waiting = _answerable_in_series(uow, series_id, clock.now())
    if not waiting:
        raise InvalidTransition("nothing in this series is waiting for an answer", reason="series_answered")
    return [decline(uow, clock, booking_id=b.id or 0, actor_id=actor_id, reason=reason) for b in waiting]


def cancel_series(uow: UnitOfWork, clock: Clock, *, series_id: int, actor_id: int, policy: Policy) -> list[Consequence]:
    """Withdraw what is still a request, cancel what is confirmed and ahead; the policy applies per meeting."""
    now = clock.now()
    results: list[Consequence] = []
    bookings = uow.bookings.in_series(series_id)
    if not bookings:
        raise NotFound(f"no series {series_id}", reason="series_not_found")
    role = _actor_role(uow, bookings[0], _expert(uow, bookings[0].expert_id), _person(uow, actor_id))
    for booking in bookings:
        assert booking.id is not None
        # Each side closes what is theirs to close: the expert never saw requests still in triage,
        # and staff decline only in triage (after that the request is the expert's to answer).
        if booking.status is BookingStatus.AWAITING_TRIAGE and role is Initiator.EXPERT:
            continue
        if booking.status is BookingStatus.REQUESTED and role is Initiator.STAFF:
            continue
        if booking.status in OPEN_BOOKING_STATUSES:
            if role is Initiator.CLIENT:
                withdraw(uow, clock, booking_id=booking.id, actor_id=actor_id)
            else:
                decline(uow, clock, booking_id=booking.id, actor_id=actor_id, reason="series cancelled")
        elif booking.status is BookingStatus.ACCEPTED:
            for meeting in booking.meetings:
                if meeting.status is MeetingStatus.CONFIRMED and meeting.start > now and meeting.id is not None:
                    results.append(cancel_meeting(uow, clock, booking_id=booking.id, meeting_id=meeting.id,
                                                  actor_id=actor_id, policy=policy))
    return results
