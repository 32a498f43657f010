"""The waitlist: entries in line and the offers made from it (core.ports.Waitlist)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.waitlist import OfferStatus, WaitEntry, WaitOffer
from storage.models import WaitlistEntryRow, WaitlistOfferRow
from storage.sql import execute_dml


def _entry(row: WaitlistEntryRow) -> WaitEntry:
    return WaitEntry(row.id, row.client_id, row.expert_id, row.minutes, row.created_at, row.before)


def _offer(row: WaitlistOfferRow) -> WaitOffer:
    return WaitOffer(row.id, row.expert_id, row.client_id, row.starts_at, row.minutes, row.created_at, row.expires_at,
                     OfferStatus(row.status), row.closed_at)


class SqlWaitlist:
    def __init__(self, session: Session) -> None:
        self.session = session

    def entry(self, client_id: int, expert_id: int) -> WaitEntry | None:
        row = self.session.scalar(select(WaitlistEntryRow).where(
            WaitlistEntryRow.client_id == client_id, WaitlistEntryRow.expert_id == expert_id))
        return _entry(row) if row is not None else None

    def put_entry(self, entry: WaitEntry) -> WaitEntry:
        row = self.session.get(WaitlistEntryRow, entry.id) if entry.id is not None else None
        if row is None:
            row = WaitlistEntryRow(client_id=entry.client_id, expert_id=entry.expert_id, created_at=entry.created_at)
            self.session.add(row)
        row.minutes, row.before = entry.minutes, entry.before
        self.session.flush()
        return _entry(row)

    def remove_entry(self, client_id: int, expert_id: int) -> bool:
        return bool(execute_dml(self.session, delete(WaitlistEntryRow).where(
            WaitlistEntryRow.client_id == client_id, WaitlistEntryRow.expert_id == expert_id
        ).execution_options(synchronize_session=False)).rowcount)

    def entries_of_expert(self, expert_id: int) -> list[WaitEntry]:
        rows = self.session.scalars(select(WaitlistEntryRow).where(WaitlistEntryRow.expert_id == expert_id)
                                    .order_by(WaitlistEntryRow.created_at, WaitlistEntryRow.id))
        return [_entry(r) for r in rows]

    def entries_of_client(self, client_id: int) -> list[WaitEntry]:
        rows = self.session.scalars(select(WaitlistEntryRow).where(WaitlistEntryRow.client_id == client_id)
                                    .order_by(WaitlistEntryRow.created_at, WaitlistEntryRow.id))
        return [_entry(r) for r in rows]

    def add_offer(self, offer: WaitOffer) -> WaitOffer:
        row = WaitlistOfferRow(expert_id=offer.expert_id, client_id=offer.client_id, starts_at=offer.start,
                               minutes=offer.minutes, status=offer.status.value, created_at=offer.created_at,
                               expires_at=offer.expires_at, closed_at=offer.closed_at)
        self.session.add(row)
        self.session.flush()
        return _offer(row)

    def offer(self, offer_id: int, *, for_update: bool = False) -> WaitOffer | None:
        query = select(WaitlistOfferRow).where(WaitlistOfferRow.id == offer_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.scalar(query.execution_options(populate_existing=True))
        return _offer(row) if row is not None else None

    def offers_of_expert(self, expert_id: int, client_ids: Sequence[int]) -> list[WaitOffer]:
        if not client_ids:
            return []
        rows = self.session.scalars(select(WaitlistOfferRow).where(
            WaitlistOfferRow.expert_id == expert_id, WaitlistOfferRow.client_id.in_(list(client_ids))
        ).order_by(WaitlistOfferRow.id).execution_options(populate_existing=True))
        return [_offer(r) for r in rows]

    def close_offer(self, offer_id: int, status: OfferStatus, at: datetime) -> bool:
        return bool(execute_dml(self.session, update(WaitlistOfferRow).where(
            WaitlistOfferRow.id == offer_id, WaitlistOfferRow.status == OfferStatus.OPEN.value,
        ).values(status=status.value, closed_at=at).execution_options(synchronize_session=False)).rowcount)

    def offers_due(self, now: datetime, limit: int = 500) -> list[int]:
        return list(self.session.scalars(select(WaitlistOfferRow.id).where(
            WaitlistOfferRow.status == OfferStatus.OPEN.value, WaitlistOfferRow.expires_at <= now,
        ).order_by(WaitlistOfferRow.expires_at, WaitlistOfferRow.id).limit(limit)))
