"""Is the database ready for this code? Reachable, and its schema at the revision the code needs.

Every `headstrt` command asks before it does anything (so a bad set-up is one line, not a traceback,
and no file is created by looking), and /health asks on each call (so a database that went away, or a
schema that fell behind, shows there while the process runs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.db import CONNECT_TIMEOUT_SECONDS, DatabaseProblem, connection_problem, database_url, describe, sqlite_path
from storage.migrate import head, known

UPGRADE = "run `headstrt db upgrade`"


@dataclass(frozen=True, slots=True)
class Readiness:
    reachable: bool
    revision: str | None  # the schema's revision (None: no schema yet, or not reachable)
    head: str  # the revision this code needs
    problem: str | None  # one line for an operator; None when ready

    @property
    def ready(self) -> bool:
        return self.problem is None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"reachable": self.reachable, "revision": self.revision, "head": self.head}
        if self.problem:
            data["problem"] = self.problem
        return data


def check(engine: Engine, url: str | None = None) -> Readiness:
    """Connect with this engine and read the schema's revision (what /health does)."""
    url = url or engine.url.render_as_string(hide_password=False)
    needed = head()
    try:
        with engine.connect() as connection:
            from alembic.runtime.migration import MigrationContext

            revision = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as error:
        return Readiness(False, None, needed, connection_problem(error, url))
    except SQLAlchemyError as error:
        return Readiness(False, None, needed, f"the database at {describe(url)} failed: {error}")
    return Readiness(True, revision, needed, schema_problem(revision, needed, url))


def schema_problem(revision: str | None, needed: str, url: str) -> str | None:
    if revision == needed:
        return None
    where = describe(url)
    if revision is None:
        return f"the database at {where} has no schema yet: {UPGRADE}"
    if known(revision):
        return f"the schema is behind (at {revision}, this version needs {needed}): {UPGRADE}"
    return (f"the schema at {where} is at {revision}, which this version of headstrt does not know "
            f"(it needs {needed}): run the version that migrated it, or a newer one")


def probe(url: str | None = None, *, create: bool = False) -> Readiness:
    """Check DATABASE_URL (or url) without changing anything: a missing SQLite file is reported, not
    created (create=True, for `db upgrade`, only checks that it could be). DatabaseProblem for a URL that
    cannot work at all."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None and not Path(path).exists():
            folder = Path(path).parent
            if not create:
                return Readiness(False, None, head(), f"there is no database at {path}: {UPGRADE} to create it")
            if not folder.is_dir():
                raise DatabaseProblem(f"cannot create the SQLite database {path}: the folder {folder} does not exist")
            if not os.access(folder, os.W_OK):
                raise DatabaseProblem(f"cannot create the SQLite database {path}: the folder {folder} is not writable")
            return Readiness(True, None, head(), schema_problem(None, head(), url))
        # A plain connection: our engine's set-up (WAL mode) would write to the file just by looking.
        engine = create_engine(url, poolclass=NullPool)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        return check(engine, url)
    finally:
        engine.dispose()


def require(url: str | None = None, *, schema: bool = True, create: bool = False) -> Readiness:
    """probe(), raising DatabaseProblem with its one line unless the database is usable: reachable, and
    (schema=True) at this code's revision."""
    found = probe(url, create=create)
    if found.problem and (not found.reachable or schema):
        raise DatabaseProblem(found.problem)
    return found
