"""Durable intake: platform events written before they are acknowledged, then taken by workers.

A worker claims, for each person, only their oldest unfinished event, and only when nobody alive holds
it: one person's events run one at a time and in order, different people in parallel, and the events of
a dead process (its heartbeat expired) are free at once. On PostgreSQL the claim skips rows another
worker is claiming (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time (BEGIN IMMEDIATE), and the
same conditions are checked again in the UPDATE, so a claim is never shared on either."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from core.clock import Clock
from storage.heartbeat_repo import held_by_dead
from storage.intake_notify import notify_stored
from storage.models import InboundEventRow
from storage.sql import execute_dml, insert_ignore_many

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True, slots=True)
class NewEvent:
    platform: str
    event_key: str  # the platform's own id (Telegram's update_id, Slack's event_id, a hash of the body)
    person_key: str  # whose order it keeps: platform:user id
    payload: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    platform: str
    event_key: str
    person_key: str
    payload: str
    attempts: int


class SqlIntake:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    @contextmanager
    def connection_held(self) -> Iterator[None]:
        """A connection of the pool taken, and held while inside, with no transaction begun (SQLite's would
        take the write lock): a receiving process opens its store connections at start, not in its first
        burst of requests."""
        with self.session.get_bind().engine.connect():
            yield

    def store(self, events: list[NewEvent]) -> list[int | None]:
        """Write events once each: the new row's id, or None for an event stored before (a redelivery).
        One statement for the lot (a burst is stored together, bot/intake_batch.py); the ids rise in the
        order given, which is each person's order."""
        if not events:
            return []
        now = self.clock.now()
        rows = [dict(platform=e.platform, event_key=e.event_key[:128], person_key=e.person_key[:96],
                     payload=e.payload, received_at=now, status=PENDING, attempts=0, available_at=now,
                     lease_owner=None, lease_until=None, last_error="") for e in events]
        new = {(platform, key): id_ for id_, platform, key in insert_ignore_many(
            self.session, InboundEventRow, rows, returning="id, platform, event_key", conflict=("platform", "event_key"))}
        ids = [new.pop((row["platform"], row["event_key"]), None) for row in rows]  # a key twice: the first
        if any(i is not None for i in ids):
            notify_stored(self.session)  # workers elsewhere look at once (PostgreSQL, on commit)
        return ids

    def claim_next(self, owner: str, limit: int, lease: timedelta, *,
                   platforms: tuple[str, ...] | None = None) -> list[StoredEvent]:
        """Lease up to `limit` events to `owner`: each person's oldest unfinished one, when it is due and
        nobody alive holds it."""
        now = self.clock.now()
        row = InboundEventRow
        free = (row.status == PENDING, row.available_at <= now,
                or_(row.lease_owner.is_(None), row.lease_until < now, held_by_dead(row.lease_owner, now)))
        earlier = aliased(InboundEventRow)
        not_first = exists().where(earlier.status == PENDING, earlier.person_key == row.person_key,
                                   earlier.id < row.id)
        query = select(row.id).where(*free, ~not_first)
        if platforms is not None:
            query = query.where(row.platform.in_(platforms))
        query = query.order_by(row.id).limit(limit).with_for_update(skip_locked=True)
        candidates = list(self.session.scalars(query))
        if not candidates:
            return []
        rows = self.session.execute(  # RETURNING: the claimed rows without a query of their own
            update(row).where(row.id.in_(candidates), *free)
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(row.id, row.platform, row.event_key, row.person_key, row.payload, row.attempts)
            .execution_options(synchronize_session=False)
        )
        return sorted((StoredEvent(*r) for r in rows), key=lambda event: event.id)

    def complete(self, ids: list[int], owner: str | None = None) -> int:
        """Mark events done (only those `owner` still holds, when given); how many were."""
        if not ids:
            return 0
        return execute_dml(
            self.session, update(InboundEventRow).where(InboundEventRow.id.in_(ids), InboundEventRow.status == PENDING,
                                          *_holder(owner))
            .values(status=DONE, finished_at=self.clock.now(), lease_owner=None, lease_until=None,
                    attempts=InboundEventRow.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount

    def fail(self, event_id: int, error: str, *, retry_in: timedelta | None, owner: str | None = None,
             count: bool = True) -> None:
        """A failed attempt: tried again after `retry_in` (the person's later events wait), or, with
        retry_in None, given up for good (they go on). count=False: not the event's fault (the database
        was away), so it does not bring the event closer to being given up."""
        now = self.clock.now()
        values = dict(attempts=InboundEventRow.attempts + (1 if count else 0), last_error=error[:500],
                      lease_owner=None, lease_until=None)
        if retry_in is None:
            values.update(status=FAILED, finished_at=now)
        else:
            values.update(available_at=now + retry_in)
        self.session.execute(
            update(InboundEventRow).where(InboundEventRow.id == event_id, InboundEventRow.status == PENDING,
                                          *_holder(owner))
            .values(**values).execution_options(synchronize_session=False)
        )

    def release(self, ids: list[int], owner: str) -> None:
        """Hand back events this owner took but did not work on (a stop), without counting an attempt."""
        if ids:
            self.session.execute(
                update(InboundEventRow).where(InboundEventRow.id.in_(ids), InboundEventRow.status == PENDING,
                                              InboundEventRow.lease_owner == owner)
                .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
            )

    def renew(self, ids: list[int], owner: str, lease: timedelta) -> None:
        """Keep the events in hand (a long step) leased."""
        if ids:
            self.session.execute(
                update(InboundEventRow).where(InboundEventRow.id.in_(ids), InboundEventRow.lease_owner == owner,
                                              InboundEventRow.status == PENDING)
                .values(lease_until=self.clock.now() + lease).execution_options(synchronize_session=False)
            )

    def status(self, event_id: int) -> tuple[str, int] | None:
        row = self.session.execute(select(InboundEventRow.status, InboundEventRow.attempts)
                                   .where(InboundEventRow.id == event_id)).first()
        return None if row is None else (row[0], row[1])

    def counts(self) -> dict[tuple[str, str], int]:
        """(platform, status) -> how many: pending, done, failed; pending split by "leased" and "waiting"."""
        now = self.clock.now()
        leased = and_(InboundEventRow.lease_owner.is_not(None), InboundEventRow.lease_until >= now)
        out: Counter[tuple[str, str]] = Counter()
        for platform, status, is_leased, n in self.session.execute(
            select(InboundEventRow.platform, InboundEventRow.status, leased, func.count())
            .group_by(InboundEventRow.platform, InboundEventRow.status, leased)
        ):
            out[(platform, status)] += n
            if status == PENDING and is_leased:
                out[(platform, "in hand")] += n
        return dict(out)

    def unfinished(self, platform: str | None = None) -> int:
        query = select(func.count()).where(InboundEventRow.status == PENDING)
        if platform is not None:
            query = query.where(InboundEventRow.platform == platform)
        return int(self.session.scalar(query) or 0)

    def prune(self, before: datetime) -> int:
        """Forget finished events (their keys too: a platform redelivers within minutes, not days)."""
        return execute_dml(
            self.session, delete(InboundEventRow).where(InboundEventRow.status != PENDING, InboundEventRow.finished_at < before)
            .execution_options(synchronize_session=False)
        ).rowcount


def _holder(owner: str | None) -> tuple[ColumnElement[bool], ...]:
    return () if owner is None else (InboundEventRow.lease_owner == owner,)
