"""programmes run by their staff: allocations, staff roles per programme, expert rosters, paused experts,
"ask staff for credits" requests, a log of staff actions, and the dashboard's sign-in links and sessions

Existing staff (persons.is_staff) become staff of every programme that exists, which is what they could
reach before; from here on persons.is_staff only mirrors "staff of at least one programme".

Revision ID: 0005_programmes
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005_programmes"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("credits_per_founder", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("credits_per_company", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_check_constraint("ck_programmes_credits_nonneg", "credits_per_founder >= 0 AND credits_per_company >= 0")
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("credits_milli", sa.BigInteger(), nullable=True))
        batch.create_check_constraint("ck_companies_credits_nonneg", "credits_milli IS NULL OR credits_milli >= 0")
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("paused_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("paused_note", sa.String(length=300), nullable=False, server_default=""))

    op.create_table(
        "programme_staff",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("programme_id", "person_id"),
    )
    op.create_index("ix_programme_staff_person", "programme_staff", ["person_id"], unique=False)
    op.create_table(
        "programme_experts",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("programme_id", "expert_id"),
    )
    op.create_index("ix_programme_experts_expert", "programme_experts", ["expert_id"], unique=False)
    op.create_table(
        "credit_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("amount_milli", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("granted_milli", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.String(length=500), nullable=False),
        sa.CheckConstraint("status IN ('open', 'granted', 'declined')", name="ck_credit_requests_status"),
        sa.CheckConstraint("amount_milli IS NULL OR amount_milli > 0", name="ck_credit_requests_amount"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_requests_programme_status", "credit_requests", ["programme_id", "status"], unique=False)
    op.create_index("ux_credit_requests_open", "credit_requests", ["person_id"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("amount_milli", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_staff_actions_programme", "staff_actions", ["programme_id", "created_at"], unique=False)
    op.create_index("ix_staff_actions_booking", "staff_actions", ["booking_id"], unique=False)
    op.create_table(
        "signin_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_signin_links_expires", "signin_links", ["expires_at"], unique=False)
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_dashboard_sessions_expires", "dashboard_sessions", ["expires_at"], unique=False)

    # Staff were global: keep what they could reach by making them staff of every programme there is.
    op.execute(
        "INSERT INTO programme_staff (programme_id, person_id) "
        "SELECT programmes.id, persons.id FROM programmes, persons WHERE persons.is_staff"
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_sessions_expires", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_index("ix_signin_links_expires", table_name="signin_links")
    op.drop_table("signin_links")
    op.drop_index("ix_staff_actions_booking", table_name="staff_actions")
    op.drop_index("ix_staff_actions_programme", table_name="staff_actions")
    op.drop_table("staff_actions")
    op.drop_index("ux_credit_requests_open", table_name="credit_requests")
    op.drop_index("ix_credit_requests_programme_status", table_name="credit_requests")
    op.drop_table("credit_requests")
    op.drop_index("ix_programme_experts_expert", table_name="programme_experts")
    op.drop_table("programme_experts")
    op.drop_index("ix_programme_staff_person", table_name="programme_staff")
    op.drop_table("programme_staff")
    with op.batch_alter_table("experts") as batch:
        batch.drop_column("paused_note")
        batch.drop_column("paused_at")
    with op.batch_alter_table("companies") as batch:
        batch.drop_constraint("ck_companies_credits_nonneg", type_="check")
        batch.drop_column("credits_milli")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_constraint("ck_programmes_credits_nonneg", type_="check")
        batch.drop_column("credits_per_company")
        batch.drop_column("credits_per_founder")
