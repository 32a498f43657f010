"""Shared fixtures: the real database, migrated by Alembic, on SQLite and on PostgreSQL.

PostgreSQL is required, not optional: CI runs it at 127.0.0.1:5432. Set
HEADSTRT_SKIP_POSTGRES=1 only on a machine without it (the tests then say so).
"""

from __future__ import annotations

import os
from pathlib import Path
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from core.clock import FixedClock
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from storage.uow import SqlUnitOfWork
from tests.factories import T0

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the tests may reach a real host: only loopback and local sockets connect."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _files_dir(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files people send are stored in a directory of the test's own, never next to the code."""
    directory = tmp_path_factory.mktemp("files")
    monkeypatch.setenv("HEADSTRT_FILES_DIR", str(directory))
    return directory


def _postgres_engine() -> Iterator[Engine]:
    if os.environ.get("HEADSTRT_SKIP_POSTGRES") == "1":
        pytest.skip("HEADSTRT_SKIP_POSTGRES=1: PostgreSQL tests skipped on this machine")
    schema = f"hs_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(POSTGRES_URL, pool_size=1)
    try:
        with admin.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - say exactly why, then fail
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for the storage tests: {exc}")
    # lock_timeout: a statement stuck behind a transaction some test left open fails in 20 s instead of
    # hanging the run (a worker thread's goodbye once waited for ever and kept pytest from exiting)
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema},public -c lock_timeout=20000"},
                         pool_size=40, max_overflow=10)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "headstrt.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path_factory)
    else:
        yield from _postgres_engine()


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """A migrated database, emptied before each test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None
    yield engine


def _has_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def uow(db: Engine, clock: FixedClock) -> Callable[[], SqlUnitOfWork]:
    """A factory: each call is a new unit of work (a new transaction) on the test database."""
    return lambda: SqlUnitOfWork(db, clock)
