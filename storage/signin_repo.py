"""The dashboard's one-time sign-in links and browser sessions. Only SHA-256 hashes of the tokens are
stored, so a copy of the database opens no dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import DashboardSessionRow, SigninLinkRow
from storage.sql import execute_dml


class SqlSignIns:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_link(self, token_hash: str, person_id: int, created_at: datetime, expires_at: datetime) -> None:
        self.session.add(SigninLinkRow(token_hash=token_hash, person_id=person_id, created_at=created_at,
                                       expires_at=expires_at))
        self.session.flush()

    def use_link(self, token_hash: str, now: datetime) -> int | None:
        """One conditional UPDATE: of two browsers racing with the same link, exactly one gets a session."""
        person_id = self.session.scalar(select(SigninLinkRow.person_id).where(SigninLinkRow.token_hash == token_hash))
        if person_id is None:
            return None
        used = execute_dml(
            self.session, update(SigninLinkRow)
            .where(SigninLinkRow.token_hash == token_hash, SigninLinkRow.used_at.is_(None), SigninLinkRow.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False)
        ).rowcount
        return int(person_id) if used == 1 else None

    def add_session(self, token_hash: str, person_id: int, created_at: datetime, expires_at: datetime) -> None:
        self.session.add(DashboardSessionRow(token_hash=token_hash, person_id=person_id, created_at=created_at,
                                             expires_at=expires_at))
        self.session.flush()

    def session_person(self, token_hash: str, now: datetime) -> int | None:
        return self.session.scalar(select(DashboardSessionRow.person_id).where(
            DashboardSessionRow.token_hash == token_hash, DashboardSessionRow.ended_at.is_(None),
            DashboardSessionRow.expires_at > now,
        ))

    def end_session(self, token_hash: str, now: datetime) -> bool:
        return bool(execute_dml(
            self.session, update(DashboardSessionRow)
            .where(DashboardSessionRow.token_hash == token_hash, DashboardSessionRow.ended_at.is_(None))
            .values(ended_at=now).execution_options(synchronize_session=False)
        ).rowcount)

    def forget_before(self, before: datetime) -> int:
        """Links and sessions that expired or ended before this instant are deleted (they open nothing)."""
        gone = execute_dml(self.session, delete(SigninLinkRow).where(SigninLinkRow.expires_at < before)).rowcount
        gone += execute_dml(self.session, delete(DashboardSessionRow).where(
            or_(DashboardSessionRow.expires_at < before, DashboardSessionRow.ended_at < before)
        )).rowcount
        return int(gone)
