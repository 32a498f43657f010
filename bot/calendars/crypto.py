"""Secrets at rest (CalDAV app passwords, subscription tokens) sealed with Fernet under a key derived from
HEADSTRT_SECRET by HKDF. A MultiFernet also opens what a previous secret sealed (HEADSTRT_SECRET_PREVIOUS),
so the secret can be rotated: set the new one, keep the old one as previous, run `headstrt calendar rekey`."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as random
from collections.abc import Mapping, Sequence
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.calendar_service import CalendarProblem
from bot.settings import previous_secrets, secret

_SALT = b"headstrt"
_INFO = b"headstrt calendar secrets v1"  # a key for this purpose only: the same secret names meeting rooms
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def derive_key(text: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(text.encode()))


class Sealer:
    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        if not current:
            raise ValueError("a secret is needed to seal calendar credentials")
        self._fernet = MultiFernet([Fernet(derive_key(s)) for s in (current, *previous)])

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Sealer:
        return cls(secret(env), previous_secrets(env))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            raise CalendarProblem("sealed with a secret this process does not have: was HEADSTRT_SECRET changed "
                                  "without HEADSTRT_SECRET_PREVIOUS?", reason="calendar_secret_unreadable") from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed with the current key (opened with whichever key sealed it)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            raise CalendarProblem("sealed with an unknown secret", reason="calendar_secret_unreadable") from None


def new_token() -> str:
    """43 URL-safe characters, 256 random bits."""
    return random.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database is searched by: a stolen copy of the table does not give working feed addresses."""
    return hashlib.sha256(token.encode()).hexdigest()
