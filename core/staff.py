"""What programme staff work with: requests for credits, the log of what they did and why, and the
feedback and no-show reports they read. Plain records; the use cases are in support_service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.lifecycle import MeetingStatus


class StaffReason(StrEnum):
    """Why staff cancel or move a meeting; decides the refund (see support_service.staff_refund)."""

    TECHNICAL = "technical"  # the platform or the call failed: full refund, even after the start
    EXPERT_REQUEST = "expert_request"  # the expert cannot make it: full refund
    CLIENT_REQUEST = "client_request"  # on the client's behalf: the client's own policy applies
    OTHER = "other"  # staff's decision: full refund


class CreditRequestStatus(StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """A founder's "ask staff for credits", answered once by their programme's staff."""

    id: int | None
    person_id: int
    programme_id: int
    company_id: int | None
    amount_milli: int | None  # what they asked for, if they said
    note: str
    status: CreditRequestStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None
    granted_milli: int | None = None
    answer: str = ""


@dataclass(frozen=True, slots=True)
class StaffAction:
    """One thing staff did, recorded once under `key` (a second press finds it and changes nothing)."""

    key: str
    action: str  # "cancel", "move", "refund", "grant", "revoke", "pause", "resume", "rules", "triage_*", ...
    programme_id: int | None
    actor_id: int | None  # None: the operator at the command line
    created_at: datetime
    booking_id: int | None = None
    meeting_id: int | None = None
    subject: str = ""  # whom or what it was about, in words ("@ana", "Acme Ltd", "@priya.r")
    amount_milli: int | None = None
    reason: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """A review as staff see it: with the private note the bot promised only staff would read."""

    booking_id: int
    programme_id: int
    title: str
    author_id: int
    author_handle: str
    author_is_client: bool
    expert_id: int
    expert_name: str
    client_name: str
    stars: int
    text: str
    private_note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoShowReport:
    booking_id: int
    meeting_id: int
    programme_id: int
    title: str
    start: datetime
    status: MeetingStatus  # NO_SHOW_EXPERT: the client reported the expert missing; NO_SHOW_CLIENT: the reverse
    client_name: str
    expert_name: str
    price_milli: int
