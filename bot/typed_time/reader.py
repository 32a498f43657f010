"""read_typed_time: a typed text, in a person's zone and language, to one Reading the time picker acts on.

The rules a person would ask about, in one place:
- a date without a year is the next one, unless it passed within the last 30 days (then it is past);
- a weekday alone is the next one from today ("next Tuesday": the first after today); one that
  contradicts the date is asked about (WeekdayMismatch), never fixed;
- an hour 1-11 without am/pm, a part of the day or a 24-hour form ("09:00") may be morning or evening:
  both are offered (MorningOrEvening) unless one is past; a locale with a 24-hour clock (es, ru) reads
  "9:30" as 09:30, and every locale reads "12" as noon;
- a time without a date is on the day on screen (`day`), else its next occurrence;
- "in 2 hours" is rounded up to the grid (a typed amount never means an exact minute);
- the clocks going back or forward are asked about or said (TwiceOnFallBack, NotOnSpringForward).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.typed_time.fallback import date_in
from bot.typed_time.grammar import Parts, parse
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
)
from bot.typed_time.tokens import normalise, tokenize
from bot.typed_time.vocabulary import LANGUAGES, PARTS, Kind, Lexicon, lexicon
from bot.typed_time.wall import first_instant, on_the_clock, wall_time

MAX_CHARS = 100  # "mié 31 dic 2031, 10:00 (America/Argentina/Buenos_Aires)" is 57
MAX_TOKENS = 16
RECENT = timedelta(days=30)  # "3 Dec" typed on 10 Dec is past, not next year's
_FIRST_YEAR, _LAST_YEAR = 1900, 2200  # a typed year outside is no date we book (and no datetime overflow)
_PART_MINUTES = {  # start, end, the time offered for a vague "afternoon"
    "morning": (6 * 60, 12 * 60, 9 * 60),
    "afternoon": (12 * 60, 17 * 60, 14 * 60),
    "evening": (17 * 60, 22 * 60, 18 * 60),
    "night": (20 * 60, 24 * 60, 21 * 60),
}
_MINUTE = timedelta(minutes=1)


def read_typed_time(
    text: str, *, zone: str, language: str, now: datetime, day: date | None = None, grid: timedelta | None = None
) -> Reading:
    """Read `text` in `zone` and `language` at `now` (aware).

    day: the local date on screen: an hour or a time alone means that day. grid: slot spacing, to which
    "in 2 hours" is rounded up on the local clock."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    lex = lexicon(language)
    if len(text) > MAX_CHARS:
        return _refuse(Why.TOO_LONG, lex, day)
    tokens = tokenize(normalise(text), lex)
    if not tokens:
        return _refuse(Why.NOT_UNDERSTOOD, lex, day)
    if len(tokens) > MAX_TOKENS:
        return _refuse(Why.TOO_LONG, lex, day)
    parts = parse(tokens, lex, on_a_day=day is not None)
    if parts.why is not None:
        return _refuse(parts.why, lex, day)
    tz = _zone(parts.zone or zone)
    if parts.unknown:  # words we do not know: dateparser may know the date they make; the time stays ours
        rest = " ".join(t.text for i, t in enumerate(tokens) if i not in parts.time_tokens)
        found = date_in(rest, [lex.language, "en"] if lex.language != "en" else ["en"], now.astimezone(tz))
        if found is None:
            return _refuse(Why.NOT_UNDERSTOOD, lex, day)
        parts.year, parts.month, parts.day = found.year, found.month, found.day
        parts.day_offset = parts.weekday = parts.delta_minutes = None
        parts.unknown = []
    return _Resolver(parts, lex, tz, now, day, grid).reading()


def prepare(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Do what a process's first readings would (each language's names from Babel, the zone names, dateparser
    and its languages: about a second in all), e.g. when a chat process starts, so no person waits for it."""
    for language in languages:
        lex = lexicon(language)
        date_in("next week", [lex.language, "en"], datetime(2030, 1, 1))
    tokenize(normalise("utc"), lexicon("en"))


def _refuse(why: Why, lex: Lexicon, day: date | None) -> Unreadable:
    return Unreadable(why, lex.example_on_a_day if day is not None else lex.example)


@lru_cache(maxsize=512)
def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {key!r}") from exc


class _Resolver:
    """Parts of a date and a time to a Reading, in one zone at one moment."""

    def __init__(self, parts: Parts, lex: Lexicon, tz: ZoneInfo, now: datetime, page: date | None,
                 grid: timedelta | None) -> None:
        self.p, self.lex, self.tz, self.now, self.page, self.grid = parts, lex, tz, now, page, grid
        self.today = now.astimezone(tz).date()

    def refuse(self, why: Why) -> Unreadable:
        return _refuse(why, self.lex, self.page)

    def reading(self) -> Reading:
        p = self.p
        if p.delta_minutes is not None:
            only_days = p.delta_minutes % 1440 == 0 and p.delta_minutes > 0
            if only_days and p.day is None and p.day_offset is None and p.weekday is None:
                p.day_offset = p.delta_minutes // 1440  # "in 2 days", "через 2 дня", with or without an hour
            elif p.hour is None and p.part is None and not p.has_date:
                return Exact(self.ceil(self.now + timedelta(minutes=p.delta_minutes)))
            else:
                return self.refuse(Why.CONFLICTING)
        dated: date | None = None
        if p.day is not None:
            found = self.calendar_date()
            if isinstance(found, Why):
                return self.refuse(found)
            dated = found
        if p.day_offset is not None:
            by_offset = self.today + timedelta(days=p.day_offset)
            if dated is not None and dated != by_offset:
                return self.refuse(Why.CONFLICTING)
            dated = by_offset
        if p.weekday is not None:
            if dated is not None:
                if dated.weekday() == p.weekday:
                    return self.on(dated)
                other = _nearest_weekday(dated, p.weekday)
                return WeekdayMismatch(dated, p.weekday, other, self.on(dated), self.on(other))
            ahead = (p.weekday - self.today.weekday()) % 7
            if ahead == 0 and p.weekday_rule is Kind.NEXT:
                ahead = 7
            if ahead == 0 and p.weekday_rule is None:
                return self.on(self.today, roll=7)  # "Tuesday 3pm" said on Tuesday at 4pm: next week's
            return self.on(self.today + timedelta(days=ahead))
        if dated is None and (p.hour is not None or p.part is not None):
            dated = self.page
        return self.on(dated)

    # ---- the date

    def calendar_date(self) -> date | Why:
        p = self.p
        assert p.day is not None
        if p.month is None:  # "the 7th": this month's, else the next month that has one
            year, month = self.today.year, self.today.month
            for _ in range(13):
                if p.day <= calendar.monthrange(year, month)[1] and date(year, month, p.day) >= self.today:
                    return date(year, month, p.day)
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return Why.NO_SUCH_DATE
        if p.year is not None:
            if not _FIRST_YEAR <= p.year <= _LAST_YEAR:
                return Why.NO_SUCH_DATE
            return _date(p.year, p.month, p.day) or Why.NO_SUCH_DATE
        options = [d for y in range(self.today.year - 1, self.today.year + 9) if (d := _date(y, p.month, p.day))]
        recent = [d for d in options if self.today - RECENT <= d < self.today]
        ahead = [d for d in options if d >= self.today]
        if recent:
            return recent[-1]
        return ahead[0] if ahead else Why.NO_SUCH_DATE

    # ---- the time on a date (None: its next occurrence)

    def on(self, day: date | None, roll: int = 0) -> Reading:
        """The time on `day`; a time already past there moves `roll` days on. No day: the next occurrence."""
        p = self.p
        if day is None:
            if p.hour is None and p.part is None:
                return self.refuse(Why.NOT_UNDERSTOOD)
            day, roll = self.today, 1
        if p.hour is None:
            if p.part is not None:
                return self.vague(PARTS[p.part], day, roll)
            return DayOnly(day) if day >= self.today else Past(None, day)
        hours = self.hours()
        if isinstance(hours, Why):
            return self.refuse(hours)
        readings: list[OnTheClock] = []
        for hour in hours:
            minutes = hour * 60 + p.minute
            if not 0 <= minutes <= 24 * 60:
                return self.refuse(Why.NO_SUCH_TIME)
            reading = on_the_clock(wall_time(day, minutes), self.tz)
            if roll and not self.ahead(reading):
                reading = on_the_clock(wall_time(day + timedelta(days=roll), minutes), self.tz)
            readings.append(reading)
        ahead = [r for r in readings if self.ahead(r)]
        if len(ahead) == 2:
            return MorningOrEvening(ahead[0], ahead[1])
        if ahead:
            return ahead[0]
        return Past(_latest(readings[-1]), day)

    def hours(self) -> list[int] | Why:
        """The hours (0-24) the typed hour can be: one, or morning and evening."""
        p = self.p
        h = p.hour
        assert h is not None
        if h > 24 or (h == 24 and p.minute) or (p.minutes_typed and not 0 <= p.minute < 60):
            return Why.NO_SUCH_TIME
        if p.meridiem is not None:
            if 1 <= h <= 12:
                return [h % 12 + 12 * p.meridiem]
            if h == 0 and p.meridiem == 0 or h >= 13 and p.meridiem == 1:
                return [h]  # "0 am", "15 pm": odd but one reading
            return Why.NO_SUCH_TIME  # "15 am"
        if p.part is not None and 1 <= h <= 12:
            part = PARTS[p.part]
            if part == "morning":
                return [h]
            if part == "afternoon":
                return [h + 12 if h < 12 else 12]
            if part == "evening":
                return [h + 12 if h < 12 else 24]
            return [h if h <= 4 else h + 12 if h < 12 else 24]  # night: "2 ночи" is 02:00, "11 at night" 23:00
        if p.clock_24h or h == 0 or h >= 13:
            return [h]
        if h == 12 or (p.minutes_typed and self.lex.clock_24h):
            return [h]
        return [h, h + 12]

    def vague(self, part: str, day: date, roll: int) -> Reading:
        start_m, end_m, at_m = _PART_MINUTES[part]
        if roll and first_instant(wall_time(day, end_m), self.tz) <= self.now:
            day += timedelta(days=roll)
        start = first_instant(wall_time(day, start_m), self.tz)
        end = first_instant(wall_time(day, end_m), self.tz)
        at = first_instant(wall_time(day, at_m), self.tz)
        if end <= self.now:
            return Past(at, day)
        if at <= self.now:  # "tonight" at 21:00: the next grid time from now on
            at = self.ceil(self.now + _MINUTE, self.grid or timedelta(minutes=15))
        return Vague(day, PartOfDay(part), at, start, end)

    # ---- helpers

    def ahead(self, reading: OnTheClock) -> bool:
        return _latest(reading) > self.now

    def ceil(self, at: datetime, grid: timedelta | None = None) -> datetime:
        """Up to the next whole minute, or to the grid on the local clock."""
        step = grid or self.grid
        at = at + (-(at - datetime(1970, 1, 1, tzinfo=UTC)) % _MINUTE)
        if not step or step <= timedelta(0):
            return at
        local = at.astimezone(self.tz)
        into_day = timedelta(hours=local.hour, minutes=local.minute)
        return at + (-into_day % step)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_weekday(day: date, weekday: int) -> date:
    ahead = (weekday - day.weekday()) % 7
    return day + timedelta(days=ahead - 7 if ahead > 3 else ahead)


def _latest(reading: OnTheClock) -> datetime:
    if isinstance(reading, Exact):
        return reading.at
    if isinstance(reading, TwiceOnFallBack):
        return reading.second
    assert isinstance(reading, NotOnSpringForward)
    return reading.next_valid
