"""INSERT ... ON CONFLICT DO NOTHING RETURNING, as one cached statement per shape.

SQLAlchemy's dialect-specific insert with on_conflict_do_nothing() has no cache
key, so it would be compiled again on every call; these run on every chat event.
The syntax is the same on PostgreSQL and SQLite (3.35+).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import CursorResult, Executable, Table, TextClause, bindparam, text
from sqlalchemy.orm import Session

from storage.models import Base


@lru_cache(maxsize=64)
def _statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str) -> TextClause:
    target = f"({', '.join(conflict)}) " if conflict else ""
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT {target}DO NOTHING RETURNING {returning}"
    )
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def insert_ignore(
    session: Session, model: type[Base], values: dict[str, Any], *, returning: str,
    conflict: tuple[str, ...] = (),
) -> Any:
    """The new row's `returning` column, or None when a conflicting row already exists."""
    table = model.__table__
    statement = _statement(table, tuple(values), conflict, returning)
    return session.execute(statement, values).scalar()


def execute_dml(session: Session, statement: Executable) -> CursorResult[Any]:
    """Run an UPDATE or DELETE in the session, for its rowcount. Session.execute is typed to return a plain
    Result, but for these statements it is a CursorResult (the kind of result that has a rowcount)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result
_MANY = 100  # rows per statement: well under SQLite's bound-parameter limit whatever the table


@lru_cache(maxsize=64)
def _many_statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str,
                    rows: int) -> TextClause:
    target = f"({', '.join(conflict)}) " if conflict else ""
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(rows))
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values} "
           f"ON CONFLICT {target}DO NOTHING RETURNING {returning}")
    return text(sql).bindparams(*(bindparam(f"{c}_{i}", type_=table.c[c].type) for i in range(rows) for c in columns))


def insert_ignore_many(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], *, returning: str,
    conflict: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """insert_ignore() for several rows with the same columns, in one statement per _MANY rows: the
    `returning` columns (comma-separated) of the rows inserted, in no promised order (match them on the
    conflict columns). The rows are inserted in the order given, so their generated ids rise in that order."""
    table = model.__table__
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), _MANY):
        chunk = rows[start:start + _MANY]
        columns = tuple(chunk[0])
        params = {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in columns}
        found.extend(tuple(r) for r in session.execute(_many_statement(table, columns, conflict, returning, len(chunk)),
                                                       params))
    return found
