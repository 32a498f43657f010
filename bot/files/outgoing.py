"""Stored files on their way out. When a notice is queued (bot.dispatcher), a file over what the recipient's
platform takes becomes a sign-in link instead (Telegram's bot uploads: 50 MB; Slack: 1 GB; one mail: 10 MB
of attachments in all). When it is sent, the platform's sender reads the bytes from the files directory:
the outbox row only ever holds the reference."""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import Callable
from typing import Any

from core.clock import Clock
from core.files import LINK_TTL, StoredFile, issue_link, parse_ref
from core.model import Person
from bot.files.store import FileStore
from bot.i18n import Translator
from bot.replies import FileOut, Reply
from bot.settings import FileSettings, public_url
from storage.uow import SqlUnitOfWork

MB = 1024 * 1024
PLATFORM_LIMITS = {"telegram": 50 * MB, "slack": 1024 * MB}  # what one bot upload may weigh
EMAIL_LIMIT = 10 * MB  # all attachments of one mail together


def file_link(base: str, file_id: int, token: str) -> str:
    """The link's shape, shared with the web side (bot.files.web serves /files/<id>)."""
    return f"{base}/files/{file_id}?t={token}"


def fit(uow: SqlUnitOfWork, clock: Clock, reply: Reply, person: Person, platform: str) -> Reply:
    """The reply as it can go to this person on this platform: files over its limit become links."""
    if platform == "email":
        return _fit_mail(uow, clock, reply, person)
    file = reply.file
    parsed = parse_ref(file.ref) if file is not None else None
    limit = PLATFORM_LIMITS.get(platform)
    if parsed is None or limit is None:
        return reply
    stored = uow.files.get(parsed[0])
    if stored is None or stored.size <= limit:
        return reply  # a file deleted meanwhile is left out by the sender
    text = "\n".join(part for part in (reply.text, _link_text(uow, clock, person, stored)) if part)
    return Reply(text, reply.buttons, reply.replace)


def _fit_mail(uow: SqlUnitOfWork, clock: Clock, reply: Reply, person: Person) -> Reply:
    if not reply.attachments:
        return reply
    found = {i: parsed for i, f in enumerate(reply.attachments) if (parsed := parse_ref(f.ref)) is not None}
    stored = uow.files.get_many([file_id for file_id, _ in found.values()])
    kept: list[FileOut] = []
    links: list[str] = []
    total = 0
    for i, file in enumerate(reply.attachments):
        if i not in found:
            continue  # a platform's reference: nothing a mail can carry
        row = stored.get(found[i][0])
        if row is None:
            continue
        if total + row.size <= EMAIL_LIMIT:
            kept.append(file)
            total += row.size
        else:
            links.append(_link_text(uow, clock, person, row))
    return Reply("\n".join([reply.text, *links]), reply.buttons, reply.replace, reply.file, attachments=tuple(kept))


def _link_text(uow: SqlUnitOfWork, clock: Clock, person: Person, file: StoredFile) -> str:
    t = Translator(person.locale, person.timezone)
    size = f"{file.size / MB:.1f} MB"
    try:
        base = public_url()
    except ValueError:
        base = None
    if base is None or person.id is None or file.id is None:
        return t("“{name}” ({size}) is too large to send here, and it cannot be opened from a browser yet: "
                 "Headstrt has no web address (PUBLIC_URL). Please ask whoever runs it.", name=file.name, size=size)
    token = issue_link(uow, clock, person_id=person.id, file_id=file.id)
    return t.plural("“{name}” ({size}) is too large to send here. Open it in your browser: {url}\nThe link signs you "
                    "in once, within {days} day; do not forward it.",
                    "“{name}” ({size}) is too large to send here. Open it in your browser: {url}\nThe link signs you "
                    "in once, within {days} days; do not forward it.",
                    LINK_TTL.days, name=file.name, size=size,
                    url=file_link(base, file.id, token), days=LINK_TTL.days)


class FileReader:
    """Reads stored files for the senders (off the event loop: a database query and a file read)."""

    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], store: FileStore) -> None:
        self.uow_factory = uow_factory
        self.store = store

    @classmethod
    def from_settings(cls, uow_factory: Callable[[], SqlUnitOfWork], settings: FileSettings) -> FileReader:
        return cls(uow_factory, FileStore(settings.directory))

    def load(self, file_id: int) -> tuple[StoredFile, bytes] | None:
        with self.uow_factory() as uow:
            file = uow.files.get(file_id)
        if file is None:
            return None
        data = self.store.read(file.path)
        return None if data is None else (file, data)

    async def inline(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload with every stored file's bytes in place of its reference; a file gone is left out."""
        refs = [f for f in [payload.get("file"), *(payload.get("attachments") or [])]
                if isinstance(f, dict) and parse_ref(str(f.get("ref") or "")) is not None]
        if not refs:
            return payload
        out = copy.deepcopy(payload)
        out["file"] = await self._inline(out.get("file"))
        if out["file"] is None:
            del out["file"]
        if out.get("attachments"):
            inlined = [await self._inline(f) for f in out["attachments"]]
            out["attachments"] = [f for f in inlined if f is not None]
        return out

    async def _inline(self, file: Any) -> dict[str, Any] | None:
        if not isinstance(file, dict):
            return None
        parsed = parse_ref(str(file.get("ref") or ""))
        if parsed is None:
            return file
        loaded = await asyncio.to_thread(self.load, parsed[0])
        if loaded is None:
            return None
        stored, data = loaded
        return {"name": stored.name, "type": stored.content_type, "data": base64.b64encode(data).decode()}
