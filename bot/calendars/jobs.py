"""The scheduler's calendar job: APScheduler stores it by reference, so the process's CalendarSync lives here."""

from __future__ import annotations

import asyncio
import logging

from bot.calendars.sync import CalendarSync

log = logging.getLogger(__name__)
_SYNC: CalendarSync | None = None


def install(sync: CalendarSync | None) -> None:
    global _SYNC
    _SYNC = sync


async def tick() -> None:
    """Write pending sessions to CalDAV calendars, then read the calendars that are due."""
    if _SYNC is None:
        return
    writes, reads = await asyncio.to_thread(_SYNC.tick)
    if writes.written or writes.deleted or writes.failed:
        log.info("calendars: %s events written, %s deleted, %s writes to retry", writes.written, writes.deleted,
                 writes.failed)
    if reads.read or reads.failed:
        log.info("calendars: %s read, %s unchanged, %s failing, %s clashes told", reads.read, reads.unchanged,
                 reads.failed, reads.clashes)
