"""What a time typed in words means for a time picker: one instant to check, a day to show, or a question.

bot/typed_time reads the words (any of our languages, the person's zone); this module turns its closed set of
readings into what every picker does next, so booking and rescheduling ask the same questions in the same
words: a time that happens twice or never on a DST night, an hour that could be morning or evening, a
weekday that contradicts its date. Nothing ambiguous is guessed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.flows.base import Context
from core.availability import local_day_bounds
from bot.i18n import Translator
from bot.typed_time import (
    DayOnly,
    Exact,
    MorningOrEvening,
    NotOnSpringForward,
    Past,
    Reading,
    TwiceOnFallBack,
    Unreadable,
    Vague,
    WeekdayMismatch,
    Why,
    instants,
    read_typed_time,
)
from core.schedule import SLOT_GRID, SlotProblem

# Problems that mean "not in the expert's hours": an hour without am/pm is settled by the one reading in them.
OUTSIDE_HOURS = frozenset({SlotProblem.OUTSIDE_AVAILABILITY, SlotProblem.PAST, SlotProblem.TOO_SOON,
                           SlotProblem.BEYOND_HORIZON})


@dataclass(frozen=True, slots=True)
class Take:
    """One instant: the picker checks it against the expert's calendar and echoes it back."""

    at: datetime
    notes: list[str] = field(default_factory=list)  # what was decided for the person, said before the echo


@dataclass(frozen=True, slots=True)
class ShowDay:
    day: date


@dataclass(frozen=True, slots=True)
class Passed:
    at: datetime | None
    day: date


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    at: datetime | None = None  # pressing it takes this instant
    day: date | None = None  # or shows this day's free times


@dataclass(frozen=True, slots=True)
class Ask:
    question: str
    choices: list[Choice]


@dataclass(frozen=True, slots=True)
class Refuse:
    text: str


Meaning = Take | ShowDay | Passed | Ask | Refuse


def read(ctx: Context, text: str, on_screen: date | None = None) -> Reading:
    """Read in the person's language and zone; `on_screen` is the day whose times they are looking at."""
    return read_typed_time(text, zone=ctx.person.timezone, language=ctx.person.locale, now=ctx.clock.now(),
                           day=on_screen, grid=SLOT_GRID)


def meaning(t: Translator, text: str, reading: Reading, fits: Callable[[datetime], bool]) -> Meaning:
    """`fits`: whether an instant is inside the expert's hours (used only to settle morning or evening)."""
    if isinstance(reading, Exact):
        return Take(reading.at)
    if isinstance(reading, DayOnly):
        return ShowDay(reading.day)
    if isinstance(reading, Past):
        return Passed(reading.at, reading.day)
    if isinstance(reading, Vague):
        return Take(reading.at, [t("“{text}” is not an exact time, so I took {time}.", text=text,
                                   time=t.time(reading.at))])
    if isinstance(reading, NotOnSpringForward):
        return Take(reading.next_valid, [t("{time} does not exist on {day} in {zone}: the clocks go forward that "
                                           "night. The first time that exists is {valid}.",
                                           time=reading.wall.strftime("%H:%M"), day=day_text(t, reading.wall.date()),
                                           zone=t.timezone, valid=t.time(reading.next_valid))])
    if isinstance(reading, TwiceOnFallBack):
        return Ask(t("{time} happens twice on {day} in {zone}: the clocks go back that night. Which one do you "
                     "mean?", time=reading.wall.strftime("%H:%M"), day=day_text(t, reading.wall.date()), zone=t.timezone),
                   [Choice(f"{t.time(reading.first)} ({offset_text(reading.first_offset)})", at=reading.first),
                    Choice(f"{t.time(reading.second)} ({offset_text(reading.second_offset)})", at=reading.second)])
    if isinstance(reading, MorningOrEvening):
        am, pm = instants(reading.am)[0], instants(reading.pm)[0]
        fitting = [at for at in (am, pm) if fits(at)]
        if len(fitting) == 1:
            return Take(fitting[0])
        if not fitting:  # neither is in the expert's hours: the later one, which the check explains
            return Take(pm)
        return Ask(t("Do you mean {morning} or {evening}?", morning=t.time(am), evening=t.time(pm)),
                   [Choice(f"{t.day(am)} {t.time(am)}", at=am), Choice(f"{t.day(pm)} {t.time(pm)}", at=pm)])
    if isinstance(reading, WeekdayMismatch):
        return Ask(t("{date} is a {weekday}, not a {typed}. Which day do you mean?", date=day_text(t, reading.day),
                     weekday=t.weekday(reading.day.weekday()), typed=t.weekday(reading.weekday)),
                   [_choice(t, reading.as_dated, reading.day), _choice(t, reading.as_weekday, reading.weekday_day)])
    assert isinstance(reading, Unreadable)
    return Refuse(unreadable_text(t, text, reading))


def unreadable_text(t: Translator, text: str, reading: Unreadable) -> str:
    example = reading.example
    if reading.why is Why.BARE_NUMBER:
        return t("Is “{text}” a day or an hour? Please add the other, for example “{example}”.", text=text,
                 example=example)
    if reading.why is Why.NO_SUCH_TIME:
        return t("“{text}” is not a time on the clock. Try for example “{example}”.", text=text, example=example)
    if reading.why is Why.NO_SUCH_DATE:
        return t("There is no such date in “{text}”. Try for example “{example}”.", text=text, example=example)
    if reading.why is Why.DATE_ORDER:
        return t("“{text}” could be read as two different dates. Please write the month as a word, for example "
                 "“{example}”.", text=text, example=example)
    if reading.why is Why.CONFLICTING:
        return t("“{text}” names two different times or days. Please type one, for example “{example}”.", text=text,
                 example=example)
    if reading.why is Why.TOO_LONG:
        return t("That is too long for a date and time. Try for example “{example}”.", example=example)
    return t("I could not read “{text}” as a date and time. Try for example “{example}”, or use the buttons.",
             text=text, example=example)


def offset_text(offset: timedelta) -> str:
    """"UTC−04:00": how a clock's offset is written next to a time that happens twice."""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _choice(t: Translator, reading: Reading, day: date) -> Choice:
    found = instants(reading)
    if len(found) == 1:
        return Choice(f"{t.day(found[0])} {t.time(found[0])}", at=found[0])
    return Choice(day_text(t, day), day=day)


def day_text(t: Translator, day: date) -> str:
    """A local date as the day buttons show it ("Tue 5 Mar"), in the reader's zone."""
    start, _ = local_day_bounds(t.timezone, day)
    return t.day(start)
