"""The unit of work: one database transaction, rolled back unless committed."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.clock import Clock, SystemClock
from core.events import Event
from storage.booking_repo import SqlBookings
from storage.calendar_repo import SqlCalendars
from storage.chat_repo import SqlConversations, SqlInbox, SqlOutbox
from storage.credit_repo import SqlCredits
from storage.dashboard_repo import SqlDashboard
from storage.db import session_factory
from storage.errors import ConcurrentChange, translate
from storage.expert_repo import SqlExperts
from storage.heartbeat_repo import SqlHeartbeats
from storage.intake_repo import SqlIntake
from storage.people_repo import SqlPeople
from storage.programme_repo import SqlProgrammes
from storage.signin_repo import SqlSignIns


class SqlUnitOfWork:
    people: SqlPeople
    experts: SqlExperts
    bookings: SqlBookings
    credits: SqlCredits
    programmes: SqlProgrammes
    signins: SqlSignIns
    dashboard: SqlDashboard
    conversations: SqlConversations
    inbox: SqlInbox
    outbox: SqlOutbox
    calendars: SqlCalendars
    intake: SqlIntake
    heartbeats: SqlHeartbeats
    events: list[Event]
    session: Session

    def __init__(self, engine_or_factory: Engine | sessionmaker[Session], clock: Clock | None = None) -> None:
        self._factory = (
            engine_or_factory if isinstance(engine_or_factory, sessionmaker) else session_factory(engine_or_factory)
        )
        self.clock = clock or SystemClock()

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.people = SqlPeople(self.session)
        self.experts = SqlExperts(self.session)
        self.bookings = SqlBookings(self.session, self.clock)
        self.credits = SqlCredits(self.session, self.clock)
        self.programmes = SqlProgrammes(self.session)
        self.signins = SqlSignIns(self.session)
        self.dashboard = SqlDashboard(self.session)
        self.conversations = SqlConversations(self.session, self.clock)
        self.inbox = SqlInbox(self.session, self.clock)
        self.outbox = SqlOutbox(self.session, self.clock)
        self.calendars = SqlCalendars(self.session, self.clock)
        self.intake = SqlIntake(self.session, self.clock)
        self.heartbeats = SqlHeartbeats(self.session, self.clock)
        self.events = []
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, IntegrityError):
            domain = translate(exc)
            if domain is not None:
                raise domain from exc
        if isinstance(exc, StaleDataError):
            raise ConcurrentChange("someone else changed this booking first") from exc

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
