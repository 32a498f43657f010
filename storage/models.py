"""Tables. The schema itself is created by the Alembic migrations in storage/migrations;
a test checks that these models and the migrated schema agree.

Guarantees the database keeps even if application code is wrong:
- meetings: no two active (held or confirmed) meetings of one expert overlap
  (PostgreSQL: an exclusion constraint; SQLite: a trigger), see migration 0001;
- wallets: available and held never below zero (CHECK);
- credit_movements: one row per idempotency key (UNIQUE), so nothing is applied twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    Unicode,
    Table,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

ACTIVE_MEETING_SQL = "status IN ('held', 'confirmed')"


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model here maps a Table (DeclarativeBase types __table__ as any FromClause).
        __table__: ClassVar[Table]


class ProgrammeRow(Base):
    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("credits_per_founder >= 0 AND credits_per_company >= 0", name="ck_programmes_credits_nonneg"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    pairing_mode: Mapped[str] = mapped_column(String(20), default="self_select")
    allowed_lengths: Mapped[str] = mapped_column(String(60), default="15,30,45,60,75,90")
    max_meetings: Mapped[int | None] = mapped_column(Integer)
    # Millicredits each founder and each company receive on joining (a top-up when raised later).
    credits_per_founder: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    credits_per_company: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Days after the last meeting that client and mentor can still write to each other through the bot.
    relay_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")


class CompanyRow(Base):
    __tablename__ = "companies"
    __table_args__ = (CheckConstraint("credits_milli IS NULL OR credits_milli >= 0", name="ck_companies_credits_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    credits_milli: Mapped[int | None] = mapped_column(BigInteger)  # its own allocation; None: the programme's


class ProgrammeStaffRow(Base):
    """Who is staff of which programme: the only source of a staff member's reach."""

    __tablename__ = "programme_staff"
    __table_args__ = (Index("ix_programme_staff_person", "person_id"),)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)


class ProgrammeExpertRow(Base):
    """A programme's roster of mentors: its staff may set their booking rules and pause them."""

    __tablename__ = "programme_experts"
    __table_args__ = (Index("ix_programme_experts_expert", "expert_id"),)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)


class PersonRow(Base):
    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    email: Mapped[str | None] = mapped_column(String(254))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)  # mirrors "staff of a programme" (programme_staff)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    email_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ExpertRow(Base):
    __tablename__ = "experts"
    __table_args__ = (
        CheckConstraint("kind IN ('pro_bono', 'compensated')", name="ck_experts_kind"),
        CheckConstraint("rate_multiplier > 0", name="ck_experts_rate_positive"),
        CheckConstraint("rating_count >= 0 AND rating_sum >= 0", name="ck_experts_rating"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="pro_bono", index=True)
    headline: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[str] = mapped_column(Text, default="")  # newline-separated, as typed
    languages: Mapped[str] = mapped_column(String(100), default="en")  # comma-separated codes
    rate_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    hourly_rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    meeting_provider: Mapped[str] = mapped_column(String(16), default="built_in")
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    session_count: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=12 * 60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # paused: takes no new requests
    paused_note: Mapped[str] = mapped_column(String(300), default="", server_default="")


class ExpertTermRow(Base):
    """The search index: one row per expert and term, weighted by the best field it appears in."""

    __tablename__ = "expert_terms"
    __table_args__ = (Index("ix_expert_terms_term", "term", "expert_id", "weight"),)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight: Mapped[int] = mapped_column(SmallInteger)


class ExpertLanguageRow(Base):
    __tablename__ = "expert_languages"
    __table_args__ = (Index("ix_expert_languages_code", "code", "expert_id"),)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class WeeklyWindowRow(Base):
    __tablename__ = "weekly_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_weekly_weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440", name="ck_weekly_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class AvailabilityExceptionRow(Base):
    __tablename__ = "availability_exceptions"
    __table_args__ = (CheckConstraint("kind IN ('off', 'extra')", name="ck_exception_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    start_minute: Mapped[int | None] = mapped_column(SmallInteger)
    end_minute: Mapped[int | None] = mapped_column(SmallInteger)


class CompanyExpertRow(Base):
    """Admin-assigned pairing: which experts a company may book."""

    __tablename__ = "company_experts"
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)


class WalletRow(Base):
    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("available >= 0", name="ck_wallets_available_nonneg"),
        CheckConstraint("held >= 0", name="ck_wallets_held_nonneg"),
        CheckConstraint("(person_id IS NULL) <> (company_id IS NULL)", name="ck_wallets_one_owner"),
        CheckConstraint("source IN ('programme', 'company', 'individual')", name="ck_wallets_source"),
        Index("ux_wallets_person", "source", "person_id", unique=True,
              sqlite_where=text("person_id IS NOT NULL"), postgresql_where=text("person_id IS NOT NULL")),
        Index("ux_wallets_company", "source", "company_id", unique=True,
              sqlite_where=text("company_id IS NOT NULL"), postgresql_where=text("company_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)


class CreditMovementRow(Base):
    __tablename__ = "credit_movements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("movement_id", "wallet_id", name="uq_ledger_movement_wallet"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("credit_movements.id"))
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # the movement's share taken from this wallet
    available_delta: Mapped[int] = mapped_column(BigInteger)
    held_delta: Mapped[int] = mapped_column(BigInteger)


class SeriesRow(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_status_expires", "status", "expires_at"),
        CheckConstraint("price_milli >= 0", name="ck_bookings_price_nonneg"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text, default="")
    intro_note: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(Text, default="")  # newline-separated references
    price_milli: Mapped[int] = mapped_column(BigInteger)
    money_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    proposed_by_expert: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"version_id_col": version}


class MeetingRow(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_meetings_order"),
        CheckConstraint("price_milli >= 0", name="ck_meetings_price_nonneg"),
        Index("ix_meetings_expert_start", "expert_id", "starts_at"),
        Index("ix_meetings_status_start", "status", "starts_at"),  # the scheduler's reminders
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))  # copied from the booking for the overlap guard
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    price_milli: Mapped[int] = mapped_column(BigInteger)
    reschedule_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("booking_id", "author_id", name="uq_reviews_booking_author"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="ck_reviews_stars"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")  # the expert's, once
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # hidden by programme staff
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", name="fk_reviews_hidden_by"))


class RelayMessageRow(Base):
    """A message one side of a session wrote to the other; the thread of a booking goes with it."""

    __tablename__ = "relay_messages"
    __table_args__ = (
        CheckConstraint("state IN ('sent', 'blocked', 'failed')", name="ck_relay_messages_state"),
        Index("ix_relay_messages_thread", "booking_id", "id"),
        Index("ix_relay_messages_author", "booking_id", "author_id", "created_at"),
        Index("ix_relay_messages_recipient", "recipient_id", "state"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(8), default="sent")
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it was found blocked or failed
class WaitlistEntryRow(Base):
    """A client waiting for an expert's time: one entry per client per expert, in line by created_at."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("client_id", "expert_id", name="uq_waitlist_entries_client_expert"),
        Index("ix_waitlist_entries_expert", "expert_id", "created_at"),
        CheckConstraint("minutes > 0", name="ck_waitlist_entries_minutes"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    minutes: Mapped[int] = mapped_column(SmallInteger)
    before: Mapped[datetime | None] = mapped_column(UTCDateTime())  # only times starting before this will do
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WaitlistOfferRow(Base):
    """Freed time offered to one waiting client until expires_at; kept after it closes, so the same time is
    never offered to the same client twice."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'taken', 'declined', 'lapsed', 'withdrawn')",
                        name="ck_waitlist_offers_status"),
        CheckConstraint("minutes > 0", name="ck_waitlist_offers_minutes"),
        Index("ix_waitlist_offers_status_expires", "status", "expires_at"),
        Index("ix_waitlist_offers_expert", "expert_id", "client_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CreditRequestRow(Base):
    """"Ask staff for credits": one open request per person, answered once (granted or declined)."""

    __tablename__ = "credit_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'granted', 'declined')", name="ck_credit_requests_status"),
        CheckConstraint("amount_milli IS NULL OR amount_milli > 0", name="ck_credit_requests_amount"),
        Index("ix_credit_requests_programme_status", "programme_id", "status"),
        Index("ux_credit_requests_open", "person_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    amount_milli: Mapped[int | None] = mapped_column(BigInteger)  # what they asked for, if they said
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    granted_milli: Mapped[int | None] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(String(500), default="")


class StaffActionRow(Base):
    """What staff did and why (cancel, move, refund, revoke, pause, triage...): once per key, kept for review."""

    __tablename__ = "staff_actions"
    __table_args__ = (
        Index("ix_staff_actions_programme", "programme_id", "created_at"),
        Index("ix_staff_actions_booking", "booking_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))  # None: the operator (CLI)
    action: Mapped[str] = mapped_column(String(32))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    amount_milli: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SigninLinkRow(Base):
    """A one-time link to the dashboard, sent in the chat: only its SHA-256 is stored."""

    __tablename__ = "signin_links"
    __table_args__ = (Index("ix_signin_links_expires", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DashboardSessionRow(Base):
    """A signed-in browser: the cookie's SHA-256, who, until when."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_expires", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConversationRow(Base):
    """Where a person is in a chat conversation: any process can continue it (optimistic version)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id", name="uq_conversations_address"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    flow: Mapped[str] = mapped_column(String(32), default="")
    step: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEventRow(Base):
    """Deliveries already handled: a platform's retry of the same event id acts once."""

    __tablename__ = "processed_events"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutboxRow(Base):
    """Messages to send, written in the same transaction as the change that caused them."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unsent", "sent_at", "id"),
        Index("ix_outbox_due", "platform", "sent_at", "id"),
        Index("ix_outbox_sent_message", "platform", "chat_id", "sent_message_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the reply as JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # A sender leases rows before sending (also the "not before" of a retry), so processes never double-send.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_message_id: Mapped[str | None] = mapped_column(String(64))  # the platform's id of what was sent
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a permanent refusal: not retried


class SchedulerJobRow(Base):
    """APScheduler 3's SQLAlchemyJobStore table, declared here so migrations own the whole schema."""

    __tablename__ = "apscheduler_jobs"
    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class CalendarConnectionRow(Base):
    """A person's own calendar: an iCalendar feed we read, or a CalDAV account we read and write.
    The secret (an app password) is sealed with a key from HEADSTRT_SECRET (bot/calendars/crypto.py)."""

    __tablename__ = "calendar_connections"
    __table_args__ = (
        CheckConstraint("kind IN ('feed', 'caldav')", name="ck_calendar_connections_kind"),
        CheckConstraint("failures >= 0", name="ck_calendar_connections_failures"),
        UniqueConstraint("person_id", "url", name="uq_calendar_connections_person_url"),
        Index("ix_calendar_connections_due", "next_refresh_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(2000))
    username: Mapped[str | None] = mapped_column(String(254))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    calendar_url: Mapped[str | None] = mapped_column(String(2000))  # CalDAV: the calendar collection found
    etag: Mapped[str | None] = mapped_column(String(300))  # a feed's ETag, or a CalDAV collection's sync token
    last_modified: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_refresh_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expanded_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # busy times known up to here
    busy_digest: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(300), default="")
    failure_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # told the owner, this streak


class CalendarBusyRow(Base):
    """A busy interval read from a connected calendar (recurrences expanded); the owner copied for the
    free-slot query, which reads these beside the expert's meetings."""

    __tablename__ = "calendar_busy"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_calendar_busy_order"),
        Index("ix_calendar_busy_person_start", "person_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uid: Mapped[str] = mapped_column(String(255))


class CalendarEventLinkRow(Base):
    """One of our meetings as an event in a connected CalDAV calendar: where it is, which SEQUENCE was
    written, and the retry state of the next write (the scheduler works these off)."""

    __tablename__ = "calendar_event_links"
    __table_args__ = (UniqueConstraint("connection_id", "meeting_id", name="uq_calendar_event_links"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("calendar_connections.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    href: Mapped[str | None] = mapped_column(String(2000))  # set once written; NULL: nothing there (yet)
    etag: Mapped[str | None] = mapped_column(String(300))
    sequence: Mapped[int | None] = mapped_column(Integer)  # the meeting's ics_sequence last written
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(300), default="")


class CalendarTokenRow(Base):
    """A person's private subscription feed: found by the token's hash, shown again from the sealed copy."""

    __tablename__ = "calendar_tokens"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarBusyPackedRow(Base):
    """All of a person's calendar busy time, overlaps joined, as one row: (start, end) epoch-second pairs
    packed as little-endian int64. Rebuilt from calendar_busy whenever that changes; read by the free-slot
    query, which then decodes one row instead of thousands."""

    __tablename__ = "calendar_busy_packed"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    spans: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FileRow(Base):
    """A file a person sent with a request: its bytes are in the files directory (path), its row here."""

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_booking", "booking_id"), Index("ix_files_created", "created_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
class PurchaseRow(Base):
    """An individual buying a credit pack in Telegram: pending until paid, then paid once per charge id
    (UNIQUE), refunded at most once. The token is the invoice's payload."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'paid', 'refunded')", name="ck_purchases_status"),
        CheckConstraint("credits_milli > 0 AND price_minor > 0", name="ck_purchases_positive"),
        Index("ix_purchases_person", "person_id", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    credits_milli: Mapped[int] = mapped_column(BigInteger)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(255))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboundEventRow(Base):
    """Every update or request a platform sent us, written before the platform is told it arrived, so a
    process that dies loses nothing: workers take them from here, each person's in the order they came."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("platform", "event_key", name="uq_inbound_events_key"),
        Index("ix_inbound_events_person", "status", "person_key", "id"),
        Index("ix_inbound_events_due", "status", "id"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_inbound_events_status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(128))  # the platform's own id: a redelivery is stored once
    person_key: Mapped[str] = mapped_column(String(96))  # platform:user: one person's events run in order
    payload: Mapped[str] = mapped_column(Text)  # the raw update or request body, as JSON
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())  # a failed attempt waits until then
    lease_owner: Mapped[str | None] = mapped_column(String(32))  # a live process's heartbeat owner
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class ProcessHeartbeatRow(Base):
    """One row per running process that holds leases (workers, outbox senders). A process that stops
    beating is dead once `expires_at` passes, and any live process takes over its leases at once instead
    of waiting out the lease."""

    __tablename__ = "process_heartbeats"
    owner: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
