"""Expected readings written the way a person checks them: local wall times in the case's zone.

Each helper returns a function of the zone, so one table row reads like the answer a person would expect
("tomorrow 3pm" in New York is 2027-03-02 15:00 there). Wall times given here must exist exactly once in
the zone; the DST helpers name their UTC offsets instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.typed_time import (
    DayOnly,
    Exact,
    MorningOrEvening,
    NotOnSpringForward,
    PartOfDay,
    Past,
    Reading,
    TwiceOnFallBack,
    Unreadable,
    Vague,
    WeekdayMismatch,
    Why,
)

Want = Callable[[str], Reading]
EXAMPLES = {"en": "tomorrow 3pm", "es": "mañana a las 15:00", "ru": "завтра в 15:00", "hi": "कल दोपहर 3 बजे"}
EXAMPLES_ON_A_DAY = {"en": "3pm", "es": "a las 15:00", "ru": "в 15:00", "hi": "दोपहर 3 बजे"}
_PARTS = {"morning": ("06:00", "12:00"), "afternoon": ("12:00", "17:00"), "evening": ("17:00", "22:00"),
          "night": ("20:00", "24:00")}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def local(zone: str, wall: str) -> datetime:
    """A wall time that exists once in the zone ("2027-03-02 15:00"; "24:00" is the next midnight), as UTC."""
    day, clock = wall.split()
    hours, minutes = map(int, clock.split(":"))
    naive = datetime.fromisoformat(day) + timedelta(hours=hours, minutes=minutes)
    z = ZoneInfo(zone)
    a = naive.replace(tzinfo=z, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=z, fold=1).astimezone(UTC)
    assert a == b and a.astimezone(z).replace(tzinfo=None) == naive, f"{wall} is not once in {zone}: fix the test"
    return a


def exact(wall: str) -> Want:
    return lambda zone: Exact(local(zone, wall))


def exact_utc(instant: str) -> Want:
    return lambda zone: Exact(datetime.fromisoformat(instant).astimezone(UTC))


def moe(am: str | Want, pm: str | Want) -> Want:
    def build(zone: str) -> Reading:
        a = exact(am)(zone) if isinstance(am, str) else am(zone)
        p = exact(pm)(zone) if isinstance(pm, str) else pm(zone)
        assert isinstance(a, (Exact, TwiceOnFallBack, NotOnSpringForward))
        assert isinstance(p, (Exact, TwiceOnFallBack, NotOnSpringForward))
        return MorningOrEvening(a, p)
    return build


def day(d: str) -> Want:
    return lambda zone: DayOnly(date.fromisoformat(d))


def past(wall: str) -> Want:
    return lambda zone: Past(local(zone, wall), date.fromisoformat(wall.split()[0]))


def past_day(d: str) -> Want:
    return lambda zone: Past(None, date.fromisoformat(d))


def vague(d: str, part: str, at: str) -> Want:
    start, end = _PARTS[part]
    return lambda zone: Vague(date.fromisoformat(d), PartOfDay(part), local(zone, f"{d} {at}"),
                              local(zone, f"{d} {start}"), local(zone, f"{d} {end}"))


def _offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = map(int, text[1:].split(":"))
    return sign * timedelta(hours=hours, minutes=minutes)


def twice(wall: str, first_offset: str, second_offset: str) -> Want:
    """The clocks go back: `wall` happens at first_offset, then again at second_offset."""
    naive = datetime.fromisoformat(wall)
    one, two = _offset(first_offset), _offset(second_offset)
    return lambda zone: TwiceOnFallBack(naive, (naive - one).replace(tzinfo=UTC), (naive - two).replace(tzinfo=UTC),
                                        one, two)


def gap(wall: str, next_valid: str) -> Want:
    """The clocks go forward past `wall`; `next_valid` is the local time they jump to."""
    return lambda zone: NotOnSpringForward(datetime.fromisoformat(wall), local(zone, next_valid))


def mismatch(d: str, weekday: str, weekday_day: str, as_dated: Want, as_weekday: Want) -> Want:
    return lambda zone: WeekdayMismatch(date.fromisoformat(d), WEEKDAYS.index(weekday),
                                        date.fromisoformat(weekday_day), as_dated(zone), as_weekday(zone))


class no:  # noqa: N801 - reads as a table cell: no(Why.BARE_NUMBER)
    """A refusal: the reason, and the example in the person's language (filled in by the test)."""

    def __init__(self, why: Why) -> None:
        self.why = why

    def __call__(self, zone: str) -> Reading:
        raise AssertionError("compare refusals with matches()")

    def matches(self, got: Reading, language: str, on_a_day: bool) -> bool:
        examples = EXAMPLES_ON_A_DAY if on_a_day else EXAMPLES
        return got == Unreadable(self.why, examples[language])
