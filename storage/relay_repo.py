"""Messages between the two sides of a session (core.relay_service has the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from core.model import RelayMessage, RelayState
from storage.models import OutboxRow, RelayMessageRow
from storage.sql import execute_dml


def _message(row: RelayMessageRow) -> RelayMessage:
    return RelayMessage(row.booking_id, row.author_id, row.recipient_id, row.text, row.created_at, row.id,
                        RelayState(row.state), row.state_at)


class SqlRelayMessages:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: RelayMessage) -> RelayMessage:
        row = RelayMessageRow(booking_id=message.booking_id, author_id=message.author_id,
                              recipient_id=message.recipient_id, text=message.text, created_at=message.created_at,
                              state=message.state.value, state_at=message.state_at)
        self.session.add(row)
        self.session.flush()
        return _message(row)

    def get(self, message_id: int) -> RelayMessage | None:
        row = self.session.get(RelayMessageRow, message_id, populate_existing=True)
        return _message(row) if row is not None else None

    def thread(self, booking_id: int, limit: int) -> list[RelayMessage]:
        rows = self.session.scalars(
            select(RelayMessageRow).where(RelayMessageRow.booking_id == booking_id)
            .order_by(RelayMessageRow.id.desc()).limit(limit)
        ).all()
        return [_message(r) for r in reversed(rows)]

    def count_since(self, booking_id: int, author_id: int, since: datetime) -> int:
        return int(self.session.scalar(
            select(func.count()).select_from(RelayMessageRow)
            .where(RelayMessageRow.booking_id == booking_id, RelayMessageRow.author_id == author_id,
                   RelayMessageRow.created_at > since)
        ) or 0)

    def mark(self, message_id: int, state: RelayState, at: datetime) -> bool:
        return execute_dml(
            self.session, update(RelayMessageRow)
            .where(RelayMessageRow.id == message_id, RelayMessageRow.state == RelayState.SENT.value)
            .values(state=state.value, state_at=at).execution_options(synchronize_session=False)
        ).rowcount == 1

    def recipient_blocked(self, person_id: int, *, author_id: int | None = None) -> bool:
        """Blocked since the newest refusal unless a chat message reached them after it (they wrote to the
        bot again and it answered): the outbox is what knows."""
        query = select(func.max(RelayMessageRow.state_at)).where(
            RelayMessageRow.recipient_id == person_id, RelayMessageRow.state == RelayState.BLOCKED.value)
        if author_id is not None:
            query = query.where(RelayMessageRow.author_id == author_id)
        refused = self.session.scalar(query)
        if refused is None:
            return False
        reached = self.session.scalar(select(exists().where(
            OutboxRow.person_id == person_id, OutboxRow.platform != "email", OutboxRow.sent_at > refused,
        )))
        return not reached
