"""Engines for SQLite (the default: one file, WAL, foreign keys on) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
import re
import weakref
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

DEFAULT_DATABASE_URL = "sqlite:///headstrt.db"
CONNECT_TIMEOUT_SECONDS = 10  # PostgreSQL: a host that does not answer is an error after this, not a hang
_HOW = "use sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


class DatabaseProblem(Exception):
    """Something about the database an operator has to fix. Its text is one line: what is wrong and
    what to do about it (the CLI prints it as it is; /health reports it)."""


def database_url(url: str | None = None) -> str:
    """DATABASE_URL, with the postgres:// spellings hosting platforms hand out mapped to psycopg 3.
    DatabaseProblem when it is not a URL, or names a database or driver this product does not run on."""
    given = (url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL).strip()
    url = given
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        raise DatabaseProblem(f"DATABASE_URL {_masked(given)!r} is not a database URL: {_HOW}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseProblem(f"unsupported database: {backend} ({_HOW})")
    if (backend, driver) not in (("sqlite", "pysqlite"), ("postgresql", "psycopg")):
        raise DatabaseProblem(f"unsupported database driver: {backend}+{driver} ({_HOW})")
    return url


def _masked(url: str) -> str:
    """A URL fit for a message: the password (anything between ':' and '@') hidden."""
    return re.sub(r":[^:@/]*@", ":***@", url)


def describe(url: str) -> str:
    """Where the database is, for messages: the SQLite file or PostgreSQL's host:port/database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite_path(parsed) or "an in-memory SQLite database"
    return f"{_where(parsed)}/{parsed.database or ''}"


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL, or None when it is in memory."""
    database = url.database
    if database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        return None
    return database.removeprefix("file:") if url.query.get("uri") else database


def _where(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def connection_problem(error: BaseException, url: str) -> str:
    """One line for an operator from a failed connection (OperationalError and its kind): what is wrong
    and what to check. psycopg reports connection failures without an SQLSTATE, so the text is read."""
    parsed = make_url(url)
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split())
    lowered = text.lower()
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed) or ":memory:"
        if "not a database" in lowered:
            return f"{path} is not a SQLite database: point DATABASE_URL at the right file"
        if "unable to open" in lowered:
            return f"cannot open the SQLite database {path}: check the path and its permissions"
        if "locked" in lowered:
            return f"the SQLite database {path} is locked by another process: try again"
        return f"the SQLite database {path} failed: {text}"
    where = _where(parsed)
    if match := re.search(r'role "([^"]+)" does not exist', text):
        return f'PostgreSQL on {where} has no user "{match[1]}": check the user in DATABASE_URL'
    if "password authentication failed" in lowered or "no password supplied" in lowered \
            or "authentication failed" in lowered:
        return f'PostgreSQL on {where} refused user "{parsed.username or ""}": check the user and password in DATABASE_URL'
    if match := re.search(r'database "([^"]+)" does not exist', text):
        return (f'database "{match[1]}" does not exist on {where}: create it (createdb -h {parsed.host or "localhost"} '
                f'-p {parsed.port or 5432} {match[1]}) or fix DATABASE_URL')
    if "resolve host" in lowered or "name or service not known" in lowered or "nodename nor servname" in lowered:
        return f"cannot find the host {parsed.host}: check DATABASE_URL"
    if "timeout" in lowered or "timed out" in lowered:
        return f"PostgreSQL on {where} did not answer within {CONNECT_TIMEOUT_SECONDS} s: is the host right and reachable?"
    if "connection refused" in lowered or "could not connect" in lowered or "no such file" in lowered:
        return f"cannot connect to the database: is PostgreSQL running on {where}?"
    first = text.split(" failed: ")[-1] if " failed: " in text else text
    return f"cannot use PostgreSQL on {where}: {first}"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = database_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if "connect_timeout" not in make_url(url).query:  # the URL's own wins
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    """Every transaction is BEGIN IMMEDIATE: the availability check and the insert that
    follows it run under SQLite's single writer lock, so two bookings cannot interleave."""
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 30)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    in_memory = make_url(url).database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()
KEPT = "kept_rows"  # session.info key: rows held for the rest of the unit of work (see keep_rows)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """One sessionmaker per engine (a unit of work is opened for every chat event)."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES[engine] = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        event.listen(factory, "loaded_as_persistent", _keep)
        event.listen(factory, "pending_to_persistent", _keep)
    return factory


def keep_rows(session: Session, *models: type) -> None:
    """Hold every row of these models this session loads or inserts until it closes. The ORM's identity
    map only references rows weakly: a repository that maps a row to a core object drops it at once,
    and the next look-up by id in the same unit of work would query again. Kept, `session.get` and
    the repositories' look-ups by id answer from memory. Only for tables whose in-session writes go
    through the ORM (or expire what they change), so a kept row is never stale."""
    session.info[KEPT] = (tuple(models), [])


def loaded(session: Session, model: type, ident: object) -> Any:
    """The row of `model` with this primary key if this session holds it already, else None (no query)."""
    return session.identity_map.get(identity_key(model, ident))


def _keep(session: Session, instance: object) -> None:
    kept = session.info.get(KEPT)
    if kept is not None and isinstance(instance, kept[0]):
        kept[1].append(instance)
