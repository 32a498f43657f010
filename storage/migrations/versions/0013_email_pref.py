"""email reminders: a person can turn off the reminder email sent 24 h before a meeting (on by default)

Revision ID: 0013_email_pref
Revises: 0012_waitlist
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_email_pref"
down_revision = "0012_waitlist"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ALTER TABLE on both databases: a batch copy of persons would trip the foreign keys to it
    op.add_column("persons", sa.Column("email_reminders", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+), for the same reason
    op.execute("ALTER TABLE persons DROP COLUMN email_reminders")
