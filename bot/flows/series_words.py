"""Words and small pure helpers for recurring series in the chat: how often, how many, which dates are free.

Kept apart from the booking flow so book.py only wires the steps; everything here is pure (a translator and
values in, text or values out), so the request card, /requests and /sessions can say a series the same way.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.recurrence import MAX_OCCURRENCES, Frequency, OccurrenceCheck
from core.schedule import SlotProblem
from bot.i18n import Translator

COUNT_BUTTONS = tuple(range(2, 13))  # "2" to "12" as buttons; more can be typed
FREQUENCY_CODES = {"w": Frequency.WEEKLY, "b": Frequency.BIWEEKLY, "m": Frequency.MONTHLY}
CODE_OF = {f: c for c, f in FREQUENCY_CODES.items()}


def frequency_of(code: str) -> Frequency | None:
    """A frequency from its short wire code ("w", "b", "m"), or None for anything else."""
    return FREQUENCY_CODES.get(code)


def frequency_label(t: Translator, frequency: Frequency) -> str:
    """What the button says."""
    if frequency is Frequency.WEEKLY:
        return t("Repeat weekly")
    if frequency is Frequency.BIWEEKLY:
        return t("Every two weeks")
    return t("Monthly")


def how_often(t: Translator, frequency: Frequency | None, n: int) -> str:
    """"weekly, 4 sessions": the series in a few words (a series whose frequency is unknown: "a series of 4")."""
    if frequency is Frequency.WEEKLY:
        return t.plural("weekly, {n} session", "weekly, {n} sessions", n)
    if frequency is Frequency.BIWEEKLY:
        return t.plural("every two weeks, {n} session", "every two weeks, {n} sessions", n)
    if frequency is Frequency.MONTHLY:
        return t.plural("monthly, {n} session", "monthly, {n} sessions", n)
    return t.plural("a series of {n} session", "a series of {n} sessions", n)


def read_count(text: str) -> int | None:
    """A typed number of sessions ("6", "6 sessions"), or None when the words are not a number."""
    words = text.strip().lower().split()
    if not words or not words[0].isdecimal() or len(words[0]) > 3:
        return None
    return int(words[0])


def count_ok(n: int) -> bool:
    return 2 <= n <= MAX_OCCURRENCES


def month_ends(today: date, n: int = 2) -> list[date]:
    """The last day of this month and the next ones: ready-made "until" dates for buttons."""
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [d for d in out if d > today]


def problem_words(t: Translator, problem: SlotProblem, expert: str) -> str:
    """Why one date of a series clashes, in a few words."""
    if problem is SlotProblem.TAKEN:
        return t("{expert} is busy then", expert=expert)
    if problem is SlotProblem.OUTSIDE_AVAILABILITY:
        return t("{expert} is not available that day", expert=expert)
    if problem is SlotProblem.DAY_FULL:
        return t("{expert}'s day is full", expert=expert)
    if problem is SlotProblem.BEYOND_HORIZON:
        return t("too far ahead to book yet")
    if problem is SlotProblem.OFF_GRID:
        return t("between two slot starts")
    return t("too soon")


def preview_lines(t: Translator, checks: Sequence[OccurrenceCheck], expert_tz: str, expert: str) -> list[str]:
    """One line per date, free or clashing, in the reader's zone with the expert's for reference."""
    lines = []
    for check in checks:
        when = t.both(check.start, expert_tz)
        if check.problem is None:
            lines.append(t("✓ {when}", when=when))
        else:
            lines.append(t("✗ {when}: {why}", when=when, why=problem_words(t, check.problem, expert)))
    return lines


def moves_for_reader(starts: Sequence[datetime], reader_tz: str) -> bool:
    """Whether the series' wall time changes in the reader's zone (a DST change in one zone and not the other)."""
    zone = ZoneInfo(reader_tz)
    return len({s.astimezone(zone).time() for s in starts}) > 1


def free_starts(checks: Sequence[OccurrenceCheck]) -> list[datetime]:
    return [c.start for c in checks if c.problem is None]


# Words that may come before a last date ("until 30 April", "hasta el 30 de abril", "до 30 апреля", "30 अप्रैल तक").
_UNTIL_BEFORE = ("until", "till", "up to", "hasta el", "hasta", "до", "по")
_UNTIL_AFTER = ("तक",)


def strip_until(text: str) -> str:
    """The date alone, without an "until" word the date reader does not expect."""
    words = text.strip()
    lowered = words.lower()
    for word in _UNTIL_BEFORE:
        if lowered.startswith(word + " "):
            return words[len(word) + 1:].strip()
    for word in _UNTIL_AFTER:
        if lowered.endswith(" " + word):
            return words[: -len(word) - 1].strip()
    return words
