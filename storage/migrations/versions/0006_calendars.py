"""calendars: people's connected calendars (feeds and CalDAV), the busy times read from them, our meetings
written to them, and each person's private subscription token

Revision ID: 0006_calendars
Revises: 0005_programmes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_calendars"
down_revision = "0005_programmes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=True),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column("calendar_url", sa.String(length=2000), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expanded_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("busy_digest", sa.String(length=64), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("failure_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('feed', 'caldav')", name="ck_calendar_connections_kind"),
        sa.CheckConstraint("failures >= 0", name="ck_calendar_connections_failures"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "url", name="uq_calendar_connections_person_url"),
    )
    op.create_index("ix_calendar_connections_person_id", "calendar_connections", ["person_id"], unique=False)
    op.create_index("ix_calendar_connections_due", "calendar_connections", ["next_refresh_at"], unique=False)
    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name="ck_calendar_busy_order"),
        sa.ForeignKeyConstraint(["connection_id"], ["calendar_connections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calendar_busy_connection_id", "calendar_busy", ["connection_id"], unique=False)
    op.create_index("ix_calendar_busy_person_start", "calendar_busy", ["person_id", "starts_at"], unique=False)
    op.create_table(
        "calendar_event_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("href", sa.String(length=2000), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["calendar_connections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection_id", "meeting_id", name="uq_calendar_event_links"),
    )
    op.create_index("ix_calendar_event_links_meeting_id", "calendar_event_links", ["meeting_id"], unique=False)
    op.create_table(
        "calendar_tokens",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "calendar_busy_packed",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("spans", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("calendar_busy_packed")
    op.drop_table("calendar_tokens")
    op.drop_index("ix_calendar_event_links_meeting_id", table_name="calendar_event_links")
    op.drop_table("calendar_event_links")
    op.drop_index("ix_calendar_busy_person_start", table_name="calendar_busy")
    op.drop_index("ix_calendar_busy_connection_id", table_name="calendar_busy")
    op.drop_table("calendar_busy")
    op.drop_index("ix_calendar_connections_due", table_name="calendar_connections")
    op.drop_index("ix_calendar_connections_person_id", table_name="calendar_connections")
    op.drop_table("calendar_connections")
