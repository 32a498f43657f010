"""intake: inbound events stored before they are acknowledged, and process heartbeats that tie leases
to a live process

Revision ID: 0014_intake
Revises: 0013_email_pref
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_intake"
down_revision = "0013_email_pref"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=128), nullable=False),
        sa.Column("person_key", sa.String(length=96), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_inbound_events_status"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "event_key", name="uq_inbound_events_key"),
    )
    op.create_index("ix_inbound_events_person", "inbound_events", ["status", "person_key", "id"], unique=False)
    op.create_index("ix_inbound_events_due", "inbound_events", ["status", "id"], unique=False)
    op.create_index("ix_inbound_events_finished_at", "inbound_events", ["finished_at"], unique=False)
    op.create_table(
        "process_heartbeats",
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner"),
    )
    op.create_index("ix_process_heartbeats_expires_at", "process_heartbeats", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_process_heartbeats_expires_at", table_name="process_heartbeats")
    op.drop_table("process_heartbeats")
    op.drop_index("ix_inbound_events_finished_at", table_name="inbound_events")
    op.drop_index("ix_inbound_events_due", table_name="inbound_events")
    op.drop_index("ix_inbound_events_person", table_name="inbound_events")
    op.drop_table("inbound_events")
