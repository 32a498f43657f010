"""waitlist: clients waiting for an expert's time, and the offers of freed time made to them

Revision ID: 0012_waitlist
Revises: 0011_payments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012_waitlist"
down_revision = "0011_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expert_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("before", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("client_id", "expert_id", name="uq_waitlist_entries_client_expert"),
        sa.CheckConstraint("minutes > 0", name="ck_waitlist_entries_minutes"),
    )
    op.create_index("ix_waitlist_entries_expert", "waitlist_entries", ["expert_id", "created_at"])
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("expert_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'taken', 'declined', 'lapsed', 'withdrawn')",
                           name="ck_waitlist_offers_status"),
        sa.CheckConstraint("minutes > 0", name="ck_waitlist_offers_minutes"),
    )
    op.create_index("ix_waitlist_offers_status_expires", "waitlist_offers", ["status", "expires_at"])
    op.create_index("ix_waitlist_offers_expert", "waitlist_offers", ["expert_id", "client_id"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_offers_expert", table_name="waitlist_offers")
    op.drop_index("ix_waitlist_offers_status_expires", table_name="waitlist_offers")
    op.drop_table("waitlist_offers")
    op.drop_index("ix_waitlist_entries_expert", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
