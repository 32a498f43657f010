"""Signing staff in to the dashboard without passwords: the chat hands out a one-time link (valid 15
minutes, used once), which opens a browser session (12 hours, ended by signing out). Only SHA-256 hashes
of the tokens are stored. Everything a signed-in person sees is limited to the programmes they are staff
of at that moment (a removed role takes effect on the next page)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.errors import NotAllowed
from core.model import Person
from core.ports import UnitOfWork
from core.staff_access import require_any_staff, staff_programmes

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
_TOKEN_BYTES = 32  # 256 bits: not guessable, not enumerable


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard and which programmes they may see."""

    person: Person
    programme_ids: frozenset[int]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_signin_link(uow: UnitOfWork, clock: Clock, *, person_id: int) -> str:
    """A new one-time token for a staff member (NotAllowed "not_staff" for anyone else)."""
    require_any_staff(uow, person_id)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    now = clock.now()
    uow.signins.add_link(token_hash(token), person_id, now, now + LINK_TTL)
    return token


def redeem_signin_link(uow: UnitOfWork, clock: Clock, token: str) -> str:
    """Use the link (once) and open a session; returns the session's token for the cookie.
    A wrong, used or expired link, or someone who is no longer staff: NotAllowed("link_invalid")."""
    now = clock.now()
    if not token or len(token) > 200:
        raise NotAllowed("this sign-in link is not valid", reason="link_invalid")
    person_id = uow.signins.use_link(token_hash(token), now)
    if person_id is None or not staff_programmes(uow, person_id):
        raise NotAllowed("this sign-in link is not valid any more", reason="link_invalid")
    session = secrets.token_urlsafe(_TOKEN_BYTES)
    uow.signins.add_session(token_hash(session), person_id, now, now + SESSION_TTL)
    uow.signins.forget_before(now - SESSION_TTL)  # old links and sessions go; nothing grows without bound
    return session


def signed_in(uow: UnitOfWork, clock: Clock, session_token: str | None) -> Viewer | None:
    """The viewer behind a session cookie, or None (no session, ended, expired, or no longer staff)."""
    if not session_token or len(session_token) > 200:
        return None
    person_id = uow.signins.session_person(token_hash(session_token), clock.now())
    if person_id is None:
        return None
    person = uow.people.get(person_id)
    programmes = staff_programmes(uow, person_id)
    if person is None or not programmes:
        return None
    return Viewer(person, programmes)


def sign_out(uow: UnitOfWork, clock: Clock, session_token: str | None) -> bool:
    if not session_token or len(session_token) > 200:
        return False
    return uow.signins.end_session(token_hash(session_token), clock.now())
