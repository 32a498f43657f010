"""Wallets and the credit ledger. Each movement is applied once, under its key;
wallet rows never go below zero (CHECK), whatever runs at the same time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, desc, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from core.clock import Clock
from core.credits import Movement, Portion, Source, Wallet
from core.errors import InsufficientCredits
from storage.sql import execute_dml, insert_ignore
from storage.models import (
    CompanyRow,
    CreditMovementRow,
    LedgerEntryRow,
    PersonRow,
    ProgrammeRow,
    WalletRow,
)

# (available, held) change per unit moved
_DELTAS: dict[Movement, tuple[int, int]] = {
    Movement.GRANT: (1, 0),
    Movement.HOLD: (-1, 1),
    Movement.RELEASE: (1, -1),
    Movement.SPEND: (0, -1),
    Movement.CHARGE: (-1, 0),
    Movement.REFUND: (1, 0),
    Movement.REVOKE: (-1, 0),
}

# One movement of one portion (most of them) on PostgreSQL: three writes in one round trip. Each step runs only
# if the one before it wrote (a known key changes nothing; a wallet that cannot give writes no entry).
_ONE_MOVEMENT = text("""
WITH m AS (
    INSERT INTO credit_movements (key, kind, booking_id, amount, note, created_at)
    VALUES (:key, :kind, :booking_id, :amount, :note, :created_at)
    ON CONFLICT (key) DO NOTHING RETURNING id
), w AS (
    UPDATE wallets SET available = available + :available_delta, held = held + :held_delta
    WHERE id = :wallet_id AND available + :available_delta >= 0 AND held + :held_delta >= 0
      AND EXISTS (SELECT 1 FROM m)
    RETURNING id
), e AS (
    INSERT INTO ledger_entries (movement_id, wallet_id, amount, available_delta, held_delta)
    SELECT m.id, w.id, :amount, :available_delta, :held_delta FROM m, w
)
SELECT (SELECT id FROM m) AS movement_id, (SELECT id FROM w) AS wallet_id
""").bindparams(
    bindparam("key", type_=CreditMovementRow.__table__.c.key.type),
    bindparam("kind", type_=CreditMovementRow.__table__.c.kind.type),
    bindparam("booking_id", type_=CreditMovementRow.__table__.c.booking_id.type),
    bindparam("amount", type_=CreditMovementRow.__table__.c.amount.type),
    bindparam("note", type_=CreditMovementRow.__table__.c.note.type),
    bindparam("created_at", type_=CreditMovementRow.__table__.c.created_at.type),
    bindparam("wallet_id", type_=WalletRow.__table__.c.id.type),
    bindparam("available_delta", type_=WalletRow.__table__.c.available.type),
    bindparam("held_delta", type_=WalletRow.__table__.c.held.type),
)


class SqlCredits:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        # Wallets read with lock=True, kept current by apply(): nobody else can change them before this
        # transaction ends (row locks on PostgreSQL, the writer lock on SQLite), so reading them again
        # (the balance shown after a hold) needs no query.
        self._locked: dict[int, list[Wallet]] = {}
        self._ahead: set[int] = set()  # wallets locked ahead of the wallets_for(lock=True) that will use them

    def forget(self) -> None:
        self._locked.clear()
        self._ahead.clear()

    def _owner_filter(self, person_id: int) -> ColumnElement[bool]:
        return owner_filter(person_id)

    def wallets_query(self, person_id: int, *, lock: bool) -> Select[tuple[WalletRow, str, str]]:
        return wallets_query(person_id, lock=lock)

    def wallets_for(self, person_id: int, *, lock: bool = False) -> list[Wallet]:
        if person_id in self._locked and (not lock or person_id in self._ahead):
            self._ahead.discard(person_id)  # read under lock just before (experts.lock): once, as a read would
            return list(self._locked[person_id])
        postgres = self.session.get_bind().dialect.name == "postgresql"
        # Read as the lock leaves them (PostgreSQL).
        query = self.wallets_query(person_id, lock=lock and postgres)
        rows = self.session.execute(query.execution_options(populate_existing=True)).all()
        if lock:
            self._locked[person_id] = [_wallet(w, company, programme) for w, company, programme in rows]
        return [_wallet(w, company, programme) for w, company, programme in rows]

    def keep_locked(self, person_id: int, rows: Sequence[tuple[WalletRow, str | None, str | None]]) -> None:
        """The person's wallets, just read under lock by experts.lock(wallets_of=...): the next
        wallets_for(lock=True) answers from them instead of reading them again."""
        self._locked[person_id] = [_wallet(w, company, programme) for w, company, programme in rows]
        self._ahead.add(person_id)

    def locked_ahead(self, person_id: int) -> bool:
        return person_id in self._ahead and person_id in self._locked

    def wallet(
        self, *, source: Source, person_id: int | None = None, company_id: int | None = None, create: bool = True
    ) -> Wallet | None:
        owner = WalletRow.person_id == person_id if person_id is not None else WalletRow.company_id == company_id
        query = select(WalletRow).where(WalletRow.source == source.value, owner)
        row = self.session.scalar(query)
        if row is None and create:
            values = {"source": source.value, "person_id": person_id, "company_id": company_id, "available": 0, "held": 0}
            insert_ignore(self.session, WalletRow, values, returning="id")
            self._locked.clear()  # someone has one more wallet now
            row = self.session.scalar(query)
        return _wallet(row, None, None) if row is not None else None

    def apply(
        self, key: str, kind: Movement, portions: Sequence[Portion], *, booking_id: int | None = None, note: str = ""
    ) -> bool:
        if any(p.amount <= 0 for p in portions):
            raise ValueError("every portion of a movement is positive")
        self.session.flush()
        # A portion that cannot be applied undoes the whole movement, key included, even for a caller
        # that catches the error and commits the rest of its work. One portion (most movements): nothing
        # is written before its wallet is checked but the movement row, which is deleted again. Several:
        # a savepoint.
        if len(portions) == 1 and self.session.get_bind().dialect.name == "postgresql":
            applied = self._apply_one(key, kind, portions[0], booking_id, note)
        elif len(portions) == 1:
            applied = self._apply(key, kind, portions, booking_id, note)
        else:
            with self.session.begin_nested():
                applied = self._apply(key, kind, portions, booking_id, note)
        if applied:
            self._moved(kind, portions)
        return applied

    def _moved(self, kind: Movement, portions: Sequence[Portion]) -> None:
        """Keep the wallets read under lock as the movement left them."""
        da, dh = _DELTAS[kind]
        change: dict[int, int] = {}
        for p in portions:
            change[p.wallet_id] = change.get(p.wallet_id, 0) + p.amount
        for person_id, wallets in self._locked.items():
            self._locked[person_id] = [
                replace(w, available=w.available + da * change[w.id], held=w.held + dh * change[w.id])
                if w.id in change else w for w in wallets
            ]

    def _apply_one(self, key: str, kind: Movement, portion: Portion, booking_id: int | None, note: str) -> bool:
        """_apply() of one portion on PostgreSQL in one statement (data-modifying CTEs): the movement row,
        the wallet's guarded change (only if the movement is new) and the ledger entry (only if both
        happened). A wallet that cannot give takes the movement back by hand, as _apply does."""
        da, dh = _DELTAS[kind]
        amount = portion.amount
        found = self.session.execute(_ONE_MOVEMENT, dict(
            key=key, kind=kind.value, booking_id=booking_id, amount=amount, note=note[:300],
            created_at=self.clock.now(), wallet_id=portion.wallet_id, available_delta=da * amount,
            held_delta=dh * amount,
        )).one()
        movement_id, wallet_id = found
        if movement_id is None:
            return False  # applied before: a retry, a double press, a second scheduler
        if wallet_id is None:
            self.session.execute(delete(CreditMovementRow).where(CreditMovementRow.id == movement_id)
                                 .execution_options(synchronize_session=False))
            have = self.session.scalar(select(WalletRow.available).where(WalletRow.id == portion.wallet_id)) or 0
            raise InsufficientCredits(
                f"wallet {portion.wallet_id} cannot give {amount} for {kind}",
                wallet_id=portion.wallet_id, needed=amount, available=have,
            )
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, WalletRow):  # changed under the ORM's feet; nothing else was
                self.session.expire(obj)
        return True

    def _apply(
        self, key: str, kind: Movement, portions: Sequence[Portion], booking_id: int | None, note: str
    ) -> bool:
        """Inside a savepoint, unless there is a single portion (see apply)."""
        total = sum(p.amount for p in portions)
        movement_id = insert_ignore(self.session, CreditMovementRow, dict(
            key=key, kind=kind.value, booking_id=booking_id, amount=total, note=note[:300], created_at=self.clock.now(),
        ), returning="id", conflict=("key",))
        if movement_id is None:
            return False  # applied before: a retry, a double press, a second scheduler
        da, dh = _DELTAS[kind]
        for portion in portions:
            changed = execute_dml(
                self.session, update(WalletRow)
                .where(WalletRow.id == portion.wallet_id,
                       WalletRow.available + da * portion.amount >= 0,
                       WalletRow.held + dh * portion.amount >= 0)
                .values(available=WalletRow.available + da * portion.amount, held=WalletRow.held + dh * portion.amount)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                if len(portions) == 1:  # no savepoint: take the movement back by hand
                    self.session.execute(delete(CreditMovementRow).where(CreditMovementRow.id == movement_id)
                                         .execution_options(synchronize_session=False))
                have = self.session.scalar(select(WalletRow.available).where(WalletRow.id == portion.wallet_id)) or 0
                raise InsufficientCredits(
                    f"wallet {portion.wallet_id} cannot give {portion.amount} for {kind}",
                    wallet_id=portion.wallet_id, needed=portion.amount, available=have,
                )
            self.session.add(LedgerEntryRow(
                movement_id=movement_id, wallet_id=portion.wallet_id, amount=portion.amount,
                available_delta=da * portion.amount, held_delta=dh * portion.amount,
            ))
        self.session.flush()
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, WalletRow):  # changed under the ORM's feet; nothing else was
                self.session.expire(obj)
        return True

    def portions(self, booking_id: int, kind: Movement) -> list[Portion]:
        rows = self.session.execute(
            select(LedgerEntryRow.wallet_id, LedgerEntryRow.amount)
            .join(CreditMovementRow, CreditMovementRow.id == LedgerEntryRow.movement_id)
            .where(CreditMovementRow.booking_id == booking_id, CreditMovementRow.kind == kind.value)
            .order_by(LedgerEntryRow.id)
        ).all()
        return [Portion(w, a) for w, a in rows]

    def history(self, person_id: int, limit: int = 20) -> list[tuple[datetime, Movement, int, str, str]]:
        rows = self.session.execute(
            select(CreditMovementRow.created_at, CreditMovementRow.kind, LedgerEntryRow.amount, WalletRow,
                   CompanyRow.name, ProgrammeRow.name, CreditMovementRow.note)
            .join(LedgerEntryRow, LedgerEntryRow.movement_id == CreditMovementRow.id)
            .join(WalletRow, WalletRow.id == LedgerEntryRow.wallet_id)
            .outerjoin(CompanyRow, CompanyRow.id == WalletRow.company_id)
            .outerjoin(ProgrammeRow, ProgrammeRow.id == CompanyRow.programme_id)
            .where(self._owner_filter(person_id))
            .order_by(desc(LedgerEntryRow.id))
            .limit(limit)
        ).all()
        return [(at, Movement(kind), amount, _wallet(w, c, p).label, note) for at, kind, amount, w, c, p, note in rows]


def owner_filter(person_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The wallets a person spends from: their own and their company's."""
    company_id = select(PersonRow.company_id).where(PersonRow.id == person_id).scalar_subquery()
    return or_(WalletRow.person_id == person_id, and_(WalletRow.company_id.is_not(None), WalletRow.company_id == company_id))


def wallets_query(person_id: int | BindParameter[int], *, lock: bool) -> Select[tuple[WalletRow, str, str]]:
    """The person's wallets (their own and their company's) with the names in their labels (None when it has
    no company or programme: outer joins), by id; lock: locked in id order (no deadlocks between co-founders),
    for PostgreSQL (SQLite's write lock already serialises). person_id may be a bind parameter (a statement
    built once)."""
    query = (
        select(WalletRow, CompanyRow.name, ProgrammeRow.name)
        .outerjoin(CompanyRow, CompanyRow.id == WalletRow.company_id)
        .outerjoin(ProgrammeRow, ProgrammeRow.id == CompanyRow.programme_id)
        .where(owner_filter(person_id))
        .order_by(WalletRow.id)
    )
    return query.with_for_update(of=WalletRow) if lock else query


def _wallet(row: WalletRow, company: str | None, programme: str | None) -> Wallet:
    source = Source(row.source)
    if source is Source.PROGRAMME:
        label = f"Programme allocation ({programme})" if programme else "Programme allocation"
    elif source is Source.COMPANY:
        label = f"Company allocation ({company})" if company else "Company allocation"
    else:
        label = "Your own credits"
    return Wallet(row.id, source, row.available, row.held, label)
