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
from storage.db import keep_rows, session_factory
from storage.errors import ConcurrentChange, translate
from storage.expert_repo import SqlExperts
from storage.file_repo import SqlFiles
from storage.heartbeat_repo import SqlHeartbeats
from storage.intake_repo import SqlIntake
from storage.models import ExpertRow, PersonRow
from storage.people_repo import SqlPeople
from storage.programme_repo import SqlProgrammes
from storage.purchase_repo import SqlPurchases
from storage.relay_repo import SqlRelayMessages
from storage.signin_repo import SqlSignIns
from storage.waitlist_repo import SqlWaitlist


class SqlUnitOfWork:
    people: SqlPeople
    experts: SqlExperts
    bookings: SqlBookings
    credits: SqlCredits
    programmes: SqlProgrammes
    signins: SqlSignIns
    files: SqlFiles
    relay: SqlRelayMessages
    dashboard: SqlDashboard
    conversations: SqlConversations
    inbox: SqlInbox
    outbox: SqlOutbox
    calendars: SqlCalendars
    purchases: SqlPurchases
    waitlist: SqlWaitlist
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
        # People and experts are read again and again within one step (the actor, the other side, the
        # notices): the rows loaded once answer the later look-ups by id.
        keep_rows(self.session, PersonRow, ExpertRow)
        self.people = SqlPeople(self.session)
        self.credits = SqlCredits(self.session, self.clock)
        self.experts = SqlExperts(self.session, self.credits)
        self.bookings = SqlBookings(self.session, self.clock)
        self.programmes = SqlProgrammes(self.session)
        self.signins = SqlSignIns(self.session)
        self.files = SqlFiles(self.session)
        self.relay = SqlRelayMessages(self.session)
        self.dashboard = SqlDashboard(self.session)
        self.conversations = SqlConversations(self.session, self.clock)
        self.inbox = SqlInbox(self.session, self.clock)
        self.outbox = SqlOutbox(self.session, self.clock)
        self.calendars = SqlCalendars(self.session, self.clock)
        self.purchases = SqlPurchases(self.session)
        self.waitlist = SqlWaitlist(self.session)
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
        self._forget()

    def rollback(self) -> None:
        self.session.rollback()
        self._forget()

    def _forget(self) -> None:
        """A unit of work used on after a commit starts a new transaction: what it remembered of the last
        one (rows kept, what repositories know they just wrote or locked) is read again."""
        keep_rows(self.session, PersonRow, ExpertRow)
        for repo in (self.bookings, self.credits, self.experts):
            repo.forget()
