"""The files table: one row per file a person sent (the bytes live in the files directory)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.files import StoredFile
from storage.models import FileRow, MeetingRow
from storage.sql import execute_dml


def _file(row: FileRow) -> StoredFile:
    return StoredFile(row.id, row.owner_id, row.name, row.content_type, row.size, row.sha256, row.path,
                      row.created_at, row.booking_id)


class SqlFiles:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, file: StoredFile) -> StoredFile:
        row = FileRow(booking_id=file.booking_id, owner_id=file.owner_id, name=file.name,
                      content_type=file.content_type, size=file.size, sha256=file.sha256, path=file.path,
                      created_at=file.created_at)
        self.session.add(row)
        self.session.flush()
        return _file(row)

    def get(self, file_id: int) -> StoredFile | None:
        row = self.session.get(FileRow, file_id)
        return _file(row) if row is not None else None

    def get_many(self, file_ids: list[int]) -> dict[int, StoredFile]:
        if not file_ids:
            return {}
        rows = self.session.scalars(select(FileRow).where(FileRow.id.in_(file_ids)))
        return {row.id: _file(row) for row in rows}

    def attach(self, file_ids: list[int], booking_id: int, owner_id: int) -> int:
        return int(execute_dml(self.session, update(FileRow).where(
            FileRow.id.in_(file_ids), FileRow.owner_id == owner_id, FileRow.booking_id.is_(None),
        ).values(booking_id=booking_id).execution_options(synchronize_session=False)).rowcount)

    def for_booking(self, booking_id: int) -> list[StoredFile]:
        rows = self.session.scalars(select(FileRow).where(FileRow.booking_id == booking_id).order_by(FileRow.id))
        return [_file(row) for row in rows]

    def due_for_deletion(self, ended_before: datetime, orphaned_before: datetime, limit: int) -> list[StoredFile]:
        ended = (select(MeetingRow.booking_id).group_by(MeetingRow.booking_id)
                 .having(func.max(MeetingRow.ends_at) < ended_before))
        rows = self.session.scalars(select(FileRow).where(or_(
            FileRow.booking_id.in_(ended),
            FileRow.booking_id.is_(None) & (FileRow.created_at < orphaned_before),
        )).order_by(FileRow.id).limit(limit))
        return [_file(row) for row in rows]

    def delete(self, file_ids: list[int]) -> int:
        if not file_ids:
            return 0
        return int(execute_dml(self.session, delete(FileRow).where(FileRow.id.in_(file_ids))).rowcount)
