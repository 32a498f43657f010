"""A file a person sends is fetched from their platform by its adapter, checked (size, and what it is by
its first bytes) and stored once, before the event reaches the dispatcher: the flow then only ever sees
"file:<id>#<name>". A file refused here is never stored; the dispatcher tells the sender why."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from core.clock import Clock
from core.files import StoredFile, ref, sniff
from bot.dispatcher import find_person
from bot.events import Incoming
from bot.files.refusal import FAILED, NOT_ALLOWED, TOO_BIG
from bot.files.store import FileStore
from bot.settings import FileSettings
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

MAX_NAME = 200

Fetch = Callable[[int], Awaitable[bytes]]  # the bytes, given the most to take (TooBig when over)


class TooBig(Exception):
    """The platform says (or the download shows) the file is over the limit: nothing more is read."""


class FileIntake:
    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, settings: FileSettings) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.max_bytes = settings.max_bytes
        self.store = FileStore(settings.directory)

    async def take(self, incoming: Incoming, name: str, fetch: Fetch) -> Incoming:
        """The event with the stored file's ref, or with the reason it was refused."""
        name = _clean_name(name)
        owner = await asyncio.to_thread(self._owner, incoming)
        if owner is None:  # someone new: they are welcomed first, and files go with a request anyway
            return incoming
        try:
            data = await fetch(self.max_bytes)
        except TooBig:
            return replace(incoming, file_problem=f"{TOO_BIG}:{self.max_bytes // (1024 * 1024)}")
        except Exception as error:  # noqa: BLE001 - the platform failed us: say so, the person sends it again
            log.warning("file %r from %s not fetched: %s", name, incoming.sender.platform, error)
            return replace(incoming, file_problem=FAILED)
        if len(data) > self.max_bytes:
            return replace(incoming, file_problem=f"{TOO_BIG}:{self.max_bytes // (1024 * 1024)}")
        content_type = sniff(data, name)
        if content_type is None or not data:
            return replace(incoming, file_problem=NOT_ALLOWED)
        stored = await asyncio.to_thread(self.keep, owner, name, content_type, data)
        return replace(incoming, file_ref=ref(stored))

    def keep(self, owner_id: int, name: str, content_type: str, data: bytes) -> StoredFile:
        """Bytes first, then the row: a crash between leaves an unreferenced file, never a row without bytes."""
        now = self.clock.now()
        path = self.store.write(data, now)
        try:
            with self.uow_factory() as uow:
                stored = uow.files.add(StoredFile(None, owner_id, name, content_type, len(data),
                                                  hashlib.sha256(data).hexdigest(), path, now))
                uow.commit()
        except BaseException:
            self.store.delete(path)
            raise
        return stored

    def _owner(self, incoming: Incoming) -> int | None:
        with self.uow_factory() as uow:
            person = find_person(uow, incoming.sender)
            return person.id if person is not None else None


def _clean_name(name: str) -> str:
    """A name to show and send on: no path, no control characters, not too long (the extension kept)."""
    name = "".join(c for c in name.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable()).strip() or "file"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name
