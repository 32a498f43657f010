"""Programme staff supporting their founders: cancel or move a meeting with a reason (a technical issue
refunds in full, once), grant and revoke credits, read private feedback and no-show reports, and answer
"ask staff for credits". Plain functions over a unit of work and a clock, as booking_service; the caller
commits. Every function checks that the actor is staff of the programme the thing belongs to
(core.staff_access) and builds its own idempotency keys: callers pass who acts and, for a form or a
confirmation they showed, an opaque `attempt` id (the same attempt applies once).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core import booking_service as bs
from core.amounts import format_credits
from core.clock import Clock
from core.credit_service import grant
from core.credits import Movement, Portion, Source
from core.errors import InsufficientCredits, InvalidSession, InvalidTransition, NotAllowed, NotFound
from core.events import CreditRequestCreated, CreditRequestDeclined, CreditRequestGranted, StaffRefund
from core.lifecycle import BookingStatus, MeetingStatus
from core.model import Booking, Meeting
from core.policy import Consequence, Initiator, Policy, cancellation
from core.ports import UnitOfWork
from core.staff import CreditRequest, CreditRequestStatus, FeedbackItem, NoShowReport, StaffAction, StaffReason
from core.staff_access import (
    narrow,
    person_programme,
    require_staff,
    require_staff_for_company,
    require_staff_for_person,
)

MAX_GRANT_MILLI = 100_000 * 1000  # a typo guard: more than this in one grant is almost certainly a mistake
NOTE_MAX = 500
_HAPPENED = (MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW_CLIENT, MeetingStatus.NO_SHOW_EXPERT)


@dataclass(frozen=True, slots=True)
class StaffOutcome:
    """What a staff action did: `changed` is False when it had been done before (a second press)."""

    changed: bool
    refund_milli: int  # credits given back now
    code: str  # "cancelled", "moved", "refunded", "already_done", "nothing_to_refund"


def _note(text: str) -> str:
    return " ".join(text.split())[:NOTE_MAX]


def _staff_booking(uow: UnitOfWork, staff_id: int, booking_id: int) -> Booking:
    booking = uow.bookings.get(booking_id, for_update=True)
    if booking is None:
        raise NotFound(f"no booking {booking_id}", reason="booking_not_found")
    require_staff(uow, staff_id, booking.programme_id)
    return booking


def _meeting(booking: Booking, meeting_id: int) -> Meeting:
    try:
        return booking.meeting(meeting_id)
    except KeyError:
        raise NotFound(f"no meeting {meeting_id} in booking {booking.id}", reason="meeting_not_found") from None


# ---------------------------------------------------------------- meetings


def staff_refund(policy: Policy, reason: StaffReason, *, meeting_start: datetime, price_milli: int,
                 now: datetime) -> Consequence:
    """What a staff cancellation gives back: in full, except on the client's behalf (their own policy)."""
    if reason is StaffReason.CLIENT_REQUEST:
        return cancellation(policy, meeting_start=meeting_start, price_milli=price_milli, now=now, by=Initiator.CLIENT)
    return Consequence(True, price_milli, "technical" if reason is StaffReason.TECHNICAL else "staff")


def staff_cancel_meeting(
    uow: UnitOfWork, clock: Clock, *, staff_id: int, booking_id: int, meeting_id: int, reason: StaffReason,
    note: str = "", policy: Policy,
) -> StaffOutcome:
    """Cancel a confirmed meeting of the staff member's programme, with a reason everyone is told.

    A technical issue refunds in full, also once the meeting has started or taken place (the call failed):
    then the credits come back and the meeting keeps its status. Pressed twice, the second press changes
    nothing and says so (the refund is keyed by the meeting, the log by the action)."""
    now = clock.now()
    booking = _staff_booking(uow, staff_id, booking_id)
    meeting = _meeting(booking, meeting_id)
    if _logged(uow, f"cancel:meeting:{meeting_id}"):  # a second press, or another staff member just did it
        return StaffOutcome(False, 0, "already_done")
    if reason is StaffReason.TECHNICAL and (meeting.status in _HAPPENED or (
            meeting.status is MeetingStatus.CONFIRMED and meeting.start <= now)):
        if meeting.status is MeetingStatus.CONFIRMED:  # it started and failed: it will not be held
            refunded = bs.apply_cancellation(uow, booking, meeting, Initiator.STAFF,
                                             Consequence(True, meeting.price_milli, "technical"),
                                             reason=reason.value, note=_note(note))
        else:
            refunded = bs.refund_meeting(uow, booking, meeting, meeting.price_milli)
            if refunded:
                uow.events.append(StaffRefund(booking_id=booking_id, series_id=booking.series_id, meeting_id=meeting_id,
                                              refund_milli=refunded, reason=reason.value, note=_note(note)))
        _log(uow, f"cancel:meeting:{meeting_id}", "refund", booking, staff_id, now, meeting_id=meeting_id,
             amount=refunded, reason=reason.value, note=note)
        return StaffOutcome(bool(refunded), refunded, "refunded" if refunded else "nothing_to_refund")
    if booking.status is not BookingStatus.ACCEPTED or meeting.status is not MeetingStatus.CONFIRMED:
        raise InvalidTransition(f"a {meeting.status} meeting cannot be cancelled", reason=f"meeting_{meeting.status}")
    outcome = staff_refund(policy, reason, meeting_start=meeting.start, price_milli=meeting.price_milli, now=now)
    if not outcome.allowed:
        raise InvalidTransition("this meeting has already started", reason=outcome.code)
    refunded = bs.apply_cancellation(uow, booking, meeting, Initiator.STAFF, outcome,
                                     reason=reason.value, note=_note(note))
    _log(uow, f"cancel:meeting:{meeting_id}", "cancel", booking, staff_id, now, meeting_id=meeting_id,
         amount=refunded, reason=reason.value, note=note)
    return StaffOutcome(True, refunded, "cancelled")


def staff_move_meeting(
    uow: UnitOfWork, clock: Clock, *, staff_id: int, booking_id: int, meeting_id: int, new_start: datetime,
    reason: StaffReason, note: str = "", policy: Policy,
) -> StaffOutcome:
    """Move a confirmed meeting for the client and the expert: free, and it does not use up the client's
    reschedules. The new time must fit the expert's hours and rules like any other."""
    now = clock.now()
    booking = _staff_booking(uow, staff_id, booking_id)
    meeting = _meeting(booking, meeting_id)
    if meeting.start == new_start and meeting.status is MeetingStatus.CONFIRMED:
        return StaffOutcome(False, 0, "already_done")
    bs.reschedule_meeting(uow, clock, booking_id=booking_id, meeting_id=meeting_id, actor_id=staff_id,
                          new_start=new_start, policy=policy)
    _log(uow, f"move:meeting:{meeting_id}:{new_start.isoformat()}", "move", booking, staff_id, now,
         meeting_id=meeting_id, reason=reason.value, note=note)
    return StaffOutcome(True, 0, "moved")


# ---------------------------------------------------------------- credits


def _owner(uow: UnitOfWork, staff_id: int | None, person_id: int | None, company_id: int | None) -> tuple[int | None, str]:
    """The programme the target belongs to (checked against the staff member) and its name for the log."""
    if (person_id is None) == (company_id is None):
        raise ValueError("a person or a company")
    if person_id is not None:
        person = uow.people.get(person_id)
        if person is None:
            raise NotFound(f"no person {person_id}", reason="person_not_found")
        if staff_id is not None:
            require_staff_for_person(uow, staff_id, person_id)
        return person_programme(uow, person), f"@{person.handle}"
    assert company_id is not None
    company = uow.people.company(company_id)
    if company is None:
        raise NotFound(f"no company {company_id}", reason="company_not_found")
    if staff_id is not None:
        require_staff_for_company(uow, staff_id, company_id)
    return company.programme_id, company.name


def grant_credits(
    uow: UnitOfWork, clock: Clock, *, staff_id: int | None, amount_milli: int, source: Source, attempt: str,
    person_id: int | None = None, company_id: int | None = None, note: str = "",
) -> bool:
    """Grant within the staff member's programme (staff_id None: the operator). The same attempt applies once."""
    if not 0 < amount_milli <= MAX_GRANT_MILLI:
        raise InvalidSession("grant between 0.001 and 100,000 credits", reason="bad_amount")
    programme_id, subject = _owner(uow, staff_id, person_id, company_id)
    key = f"staff:{staff_id or 'operator'}:{attempt}"
    applied = grant(uow, key=key, amount_milli=amount_milli, source=source, person_id=person_id,
                    company_id=company_id, actor_id=staff_id, note=_note(note) or (f"staff {staff_id}" if staff_id else "operator"))
    if applied:
        _log(uow, f"grant:{key}", "grant", None, staff_id, clock.now(), programme_id=programme_id, subject=subject,
             amount=amount_milli, note=note)
    return applied


def revoke_credits(
    uow: UnitOfWork, clock: Clock, *, staff_id: int | None, source: Source, attempt: str, amount_milli: int | None = None,
    person_id: int | None = None, company_id: int | None = None, note: str = "",
) -> int:
    """Take back unused credits: only what is available, never what is held by a request or already spent.
    amount None: everything available in that wallet. Returns what was taken now (0: this attempt was
    applied before). InsufficientCredits says how much could be taken."""
    programme_id, subject = _owner(uow, staff_id, person_id, company_id)
    if amount_milli is not None and amount_milli <= 0:
        raise InvalidSession("revoke a positive amount", reason="bad_amount")
    wallet = uow.credits.wallet(source=source, person_id=person_id, company_id=company_id, create=False)
    available = wallet.available if wallet is not None else 0
    amount = available if amount_milli is None else amount_milli
    key = f"revoke:staff:{staff_id or 'operator'}:{attempt}"
    if _logged(uow, key):
        return 0
    if wallet is None or amount <= 0 or amount > available:
        raise InsufficientCredits(f"only {format_credits(available)} credits can be taken back (held and spent "
                                  "credits stay)", needed=amount, available=available, reason="revoke_too_much")
    if not uow.credits.apply(key, Movement.REVOKE, [Portion(wallet.id, amount)], note=_note(note) or "revoked by staff"):
        return 0
    _log(uow, key, "revoke", None, staff_id, clock.now(), programme_id=programme_id, subject=subject, amount=amount,
         note=note)
    return amount


# ---------------------------------------------------------------- what staff read


def private_feedback(uow: UnitOfWork, *, staff_id: int, programme_id: int | None = None, limit: int = 50) -> list[FeedbackItem]:
    """Reviews of the programme's sessions with their private notes, newest first."""
    return uow.programmes.feedback(narrow(uow, staff_id, programme_id), limit)


def no_show_reports(uow: UnitOfWork, *, staff_id: int, programme_id: int | None = None, limit: int = 50) -> list[NoShowReport]:
    return uow.programmes.no_shows(narrow(uow, staff_id, programme_id), limit)


# ---------------------------------------------------------------- "ask staff for credits"


def ask_staff_for_credits(
    uow: UnitOfWork, clock: Clock, *, person_id: int, amount_milli: int | None = None, note: str = "",
) -> tuple[CreditRequest, bool]:
    """A founder asks their programme's staff for credits. One open request per person: asking again returns
    the open one (False: nothing new). The event `credit_request_created` names the programme, whose staff
    get Grant / Decline."""
    person = uow.people.get(person_id)
    if person is None:
        raise NotFound(f"no person {person_id}", reason="person_not_found")
    programme_id = person_programme(uow, person)
    if programme_id is None:
        raise NotAllowed("only programme founders can ask programme staff", reason="no_programme")
    if amount_milli is not None and not 0 < amount_milli <= MAX_GRANT_MILLI:
        raise InvalidSession("ask for between 0.001 and 100,000 credits", reason="bad_amount")
    open_one = uow.programmes.open_credit_request(person_id)
    if open_one is not None:
        return open_one, False
    request = uow.programmes.add_credit_request(CreditRequest(
        None, person_id, programme_id, person.company_id, amount_milli, _note(note), CreditRequestStatus.OPEN,
        clock.now(),
    ))
    assert request.id is not None
    uow.events.append(CreditRequestCreated(request_id=request.id, programme_id=programme_id, person_id=person_id))
    return request, True


def credit_requests(
    uow: UnitOfWork, *, staff_id: int, programme_id: int | None = None,
    status: CreditRequestStatus | None = CreditRequestStatus.OPEN, limit: int = 50,
) -> list[CreditRequest]:
    return uow.programmes.credit_requests(narrow(uow, staff_id, programme_id), status, limit)


def _open_request(uow: UnitOfWork, staff_id: int, request_id: int) -> CreditRequest:
    request = uow.programmes.credit_request(request_id, for_update=True)
    if request is None:
        raise NotFound(f"no request {request_id}", reason="request_not_found")
    require_staff(uow, staff_id, request.programme_id)
    if request.status is not CreditRequestStatus.OPEN:
        raise InvalidTransition(f"this request was already {request.status}", reason="request_answered",
                                status=request.status.value, by=request.decided_by)
    return request


def grant_credit_request(
    uow: UnitOfWork, clock: Clock, *, staff_id: int, request_id: int, amount_milli: int,
    source: Source = Source.PROGRAMME, to_company: bool = False,
) -> CreditRequest:
    """Grant: once only (a second Grant, or a Decline after it, is refused with "request_answered")."""
    request = _open_request(uow, staff_id, request_id)
    if not 0 < amount_milli <= MAX_GRANT_MILLI:
        raise InvalidSession("grant between 0.001 and 100,000 credits", reason="bad_amount")
    if to_company and request.company_id is None:
        raise InvalidSession("this founder has no company", reason="no_company")
    if source is Source.INDIVIDUAL and to_company:
        raise InvalidSession("individual credits belong to a person", reason="bad_source")
    person_id, company_id = (None, request.company_id) if to_company else (request.person_id, None)
    grant(uow, key=f"credit_request:{request.id}", amount_milli=amount_milli, source=source, person_id=person_id,
          company_id=company_id, actor_id=staff_id, note="asked for in the chat")
    done = replace(request, status=CreditRequestStatus.GRANTED, decided_at=clock.now(), decided_by=staff_id,
                   granted_milli=amount_milli)
    uow.programmes.save_credit_request(done)
    _log(uow, f"credit_request:{request.id}", "grant_request", None, staff_id, clock.now(),
         programme_id=request.programme_id, subject=f"request {request.id}", amount=amount_milli)
    uow.events.append(CreditRequestGranted(request_id=request_id, person_id=request.person_id, amount_milli=amount_milli,
                                           to_company=to_company))
    return done


def decline_credit_request(
    uow: UnitOfWork, clock: Clock, *, staff_id: int, request_id: int, answer: str = "",
) -> CreditRequest:
    request = _open_request(uow, staff_id, request_id)
    done = replace(request, status=CreditRequestStatus.DECLINED, decided_at=clock.now(), decided_by=staff_id,
                   answer=_note(answer))
    uow.programmes.save_credit_request(done)
    _log(uow, f"credit_request:{request.id}", "decline_request", None, staff_id, clock.now(),
         programme_id=request.programme_id, subject=f"request {request.id}", note=answer)
    uow.events.append(CreditRequestDeclined(request_id=request_id, person_id=request.person_id))
    return done


# ---------------------------------------------------------------- the log


def _logged(uow: UnitOfWork, key: str) -> bool:
    return uow.programmes.has_action(key)


def _log(uow: UnitOfWork, key: str, action: str, booking: Booking | None, staff_id: int | None, now: datetime, *,
         programme_id: int | None = None, meeting_id: int | None = None, subject: str = "",
         amount: int | None = None, reason: str = "", note: str = "") -> bool:
    return uow.programmes.log(StaffAction(
        key=key, action=action, programme_id=booking.programme_id if booking is not None else programme_id,
        actor_id=staff_id, created_at=now, booking_id=booking.id if booking is not None else None,
        meeting_id=meeting_id, subject=subject, amount_milli=amount, reason=reason, note=_note(note),
    ))
