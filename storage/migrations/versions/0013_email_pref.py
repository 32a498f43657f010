"""email reminders: a person can turn off the reminder email sent 24 h before a meeting (on by default)

Revision ID: 0013_email_pref
Revises: 0008_reviews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_email_pref"
down_revision = "0008_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("email_reminders", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("email_reminders")
