"""What happened, for whoever must be told. The dispatcher turns these into notifications.

One class per kind of event, carrying what the notices need that the core had at hand (ids and small
values). `name` is the kind's stable name: outbox keys include it, so it never changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.policy import Initiator, NoShowParty
from core.recurrence import Frequency


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    name: ClassVar[str] = ""


# ---------------------------------------------------------------- one booking


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingEvent(Event):
    """Something happened to one booking. `series_id`: the recurring series it belongs to, if any."""

    booking_id: int
    series_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequested(BookingEvent):
    name: ClassVar[str] = "booking_requested"


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingTriage(BookingEvent):
    """A request waits for the programme's staff before it goes to the expert."""

    name: ClassVar[str] = "booking_triage"


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingAccepted(BookingEvent):
    name: ClassVar[str] = "booking_accepted"


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingDeclined(BookingEvent):
    name: ClassVar[str] = "booking_declined"
    by: str  # "expert", or "staff" in triage


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingWithdrawn(BookingEvent):
    name: ClassVar[str] = "booking_withdrawn"


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingExpired(BookingEvent):
    name: ClassVar[str] = "booking_expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimesProposed(BookingEvent):
    name: ClassVar[str] = "times_proposed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalDeclined(BookingEvent):
    name: ClassVar[str] = "proposal_declined"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesRequested(BookingEvent):
    """A recurring series was requested; `booking_id` is its first occurrence's."""

    name: ClassVar[str] = "series_requested"
    frequency: Frequency
    count: int
    conflicts: int


# ---------------------------------------------------------------- one meeting of a booking


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingEvent(BookingEvent):
    meeting_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingCancelled(MeetingEvent):
    """`refund_milli`: what the policy gives back; `reason` and `note`: a staff cancellation's."""

    name: ClassVar[str] = "meeting_cancelled"
    by: Initiator
    refund_milli: int
    reason: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingRescheduled(MeetingEvent):
    name: ClassVar[str] = "meeting_rescheduled"
    by: Initiator
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingCompleted(MeetingEvent):
    name: ClassVar[str] = "meeting_completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoShowReported(MeetingEvent):
    name: ClassVar[str] = "no_show_reported"
    absent: NoShowParty


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffNoShow(MeetingEvent):
    """The programme's staff hear of a no-show."""

    name: ClassVar[str] = "staff_no_show"
    absent: NoShowParty
    programme_id: int
    refund_milli: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffRefund(MeetingEvent):
    name: ClassVar[str] = "staff_refund"
    refund_milli: int
    reason: str
    note: str


# ---------------------------------------------------------------- reviews


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewLeft(BookingEvent):
    name: ClassVar[str] = "review_left"
    review_id: int
    by: str  # "client" or "expert"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewAnswered(BookingEvent):
    name: ClassVar[str] = "review_answered"
    review_id: int


# ---------------------------------------------------------------- the waitlist


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeFreed(Event):
    """Wakes the waitlist. The span is for the record: the whole free schedule is matched."""

    name: ClassVar[str] = "time_freed"
    expert_id: int
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitlistOffer(Event):
    """A freed time offered to one client (the offer as it was made)."""

    name: ClassVar[str] = "waitlist_offer"
    offer_id: int
    client_id: int
    expert_id: int
    start: datetime
    minutes: int
    expires_at: datetime


# ---------------------------------------------------------------- credit requests


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRequestCreated(Event):
    """Names the programme whose staff decide."""

    name: ClassVar[str] = "credit_request_created"
    request_id: int
    programme_id: int
    person_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRequestGranted(Event):
    name: ClassVar[str] = "credit_request_granted"
    request_id: int
    person_id: int
    amount_milli: int
    to_company: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRequestDeclined(Event):
    name: ClassVar[str] = "credit_request_declined"
    request_id: int
    person_id: int
