"""Files go with the booking's records: HEADSTRT_FILE_RETENTION_DAYS (90) after its last meeting ended (a
declined or expired request: after the meeting it asked for), and a file never attached to a request
(a draft given up) after core.files.ORPHAN_TTL. The scheduler's tick runs this; nothing else keeps files."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.clock import Clock
from core.files import ORPHAN_TTL
from bot.files.store import FileStore
from bot.settings import FileSettings
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

BATCH = 500


def purge_files(uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, settings: FileSettings) -> int:
    """Delete what is due, rows first (a crash then leaves bytes nobody can reach, never a row without
    bytes); how many files went."""
    store = FileStore(settings.directory)
    now = clock.now()
    gone = 0
    while True:
        with uow_factory() as uow:
            due = uow.files.due_for_deletion(now - settings.retention, now - ORPHAN_TTL, BATCH)
            uow.files.delete([f.id for f in due if f.id is not None])
            uow.commit()
        for file in due:
            try:
                store.delete(file.path)
            except (OSError, ValueError) as error:
                log.warning("file %s (%s) not deleted from the directory: %s", file.id, file.path, error)
        gone += len(due)
        if len(due) < BATCH:
            return gone
