"""The records the engine works on: people, programmes, bookings and their meetings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.lifecycle import ACTIVE_MEETING_STATUSES, BookingStatus, MeetingStatus, PairingMode
from core.sessions import SessionDetails, SessionRules


@dataclass(slots=True)
class Person:
    id: int | None
    handle: str
    name: str
    timezone: str = "UTC"
    locale: str = "en"
    email: str | None = None
    slack_user_id: str | None = None
    telegram_user_id: int | None = None
    is_staff: bool = False  # staff of at least one programme (menus); what they may reach: core.staff_access
    company_id: int | None = None
    email_reminders: bool = True  # the reminder email 24 h before a meeting (when they have an address)


@dataclass(frozen=True, slots=True)
class Programme:
    id: int
    name: str
    pairing_mode: PairingMode = PairingMode.SELF_SELECT
    rules: SessionRules = field(default_factory=SessionRules)
    credits_per_founder: int = 0  # millicredits each founder receives on joining
    credits_per_company: int = 0  # millicredits each company receives on joining (unless it has its own)
    relay_days: int = 30  # client and mentor can write to each other this many days after the last meeting


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str
    programme_id: int | None
    credits_milli: int | None = None  # the company's own allocation; None: the programme's per-company one


@dataclass(slots=True)
class Meeting:
    id: int | None
    start: datetime
    end: datetime
    price_milli: int
    status: MeetingStatus = MeetingStatus.HELD
    reschedule_count: int = 0
    ics_sequence: int = 0  # raised on every change so calendars update the same event

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_MEETING_STATUSES


@dataclass(slots=True)
class Booking:
    """One session request: one or more meetings with one expert."""

    id: int | None
    client_id: int
    expert_id: int
    status: BookingStatus
    details: SessionDetails
    meetings: list[Meeting]
    price_milli: int
    created_at: datetime
    expires_at: datetime
    programme_id: int | None = None
    money_minor: int | None = None
    currency: str | None = None
    series_id: int | None = None
    decided_at: datetime | None = None
    decline_reason: str = ""
    proposed_by_expert: bool = False  # the expert suggested other times; the client answers
    version: int = 0

    @property
    def first_start(self) -> datetime:
        return min(m.start for m in self.meetings)

    def meeting(self, meeting_id: int) -> Meeting:
        for meeting in self.meetings:
            if meeting.id == meeting_id:
                return meeting
        raise KeyError(meeting_id)


@dataclass(frozen=True, slots=True)
class Review:
    """Stars and a public text by one side of a session, and a private note only programme staff read.
    The expert may answer the client's review once; staff of the programme may hide it."""

    booking_id: int
    author_id: int
    stars: int
    text: str = ""
    private_note: str = ""
    id: int | None = None
    created_at: datetime | None = None
    answer: str = ""
    answered_at: datetime | None = None
    hidden_at: datetime | None = None
    hidden_by: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.stars <= 5:
            raise ValueError("stars are 1 to 5")


class RelayState(StrEnum):
    """Where a relayed message is: handed to the outbox, or refused by the recipient's platform."""

    SENT = "sent"  # queued for the recipient (the outbox delivers it, or gives up)
    BLOCKED = "blocked"  # the recipient blocked the bot (or left the workspace): not delivered
    FAILED = "failed"  # the platform refused it for another reason: not delivered


@dataclass(frozen=True, slots=True)
class RelayMessage:
    """A message one side of a session wrote to the other, passed on by the bot to the other's chat."""

    booking_id: int
    author_id: int
    recipient_id: int
    text: str
    created_at: datetime
    id: int | None = None
    state: RelayState = RelayState.SENT
    state_at: datetime | None = None  # when it was found blocked or failed
