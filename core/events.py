"""What happened, for whoever must be told. The dispatcher turns these into notifications."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # "booking_requested", "booking_accepted", ...
    booking_id: int | None = None
    meeting_id: int | None = None
    data: tuple[tuple[str, str], ...] = ()
