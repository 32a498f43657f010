"""Files a client attaches to a request: stored once, sent on as files, opened by link only by the people the
booking concerns, and deleted with the booking's retention.

What a file is is read from its first bytes (a PDF starts with %PDF-, a PNG with its signature), never from
its name alone: a "deck.pdf" that is really an executable is refused. Only kinds a mentor can open safely
are taken: PDF, images, office documents, plain text and zip archives.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.clock import Clock
from core.errors import NotAllowed
from core.model import Booking
from core.ports import UnitOfWork
from core.signin import SESSION_TTL, token_hash
from core.staff_access import is_staff_of

REF_PREFIX = "file:"  # a stored file in a booking's attachments: "file:<id>#<name>"
LINK_TTL = timedelta(days=7)  # a link sent in the chat for a file too big to send: it signs in once
ORPHAN_TTL = timedelta(days=3)  # a file never attached to a request (the draft was dropped) goes after this
_TOKEN_BYTES = 32

MIME_PDF = "application/pdf"
MIME_ZIP = "application/zip"
_OFFICE_ZIP = {  # OOXML documents are zip archives: the extension tells which
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "key": "application/vnd.apple.keynote",
}
_OFFICE_OLE = {  # the old binary Office formats share one container signature
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
_TEXT = {"txt": "text/plain", "md": "text/markdown", "csv": "text/csv"}


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: int | None
    owner_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    path: str  # where the bytes are, relative to the files directory
    created_at: datetime
    booking_id: int | None = None


class Files(Protocol):
    def add(self, file: StoredFile) -> StoredFile: ...
    def get(self, file_id: int) -> StoredFile | None: ...
    def get_many(self, file_ids: list[int]) -> dict[int, StoredFile]: ...
    def attach(self, file_ids: list[int], booking_id: int, owner_id: int) -> int:
        """Link the owner's unattached files to the booking; how many were."""
        ...
    def for_booking(self, booking_id: int) -> list[StoredFile]: ...
    def due_for_deletion(self, ended_before: datetime, orphaned_before: datetime, limit: int) -> list[StoredFile]:
        """Files of bookings whose last meeting ended before the first instant, and files never attached
        to a booking created before the second."""
        ...
    def delete(self, file_ids: list[int]) -> int: ...


class FilesUnitOfWork(UnitOfWork, Protocol):
    @property
    def files(self) -> Files: ...


def ref(file: StoredFile) -> str:
    return f"{REF_PREFIX}{file.id}#{file.name}"


def parse_ref(value: str) -> tuple[int, str] | None:
    """(id, name) of a stored file's ref, else None (an older platform reference)."""
    if not value.startswith(REF_PREFIX):
        return None
    head, _, name = value[len(REF_PREFIX):].partition("#")
    return (int(head), name or "file") if head.isdigit() else None


def sniff(data: bytes, name: str) -> str | None:
    """The content type of an allowed kind of file, read from its first bytes; None: not one we take."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data.startswith(b"%PDF-"):
        return MIME_PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _OFFICE_ZIP.get(ext, MIME_ZIP)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OFFICE_OLE.get(ext)  # an OLE container that does not say it is a document: refused
    if ext in _TEXT and _is_text(data):
        return f"{_TEXT[ext]}; charset=utf-8"
    return None


def _is_text(data: bytes) -> bool:
    """UTF-8 without NULs or other binary control bytes (tabs and line breaks are fine)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def may_open(uow: UnitOfWork, person_id: int, file: StoredFile, booking: Booking | None) -> bool:
    """The booking's two sides and its programme's staff; before it is a request, only whoever sent it."""
    if file.owner_id == person_id:
        return True
    if booking is None or booking.id != file.booking_id:
        return False
    if booking.client_id == person_id:
        return True
    expert = uow.experts.get(booking.expert_id)
    if expert is not None and expert.person_id == person_id:
        return True
    return is_staff_of(uow, person_id, booking.programme_id)


def _openable(uow: FilesUnitOfWork, person_id: int, file_id: int) -> StoredFile:
    file = uow.files.get(file_id)
    booking = uow.bookings.get(file.booking_id) if file is not None and file.booking_id is not None else None
    if file is None or not may_open(uow, person_id, file, booking):
        raise NotAllowed("this file is not yours to open", reason="file_not_yours")
    return file


def issue_link(uow: FilesUnitOfWork, clock: Clock, *, person_id: int, file_id: int) -> str:
    """A one-time sign-in token for a link to one file, for someone allowed to open it."""
    _openable(uow, person_id, file_id)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    now = clock.now()
    uow.signins.add_link(token_hash(token), person_id, now, now + LINK_TTL)
    return token


def redeem_link(uow: FilesUnitOfWork, clock: Clock, token: str, file_id: int) -> str:
    """Use a file link (once) and open a browser session for its person; the session's token.
    NotAllowed("link_invalid") for a wrong, used or expired link or someone who may not open this file."""
    now = clock.now()
    if not token or len(token) > 200:
        raise NotAllowed("this link is not valid", reason="link_invalid")
    person_id = uow.signins.use_link(token_hash(token), now)
    if person_id is None:
        raise NotAllowed("this link is not valid any more", reason="link_invalid")
    try:
        _openable(uow, person_id, file_id)
    except NotAllowed:
        raise NotAllowed("this link is not valid", reason="link_invalid") from None
    session = secrets.token_urlsafe(_TOKEN_BYTES)
    uow.signins.add_session(token_hash(session), person_id, now, now + SESSION_TTL)
    return session


def file_for_session(uow: FilesUnitOfWork, clock: Clock, session_token: str | None, file_id: int) -> StoredFile:
    """The file, for a signed-in browser whose person may open it; NotAllowed otherwise."""
    if not session_token or len(session_token) > 200:
        raise NotAllowed("sign in by the link in the chat first", reason="not_signed_in")
    person_id = uow.signins.session_person(token_hash(session_token), clock.now())
    if person_id is None:
        raise NotAllowed("sign in by the link in the chat first", reason="not_signed_in")
    return _openable(uow, person_id, file_id)


def attach_to_booking(uow: FilesUnitOfWork, booking: Booking) -> int:
    """The stored files named in a new request's attachments now belong to it (only the client's own)."""
    assert booking.id is not None
    ids = [found[0] for value in booking.details.attachments if (found := parse_ref(value)) is not None]
    return uow.files.attach(ids, booking.id, booking.client_id) if ids else 0
