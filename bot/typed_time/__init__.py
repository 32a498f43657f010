"""Typed times in a person's language and zone ("mañana a las 3", "Mon 7 Dec 17:00", "3 बजे"): one entry point,
read_typed_time, and a closed set of readings the time picker acts on without parsing again."""

from bot.typed_time.reader import MAX_CHARS, prepare, read_typed_time
from bot.typed_time.readings import (
    DayOnly,
    Exact,
    MorningOrEvening,
    NotOnSpringForward,
    OnTheClock,
    PartOfDay,
    Past,
    Reading,
    TwiceOnFallBack,
    Unreadable,
    Vague,
    WeekdayMismatch,
    Why,
    instants,
)

__all__ = [
    "MAX_CHARS",
    "DayOnly",
    "Exact",
    "MorningOrEvening",
    "NotOnSpringForward",
    "OnTheClock",
    "PartOfDay",
    "Past",
    "Reading",
    "TwiceOnFallBack",
    "Unreadable",
    "Vague",
    "WeekdayMismatch",
    "Why",
    "instants",
    "prepare",
    "read_typed_time",
]
