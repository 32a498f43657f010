"""Many new rows into one table at once: COPY on PostgreSQL (tens of thousands of rows a second, where
one INSERT per row manages a few thousand), one executemany on SQLite (in-process, already fast). For
imports; ordinary writes go through the ORM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (all with the same keys, every non-null column given: Python-side defaults do not
    apply) in the session's transaction. Pending ORM changes are flushed first, so they come before."""
    if not rows:
        return
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)  # the postgresql+psycopg driver: COPY is psycopg's
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
