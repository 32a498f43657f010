"""relay: messages between the two sides of a session, passed on by the bot (a thread per booking), and the
programme's number of days after the last meeting during which they can write

Revision ID: 0010_relay
Revises: 0009_files
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010_relay"
down_revision = "0009_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("relay_days", sa.Integer(), nullable=False, server_default="30"))
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("state_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('sent', 'blocked', 'failed')", name="ck_relay_messages_state"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["persons.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relay_messages_thread", "relay_messages", ["booking_id", "id"], unique=False)
    op.create_index("ix_relay_messages_author", "relay_messages", ["booking_id", "author_id", "created_at"],
                    unique=False)
    op.create_index("ix_relay_messages_recipient", "relay_messages", ["recipient_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_relay_messages_recipient", table_name="relay_messages")
    op.drop_index("ix_relay_messages_author", table_name="relay_messages")
    op.drop_index("ix_relay_messages_thread", table_name="relay_messages")
    op.drop_table("relay_messages")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("relay_days")
