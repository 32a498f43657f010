"""payments: credit packs individuals buy in Telegram, paid once per charge id

Revision ID: 0011_payments
Revises: 0010_relay
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011_payments"
down_revision = "0010_relay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("credits_milli", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("telegram_charge_id", sa.String(255), nullable=True),
        sa.Column("provider_charge_id", sa.String(255), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("token"),
        sa.UniqueConstraint("telegram_charge_id"),
        sa.CheckConstraint("status IN ('pending', 'paid', 'refunded')", name="ck_purchases_status"),
        sa.CheckConstraint("credits_milli > 0 AND price_minor > 0", name="ck_purchases_positive"),
    )
    op.create_index("ix_purchases_person", "purchases", ["person_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_purchases_person", table_name="purchases")
    op.drop_table("purchases")
