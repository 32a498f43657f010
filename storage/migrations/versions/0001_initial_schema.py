"""initial schema: people, experts, availability, credits, bookings and meetings

The overlap guard for meetings is added by hand below: an exclusion constraint
on PostgreSQL (btree_gist), a trigger on SQLite.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:56:53.477164
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('pairing_mode', sa.String(length=20), nullable=False),
    sa.Column('allowed_lengths', sa.String(length=60), nullable=False),
    sa.Column('max_meetings', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('is_staff', sa.Boolean(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handle'),
    sa.UniqueConstraint('slack_user_id'),
    sa.UniqueConstraint('telegram_user_id')
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_company_id'), ['company_id'], unique=False)

    op.create_table('experts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.Column('languages', sa.String(length=100), nullable=False),
    sa.Column('rate_multiplier', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('hourly_rate_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('meeting_provider', sa.String(length=16), nullable=False),
    sa.Column('meeting_url', sa.String(length=500), nullable=True),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('session_count', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('pro_bono', 'compensated')", name='ck_experts_kind'),
    sa.CheckConstraint('rate_multiplier > 0', name='ck_experts_rate_positive'),
    sa.CheckConstraint('rating_count >= 0 AND rating_sum >= 0', name='ck_experts_rating'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id')
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experts_kind'), ['kind'], unique=False)

    op.create_table('wallets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('available', sa.BigInteger(), nullable=False),
    sa.Column('held', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("source IN ('programme', 'company', 'individual')", name='ck_wallets_source'),
    sa.CheckConstraint('(person_id IS NULL) <> (company_id IS NULL)', name='ck_wallets_one_owner'),
    sa.CheckConstraint('available >= 0', name='ck_wallets_available_nonneg'),
    sa.CheckConstraint('held >= 0', name='ck_wallets_held_nonneg'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wallets', schema=None) as batch_op:
        batch_op.create_index('ux_wallets_company', ['source', 'company_id'], unique=True, sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))
        batch_op.create_index('ux_wallets_person', ['source', 'person_id'], unique=True, sqlite_where=sa.text('person_id IS NOT NULL'), postgresql_where=sa.text('person_id IS NOT NULL'))

    op.create_table('availability_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('start_minute', sa.SmallInteger(), nullable=True),
    sa.Column('end_minute', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint("kind IN ('off', 'extra')", name='ck_exception_kind'),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_exceptions_expert_id'), ['expert_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('intro_note', sa.Text(), nullable=False),
    sa.Column('attachments', sa.Text(), nullable=False),
    sa.Column('price_milli', sa.BigInteger(), nullable=False),
    sa.Column('money_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=False),
    sa.Column('proposed_by_expert', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('price_milli >= 0', name='ck_bookings_price_nonneg'),
    sa.ForeignKeyConstraint(['client_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_series_id'), ['series_id'], unique=False)
        batch_op.create_index('ix_bookings_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('company_experts',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company_id', 'expert_id')
    )
    op.create_table('expert_languages',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'code')
    )
    with op.batch_alter_table('expert_languages', schema=None) as batch_op:
        batch_op.create_index('ix_expert_languages_code', ['code', 'expert_id'], unique=False)

    op.create_table('expert_terms',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'term')
    )
    with op.batch_alter_table('expert_terms', schema=None) as batch_op:
        batch_op.create_index('ix_expert_terms_term', ['term', 'expert_id', 'weight'], unique=False)

    op.create_table('weekly_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('start_minute', sa.SmallInteger(), nullable=False),
    sa.Column('end_minute', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440', name='ck_weekly_range'),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name='ck_weekly_weekday'),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('weekly_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_windows_expert_id'), ['expert_id'], unique=False)

    op.create_table('credit_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('credit_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_movements_booking_id'), ['booking_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('price_milli', sa.BigInteger(), nullable=False),
    sa.Column('reschedule_count', sa.SmallInteger(), nullable=False),
    sa.Column('ics_sequence', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name='ck_meetings_order'),
    sa.CheckConstraint('price_milli >= 0', name='ck_meetings_price_nonneg'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_meetings_expert_start', ['expert_id', 'starts_at'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name='ck_reviews_stars'),
    sa.ForeignKeyConstraint(['author_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id', 'author_id', name='uq_reviews_booking_author')
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('available_delta', sa.BigInteger(), nullable=False),
    sa.Column('held_delta', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['movement_id'], ['credit_movements.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('movement_id', 'wallet_id', name='uq_ledger_movement_wallet')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_wallet_id'), ['wallet_id'], unique=False)


    _add_overlap_guard()


ACTIVE = "status IN ('held', 'confirmed')"


def _add_overlap_guard() -> None:
    """No two active meetings of one expert may overlap, whatever the application does."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE meetings ADD CONSTRAINT ex_meetings_no_overlap EXCLUDE USING gist "
            f"(expert_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({ACTIVE})"
        )
    elif bind.dialect.name == "sqlite":
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"""
                CREATE TRIGGER tr_meetings_no_overlap_{event.lower()}
                BEFORE {event} ON meetings
                WHEN NEW.status IN ('held', 'confirmed')
                BEGIN
                    SELECT RAISE(ABORT, 'ex_meetings_no_overlap: meetings overlap')
                    WHERE EXISTS (
                        SELECT 1 FROM meetings m
                        WHERE m.expert_id = NEW.expert_id
                          AND m.id IS NOT NEW.id
                          AND m.status IN ('held', 'confirmed')
                          AND m.starts_at < NEW.ends_at
                          AND NEW.starts_at < m.ends_at
                    );
                END
                """
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_meetings_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS tr_meetings_no_overlap_update")
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_wallet_id'))

    op.drop_table('ledger_entries')
    op.drop_table('reviews')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_expert_start')
        batch_op.drop_index(batch_op.f('ix_meetings_booking_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('credit_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_movements_booking_id'))

    op.drop_table('credit_movements')
    with op.batch_alter_table('weekly_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_windows_expert_id'))

    op.drop_table('weekly_windows')
    with op.batch_alter_table('expert_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_terms_term')

    op.drop_table('expert_terms')
    with op.batch_alter_table('expert_languages', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_languages_code')

    op.drop_table('expert_languages')
    op.drop_table('company_experts')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_status_expires')
        batch_op.drop_index(batch_op.f('ix_bookings_series_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_expert_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_client_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_exceptions_expert_id'))

    op.drop_table('availability_exceptions')
    with op.batch_alter_table('wallets', schema=None) as batch_op:
        batch_op.drop_index('ux_wallets_person', sqlite_where=sa.text('person_id IS NOT NULL'), postgresql_where=sa.text('person_id IS NOT NULL'))
        batch_op.drop_index('ux_wallets_company', sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))

    op.drop_table('wallets')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experts_kind'))

    op.drop_table('experts')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_company_id'))

    op.drop_table('persons')
    op.drop_table('companies')
    op.drop_table('series')
    op.drop_table('programmes')
