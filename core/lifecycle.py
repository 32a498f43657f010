"""Where a booking and its meetings can go next. The only place transitions are decided."""

from __future__ import annotations

from enum import StrEnum

from core.errors import InvalidTransition


class BookingStatus(StrEnum):
    AWAITING_TRIAGE = "awaiting_triage"  # triage-first programmes: staff look first
    REQUESTED = "requested"  # the expert has it
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the client took it back before an answer
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MeetingStatus(StrEnum):
    HELD = "held"  # tentative: blocks the slot while the expert decides
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RELEASED = "released"  # the hold ended without a meeting
    COMPLETED = "completed"
    NO_SHOW_EXPERT = "no_show_expert"
    NO_SHOW_CLIENT = "no_show_client"


ACTIVE_MEETING_STATUSES: frozenset[MeetingStatus] = frozenset({MeetingStatus.HELD, MeetingStatus.CONFIRMED})
OPEN_BOOKING_STATUSES: frozenset[BookingStatus] = frozenset(
    {BookingStatus.AWAITING_TRIAGE, BookingStatus.REQUESTED}
)

_BOOKING_MOVES: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.AWAITING_TRIAGE: frozenset(
        {BookingStatus.REQUESTED, BookingStatus.DECLINED, BookingStatus.EXPIRED, BookingStatus.WITHDRAWN}
    ),
    BookingStatus.REQUESTED: frozenset(
        {BookingStatus.ACCEPTED, BookingStatus.DECLINED, BookingStatus.EXPIRED, BookingStatus.WITHDRAWN}
    ),
    BookingStatus.ACCEPTED: frozenset({BookingStatus.COMPLETED, BookingStatus.CANCELLED}),
}

_MEETING_MOVES: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.HELD: frozenset({MeetingStatus.CONFIRMED, MeetingStatus.RELEASED}),
    MeetingStatus.CONFIRMED: frozenset(
        {
            MeetingStatus.CANCELLED,
            MeetingStatus.COMPLETED,
            MeetingStatus.NO_SHOW_EXPERT,
            MeetingStatus.NO_SHOW_CLIENT,
        }
    ),
    # A meeting marked completed can still be reported as a no-show within the report window.
    MeetingStatus.COMPLETED: frozenset({MeetingStatus.NO_SHOW_EXPERT, MeetingStatus.NO_SHOW_CLIENT}),
}


def move_booking(current: BookingStatus, target: BookingStatus) -> BookingStatus:
    if target not in _BOOKING_MOVES.get(current, frozenset()):
        raise InvalidTransition(
            f"a {current} booking cannot become {target}", reason=f"booking_{current}", current=current
        )
    return target


def move_meeting(current: MeetingStatus, target: MeetingStatus) -> MeetingStatus:
    if target not in _MEETING_MOVES.get(current, frozenset()):
        raise InvalidTransition(
            f"a {current} meeting cannot become {target}", reason=f"meeting_{current}", current=current
        )
    return target


class PairingMode(StrEnum):
    SELF_SELECT = "self_select"  # browse and book anyone
    ADMIN_ASSIGNED = "admin_assigned"  # only experts staff assigned to the company
    TRIAGE_FIRST = "triage_first"  # staff approve or reassign before the expert sees it


def initial_status(mode: PairingMode) -> BookingStatus:
    return BookingStatus.AWAITING_TRIAGE if mode is PairingMode.TRIAGE_FIRST else BookingStatus.REQUESTED
