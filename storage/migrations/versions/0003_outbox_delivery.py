"""outbox delivery: leases so several processes can deliver without doubles, the platform's id of
what was sent (edits and group presses need it), and a final give-up

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sent_message_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_due", "outbox", ["platform", "sent_at", "id"], unique=False)
    op.create_index("ix_outbox_sent_message", "outbox", ["platform", "chat_id", "sent_message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_sent_message", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("gave_up_at")
        batch.drop_column("sent_message_id")
        batch.drop_column("claim_token")
        batch.drop_column("claimed_until")
