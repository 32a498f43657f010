"""The schema comes from migrations; the models must describe exactly that schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.migrate import current, downgrade, upgrade
from storage.models import Base


def test_migrated_schema_matches_the_models(db):
    with db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(db):
    assert current(db) == "0014_intake"


def test_overlap_guard_exists(db):
    with db.connect() as conn:
        if db.dialect.name == "postgresql":
            names = {c["name"] for c in inspect(conn).get_check_constraints("meetings")}
            found = conn.exec_driver_sql(
                "SELECT conname FROM pg_constraint WHERE conname = 'ex_meetings_no_overlap' AND contype = 'x'"
            ).scalar()
            assert found == "ex_meetings_no_overlap", names
        else:
            triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            assert {"tr_meetings_no_overlap_insert", "tr_meetings_no_overlap_update"} <= triggers


def test_sqlite_pragmas(db):
    if db.dialect.name != "sqlite":
        return
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_downgrade_and_upgrade_again(tmp_path):
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'round.db'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    upgrade(engine)
    assert "meetings" in inspect(engine).get_table_names()
    engine.dispose()
