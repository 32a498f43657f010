"""Meeting links: the expert's own Zoom, Meet or Teams link, or a built-in room with a name
nobody can guess (derived from a server secret and the booking)."""

from __future__ import annotations

import hashlib
import hmac
import os

from core.experts import Expert, MeetingProvider

DEFAULT_ROOM_BASE = "https://meet.jit.si"
_DEV_SECRET = "headstrt-development-secret"


def meeting_url(expert: Expert, booking_id: int) -> str:
    if expert.meeting_link.provider is not MeetingProvider.BUILT_IN and expert.meeting_link.url:
        return expert.meeting_link.url
    secret = os.environ.get("HEADSTRT_SECRET", _DEV_SECRET).encode()
    room = hmac.new(secret, f"booking:{booking_id}".encode(), hashlib.sha256).hexdigest()[:24]
    base = os.environ.get("MEETING_ROOM_BASE_URL", DEFAULT_ROOM_BASE).rstrip("/")
    return f"{base}/headstrt-{room}"
