"""reviews: the expert's answer to a review (once), and staff hiding a review from the expert's card

Revision ID: 0008_reviews
Revises: 0006_calendars
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0008_reviews"
down_revision = "0006_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("answered_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("hidden_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("hidden_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reviews_hidden_by", "persons", ["hidden_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_constraint("fk_reviews_hidden_by", type_="foreignkey")
        batch.drop_column("hidden_by")
        batch.drop_column("hidden_at")
        batch.drop_column("answered_at")
        batch.drop_column("answer")
