"""files: what a client attaches to a request, stored once (bytes in the files directory, the row here)

Revision ID: 0009_files
Revises: 0008_reviews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009_files"
down_revision = "0008_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_files_booking", "files", ["booking_id"])
    op.create_index("ix_files_created", "files", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_files_created", table_name="files")
    op.drop_index("ix_files_booking", table_name="files")
    op.drop_table("files")
