"""What the chat layer keeps: conversation state, deliveries already seen, and the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from core.clock import Clock
from storage.heartbeat_repo import held_by_dead
from storage.models import ConversationRow, OutboxRow, PersonRow, ProcessedEventRow
from storage.sql import execute_dml, insert_ignore, insert_ignore_many


@dataclass(slots=True)
class Conversation:
    platform: str
    chat_id: str
    user_id: str
    person_id: int | None = None
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to queue: once per key; `claim` leases it at once to this process's sender (token, lease)."""

    key: str
    person_id: int | None
    platform: str
    chat_id: str
    payload: str
    claim: tuple[str, timedelta] | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    person_id: int | None
    platform: str
    chat_id: str
    payload: str


class SqlConversations:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def load(self, platform: str, chat_id: str, user_id: str) -> Conversation:
        """The conversation, fresh; its person's row comes in the same query, so the look-up of who is
        writing that follows (by id, from the unit of work's rows) needs no query of its own."""
        found = self.session.execute(
            select(ConversationRow, PersonRow).outerjoin(PersonRow, PersonRow.id == ConversationRow.person_id)
            .where(
                ConversationRow.platform == platform, ConversationRow.chat_id == chat_id,
                ConversationRow.user_id == user_id,
            ).execution_options(populate_existing=True)
        ).first()
        if found is None:
            return Conversation(platform, chat_id, user_id)
        row = found[0]
        return Conversation(platform, chat_id, user_id, row.person_id, row.flow, row.step, json.loads(row.data),
                            row.version, row.id)

    def save(self, conversation: Conversation) -> bool:
        """Write if nobody else did since we loaded it; False means a racing event won."""
        now = self.clock.now()
        data = json.dumps(conversation.data, separators=(",", ":"), sort_keys=True)
        if conversation.id is None:
            inserted = insert_ignore(self.session, ConversationRow, dict(
                platform=conversation.platform, chat_id=conversation.chat_id, user_id=conversation.user_id,
                person_id=conversation.person_id, flow=conversation.flow, step=conversation.step, data=data,
                version=1, updated_at=now,
            ), returning="id")
            if inserted is None:
                return False
            conversation.id, conversation.version = inserted, 1
            return True
        changed = execute_dml(
            self.session, update(ConversationRow)
            .where(ConversationRow.id == conversation.id, ConversationRow.version == conversation.version)
            .values(person_id=conversation.person_id, flow=conversation.flow, step=conversation.step, data=data,
                    version=conversation.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            return False
        conversation.version += 1
        return True

    def last_platform(self, person_id: int, platforms: tuple[str, ...]) -> str | None:
        """Where the person talked to us most recently, among these platforms."""
        return self.session.scalar(
            select(ConversationRow.platform)
            .where(ConversationRow.person_id == person_id, ConversationRow.platform.in_(platforms))
            .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc()).limit(1)
        )


class SqlInbox:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def first_time(self, platform: str, event_id: str) -> bool:
        """Record a delivery; False if this event id was already handled (a retry or a duplicate)."""
        inserted = insert_ignore(self.session, ProcessedEventRow, dict(
            platform=platform, event_id=event_id[:128], received_at=self.clock.now(),
        ), returning="event_id")
        return inserted is not None

    def seen(self, platform: str, event_ids: list[str]) -> set[str]:
        """Which of these were handled already (one query for a page of them)."""
        if not event_ids:
            return set()
        return set(self.session.scalars(select(ProcessedEventRow.event_id).where(
            ProcessedEventRow.platform == platform, ProcessedEventRow.event_id.in_(event_ids))))


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """What waits to go out on one platform: never tried, tried and to be retried, given up for good."""

    platform: str
    pending: int
    retrying: int
    given_up: int
    oldest_waiting: datetime | None


class SqlOutbox:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.unclaimed: set[int] = set()  # rows queued in this transaction without the asked-for claim
        self._clear: set[tuple[str, str]] = set()  # chats with nothing earlier pending (checked once)

    def status(self) -> list[OutboxStatus]:
        """Per platform, the rows not sent: an operator sees notices nobody is sending (no chat process runs)."""
        waiting = OutboxRow.sent_at.is_(None) & OutboxRow.gave_up_at.is_(None)
        rows = self.session.execute(
            select(OutboxRow.platform,
                   func.sum(case((waiting & (OutboxRow.attempts == 0), 1), else_=0)),
                   func.sum(case((waiting & (OutboxRow.attempts > 0), 1), else_=0)),
                   func.sum(case((OutboxRow.gave_up_at.is_not(None), 1), else_=0)),
                   func.min(case((waiting, OutboxRow.created_at), else_=None)))
            .where(OutboxRow.sent_at.is_(None))
            .group_by(OutboxRow.platform).order_by(OutboxRow.platform)
        ).all()
        return [OutboxStatus(str(p), int(a or 0), int(b or 0), int(c or 0), _aware(d)) for p, a, b, c, d in rows]

    def add(self, key: str, person_id: int | None, platform: str, chat_id: str, payload: str, *,
            claim: tuple[str, timedelta] | None = None) -> int | None:
        """Queue once per key; None if that key was queued before. `claim` leases the row to a sender in
        this same transaction (the process that queued it sends it, without another round trip), unless the
        chat has earlier messages still pending that this sender does not hold (then the row is in
        `unclaimed`, and a poll sends it in turn)."""
        now = self.clock.now()
        refused = False
        if claim and (platform, chat_id) not in self._clear and self._waiting_chats({(platform, chat_id): claim[0]}):
            claim, refused = None, True  # the chat has earlier messages still to go: this one waits its turn
        token, until = (claim[0], now + claim[1]) if claim else (None, None)
        queued = insert_ignore(self.session, OutboxRow, dict(
            key=key[:200], person_id=person_id, platform=platform, chat_id=chat_id, payload=payload,
            created_at=now, attempts=0, last_error="", claim_token=token, claimed_until=until,
        ), returning="id", conflict=("key",))
        if claim and queued is not None:
            self._clear.add((platform, chat_id))  # our own rows behind it keep their order in our sender
        elif refused and queued is not None:
            self.unclaimed.add(queued)
        return queued

    def add_many(self, messages: list[Outgoing]) -> list[int | None]:
        """add() for all the messages of a step in one INSERT: each one's new id, in order, or None where its
        key was queued before (or earlier in the same list). A claim asked for in a chat that has earlier
        messages still pending that the claiming sender does not hold (another sender's, a dead one's, or
        nobody's: a retry waiting) is refused like add()'s: the row is queued unclaimed, listed in
        `unclaimed`, and a poll sends it after them. Behind the sender's own rows it is claimed: that sender
        sends a chat's rows one after another in order."""
        if not messages:
            return []
        now = self.clock.now()
        busy = self._waiting_chats({(m.platform, m.chat_id): m.claim[0] for m in messages
                                    if m.claim and (m.platform, m.chat_id) not in self._clear})
        rows = []
        for m in messages:
            claim = m.claim if (m.platform, m.chat_id) not in busy else None
            token, until = (claim[0], now + claim[1]) if claim else (None, None)
            rows.append(dict(key=m.key[:200], person_id=m.person_id, platform=m.platform, chat_id=m.chat_id,
                             payload=m.payload, created_at=now, attempts=0, last_error="", claim_token=token,
                             claimed_until=until))
        ids = dict((key, id_) for id_, key in insert_ignore_many(
            self.session, OutboxRow, rows, returning="id, key", conflict=("key",)))
        queued = [ids.pop(row["key"], None) for row in rows]  # pop: a key twice in the list is queued once
        for id_, m in zip(queued, messages):
            if id_ is None or not m.claim:
                continue
            if (m.platform, m.chat_id) in busy:
                self.unclaimed.add(id_)
            else:
                self._clear.add((m.platform, m.chat_id))  # our own rows behind it keep their order in our sender
        return queued

    def _waiting_chats(self, chats: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
        """Which of these chats have messages still pending that their claiming sender (the token given for
        the chat) does not hold; one query for all of them."""
        if not chats:
            return set()
        return {(platform, chat_id) for platform, chat_id in self.session.execute(
            select(OutboxRow.platform, OutboxRow.chat_id).distinct().where(
                OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None),
                or_(*(and_(OutboxRow.platform == platform, OutboxRow.chat_id == chat_id,
                           or_(OutboxRow.claim_token.is_(None), OutboxRow.claim_token != token))
                      for (platform, chat_id), token in sorted(chats.items())))))}

    def mark_many_sent(self, sent: list[tuple[int, str | None]], token: str) -> None:
        """Record a burst of deliveries in one transaction."""
        if not sent:
            return
        outbox = OutboxRow.__table__
        self.session.execute(  # one executemany: the driver sends the batch, not one statement each
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"), outbox.c.sent_at.is_(None), outbox.c.claim_token == token)
            .values(sent_at=self.clock.now(), attempts=outbox.c.attempts + 1, claim_token=None, claimed_until=None,
                    sent_message_id=bindparam("platform_id")),
            [{"row_id": message_id, "platform_id": platform_id} for message_id, platform_id in sent],
        )

    def pending(
        self, platform: str | None = None, person_id: int | None = None, limit: int = 100, *, chat_id: str | None = None
    ) -> list[OutboxMessage]:
        query = select(OutboxRow).where(OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None))
        if platform is not None:
            query = query.where(OutboxRow.platform == platform)
        if chat_id is not None:
            query = query.where(OutboxRow.chat_id == chat_id)
        if person_id is not None:
            query = query.where(OutboxRow.person_id == person_id)
        rows = self.session.scalars(query.order_by(OutboxRow.id).limit(limit))
        return [OutboxMessage(r.id, r.person_id, r.platform, r.chat_id, r.payload) for r in rows]

    def pending_keys(self, platform: str, prefix: str, limit: int = 1000) -> list[tuple[int, str]]:
        """(id, key) of unsent rows whose key starts with `prefix`: one kind of message still waiting."""
        rows = self.session.execute(
            select(OutboxRow.id, OutboxRow.key).where(
                OutboxRow.platform == platform, OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None),
                OutboxRow.key.startswith(prefix, autoescape=True)).order_by(OutboxRow.id).limit(limit))
        return [(row_id, key) for row_id, key in rows]

    def withdraw(self, message_ids: list[int], reason: str) -> int:
        """Never send these unsent rows (what they say is no longer true); how many were withdrawn."""
        if not message_ids:
            return 0
        return execute_dml(
            self.session, update(OutboxRow)
            .where(OutboxRow.id.in_(message_ids), OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None))
            .values(gave_up_at=self.clock.now(), last_error=reason[:500], claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount

    def claim(
        self, token: str, lease: timedelta, *, platform: str | None = None, ids: list[int] | None = None,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        """Lease due, unsent rows to one sender (`token`): another process skips them until the lease ends,
        so two senders never send one row. A crashed sender's rows come back as soon as its heartbeat expires
        (or, for a sender without one, when the lease runs out)."""
        now = self.clock.now()
        due = (OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None),
               or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now,
                   held_by_dead(OutboxRow.claim_token, now)))  # its sender died: no need to wait the lease out
        earlier = aliased(OutboxRow)
        blocked = exists().where(  # a chat's messages keep their order: none overtakes one still pending
            earlier.platform == OutboxRow.platform, earlier.chat_id == OutboxRow.chat_id, earlier.id < OutboxRow.id,
            earlier.sent_at.is_(None), earlier.gave_up_at.is_(None), earlier.claimed_until >= now,
            or_(earlier.claim_token.is_(None), ~held_by_dead(earlier.claim_token, now)),
        )
        query = select(OutboxRow.id).where(*due, ~blocked)
        if platform is not None:
            query = query.where(OutboxRow.platform == platform)
        if ids is not None:
            query = query.where(OutboxRow.id.in_(ids))
        # PostgreSQL: rows another sender is leasing right now are skipped, not waited for, so concurrent
        # senders take different rows (SQLite runs one writer at a time and ignores the clause).
        query = query.order_by(OutboxRow.id).limit(limit).with_for_update(skip_locked=True)
        candidates = list(self.session.scalars(query))
        if not candidates:
            return []
        self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(candidates), *due)
            .values(claimed_until=now + lease, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        rows = self.session.execute(
            select(OutboxRow.id, OutboxRow.person_id, OutboxRow.platform, OutboxRow.chat_id, OutboxRow.payload)
            .where(OutboxRow.id.in_(candidates), OutboxRow.claim_token == token, OutboxRow.sent_at.is_(None))
            .order_by(OutboxRow.id)
        )
        return [OutboxMessage(*row) for row in rows]

    def renew(self, message_id: int, token: str, lease: timedelta) -> bool:
        """Extend this sender's lease just before sending; False if the lease was lost (it ran out and
        another sender took the row), and then this sender must not send it."""
        now = self.clock.now()
        return execute_dml(
            self.session, update(OutboxRow).where(OutboxRow.id == message_id, OutboxRow.claim_token == token,
                                    OutboxRow.sent_at.is_(None), OutboxRow.claimed_until > now)
            .values(claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        ).rowcount == 1

    def mark_sent(self, message_id: int, at: datetime | None = None, *, sent_message_id: str | None = None,
                  token: str | None = None) -> bool:
        """True only for the first caller: a message is marked sent once."""
        return execute_dml(
            self.session, update(OutboxRow).where(OutboxRow.id == message_id, OutboxRow.sent_at.is_(None), *_holder(token))
            .values(sent_at=at or self.clock.now(), attempts=OutboxRow.attempts + 1, claim_token=None,
                    claimed_until=None, sent_message_id=sent_message_id)
            .execution_options(synchronize_session=False)
        ).rowcount == 1

    def mark_failed(self, message_id: int, error: str, *, retry_at: datetime | None = None,
                    give_up: bool = False, token: str | None = None) -> None:
        """Count a failed attempt; retried after `retry_at` (the lease becomes the "not before"), or never."""
        now = self.clock.now()
        self.session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id, OutboxRow.sent_at.is_(None), *_holder(token))
            .values(attempts=OutboxRow.attempts + 1, last_error=error[:500], claim_token=None,
                    claimed_until=retry_at, gave_up_at=now if give_up else None)
            .execution_options(synchronize_session=False)
        )

    def release(self, message_ids: list[int], retry_at: datetime | None = None, *, token: str | None = None) -> None:
        """Hand back rows this sender did not get to (without counting an attempt)."""
        if message_ids:
            self.session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(message_ids), OutboxRow.sent_at.is_(None), *_holder(token))
                .values(claim_token=None, claimed_until=retry_at)
                .execution_options(synchronize_session=False)
            )

    def attempts(self, message_id: int) -> int:
        return int(self.session.scalar(select(OutboxRow.attempts).where(OutboxRow.id == message_id)) or 0)

    def key(self, message_id: int) -> str | None:
        """The idempotency key a row was queued under (it names what the row delivers)."""
        return self.session.scalar(select(OutboxRow.key).where(OutboxRow.id == message_id))

    def owner_of(self, platform: str, chat_id: str, sent_message_id: str) -> int | None:
        """Whom a message on screen was for: in a group, only that person's presses count."""
        return self.session.scalar(
            select(OutboxRow.person_id).where(
                OutboxRow.platform == platform, OutboxRow.chat_id == chat_id,
                OutboxRow.sent_message_id == sent_message_id,
            ).order_by(OutboxRow.id.desc()).limit(1)
        )


def _holder(token: str | None) -> tuple[Any, ...]:
    """With a token, only the sender that holds the lease may settle the row."""
    return () if token is None else (OutboxRow.claim_token == token,)


def _aware(at: object) -> datetime | None:
    """min() over a column comes back without the column's type on some databases: make it aware UTC."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if not isinstance(at, datetime):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
