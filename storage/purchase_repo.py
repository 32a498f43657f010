"""Credit purchases: pending rows found by their invoice token, paid once per Telegram charge id (UNIQUE),
moved on by conditional UPDATEs so two deliveries of one payment cannot both move a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from core.purchases import Purchase, PurchaseStatus
from storage.models import PurchaseRow
from storage.sql import execute_dml


class SqlPurchases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, purchase: Purchase) -> Purchase:
        row = PurchaseRow(
            token=purchase.token, person_id=purchase.person_id, credits_milli=purchase.credits_milli,
            price_minor=purchase.price_minor, currency=purchase.currency, status=purchase.status.value,
            created_at=purchase.created_at,
        )
        self.session.add(row)
        self.session.flush()
        purchase.id = row.id
        return purchase

    def by_token(self, token: str, *, for_update: bool = False) -> Purchase | None:
        return self._one(PurchaseRow.token == token, for_update)

    def by_charge(self, telegram_charge_id: str, *, for_update: bool = False) -> Purchase | None:
        return self._one(PurchaseRow.telegram_charge_id == telegram_charge_id, for_update)

    def _one(self, condition: ColumnElement[bool], for_update: bool) -> Purchase | None:
        query = select(PurchaseRow).where(condition)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.scalar(query.execution_options(populate_existing=True))
        return _purchase(row) if row is not None else None

    def mark_paid(self, purchase_id: int, telegram_charge_id: str, provider_charge_id: str, at: datetime) -> bool:
        return execute_dml(self.session, update(PurchaseRow).where(
            PurchaseRow.id == purchase_id, PurchaseRow.status == PurchaseStatus.PENDING.value,
        ).values(status=PurchaseStatus.PAID.value, telegram_charge_id=telegram_charge_id,
                 provider_charge_id=provider_charge_id or None, paid_at=at)
            .execution_options(synchronize_session=False)).rowcount == 1

    def mark_refunded(self, purchase_id: int, at: datetime) -> bool:
        return execute_dml(self.session, update(PurchaseRow).where(
            PurchaseRow.id == purchase_id, PurchaseRow.status == PurchaseStatus.PAID.value,
        ).values(status=PurchaseStatus.REFUNDED.value, refunded_at=at)
            .execution_options(synchronize_session=False)).rowcount == 1

    def for_person(self, person_id: int, limit: int = 10) -> list[Purchase]:
        rows = self.session.scalars(
            select(PurchaseRow)
            .where(PurchaseRow.person_id == person_id, PurchaseRow.status != PurchaseStatus.PENDING.value)
            .order_by(PurchaseRow.id.desc()).limit(limit)
        ).all()
        return [_purchase(r) for r in rows]


def _purchase(row: PurchaseRow) -> Purchase:
    return Purchase(
        row.id, row.token, row.person_id, row.credits_milli, row.price_minor, row.currency,
        PurchaseStatus(row.status), row.created_at, row.paid_at, row.telegram_charge_id,
        row.provider_charge_id, row.refunded_at,
    )
