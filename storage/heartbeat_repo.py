"""Which processes are alive: each process that holds leases beats every few seconds; a lease whose
owner's heartbeat has expired is free at once, whatever time the lease itself had left."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, select, update
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session

from core.clock import Clock
from storage.models import ProcessHeartbeatRow
from storage.sql import execute_dml, insert_ignore

EPOCH_GRACE = timedelta(days=1)  # a stopped process's row is kept this long (for `worker status`)


def dead_owners(now: datetime) -> Select[tuple[str]]:
    """The owners known to be dead: their heartbeat expired (a crash) or they said goodbye (a stop)."""
    return select(ProcessHeartbeatRow.owner).where(ProcessHeartbeatRow.expires_at < now)


def held_by_dead(column: ColumnElement[str | None] | InstrumentedAttribute[str | None], now: datetime) -> ColumnElement[bool]:
    """`column` (a lease owner) names a process that is no longer alive."""
    return column.in_(dead_owners(now))


class SqlHeartbeats:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def beat(self, owners: list[str], *, kind: str, host: str, pid: int, dead_after: timedelta) -> None:
        """Say these owners are alive until now + dead_after (a new owner gets its row)."""
        now = self.clock.now()
        for owner in owners:
            changed = execute_dml(
                self.session, update(ProcessHeartbeatRow).where(ProcessHeartbeatRow.owner == owner)
                .values(beat_at=now, expires_at=now + dead_after)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not changed:
                insert_ignore(self.session, ProcessHeartbeatRow, dict(
                    owner=owner, kind=kind[:16], host=host[:64], pid=pid, started_at=now, beat_at=now,
                    expires_at=now + dead_after,
                ), returning="owner")

    def goodbye(self, owners: list[str]) -> None:
        """A clean stop: whatever these owners still hold is free for others now."""
        if owners:
            self.session.execute(
                update(ProcessHeartbeatRow).where(ProcessHeartbeatRow.owner.in_(owners))
                .values(expires_at=self.clock.now() - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )

    def prune(self) -> int:
        """Forget processes gone for a day."""
        return execute_dml(
            self.session, delete(ProcessHeartbeatRow).where(ProcessHeartbeatRow.expires_at < self.clock.now() - EPOCH_GRACE)
            .execution_options(synchronize_session=False)
        ).rowcount

    def alive(self) -> list[tuple[str, str, str, int, datetime]]:
        now = self.clock.now()
        rows = self.session.execute(
            select(ProcessHeartbeatRow.owner, ProcessHeartbeatRow.kind, ProcessHeartbeatRow.host,
                   ProcessHeartbeatRow.pid, ProcessHeartbeatRow.beat_at)
            .where(ProcessHeartbeatRow.expires_at >= now).order_by(ProcessHeartbeatRow.started_at)
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]
