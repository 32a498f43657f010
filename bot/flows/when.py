"""Times typed in words ("tomorrow 3pm", "next Tuesday 10:30"), read in the person's timezone and
language. The result is always echoed back for confirmation; nothing is guessed silently."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

# A time of day must be present: "tomorrow" alone is a day, not a time.
_HAS_TIME = re.compile(r"\d{1,2}(:\d{2})?\s*(am|pm|h)?\b|\bnoon\b|\bmidnight\b|\d{1,2}\s*(am|pm)", re.IGNORECASE)
_PARTS_OF_DAY = {"morning": 9, "afternoon": 14, "evening": 18}


@dataclass(frozen=True, slots=True)
class TypedTime:
    at: datetime | None  # aware UTC
    problem: str | None  # "unreadable", "no_time" (a day without an hour), "past"
    vague: bool = False  # "Tuesday afternoon": we picked a representative hour; ask to confirm


def read_time(text: str, timezone: str, locale: str, now: datetime) -> TypedTime:
    if text.strip().isdigit():  # "8": a day, a month or an hour? dateparser guesses a month; we ask instead
        return TypedTime(None, "unreadable")
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    lowered = text.lower()
    vague_hour = next((h for word, h in _PARTS_OF_DAY.items() if word in lowered), None)
    cleaned = lowered
    if vague_hour is not None:
        for word in _PARTS_OF_DAY:
            cleaned = cleaned.replace(word, "")
        cleaned = f"{cleaned.strip()} {vague_hour}:00"
    elif not _HAS_TIME.search(lowered):
        return TypedTime(None, "no_time")
    settings = {
        "TIMEZONE": timezone,
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now,
    }
    languages = list(dict.fromkeys([locale.split("_")[0], "en"]))
    try:
        parsed = dateparser.parse(cleaned, settings=settings, languages=languages)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input
        parsed = None
    if parsed is None:
        return TypedTime(None, "unreadable")
    at = parsed.astimezone(UTC)
    if at <= now:
        return TypedTime(at, "past")
    return TypedTime(at, None, vague=vague_hour is not None)
