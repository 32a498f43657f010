"""/availability: an expert sees and edits their weekly hours, days off and extra hours.

Everything is in the expert's own timezone. Weekly hours are typed in the same text format as the
CSV import ("Mon-Fri 09:00-12:00; Wed 14:00-18:00") and echoed back before saving; dates are read
with dateparser in the expert's zone and language and also echoed back. Edits never touch meetings
already held or confirmed: when a change leaves one outside the new hours, the expert is told it
still stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
import re
from typing import Any
from zoneinfo import ZoneInfo

import dateparser
from babel.dates import format_date, get_day_names

from core.availability import availability_intervals
from core.expert_import import parse_weekly
from core.experts import Expert
from core.lifecycle import MeetingStatus
from core.schedule import WEEKDAYS, DateException, ExceptionKind, Schedule, WeeklyWindow, format_minute
from core.waitlist_service import schedule_changed
from bot.flows.actions import Choice, Day, Either, Int, Stamp
from bot.flows.base import Context, Flow, outdated
from bot.i18n import Translator
from bot.replies import Button, rows

NAME = "avail"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    EDIT_WEEK = "week"
    ADD_DAY_OFF = "off"
    ADD_EXTRA_HOURS = "extra"
    REMOVE = "rm"
    REMOVE_ONE = "rmx"
    SAVE = "save"
    TYPE_AGAIN = "again"
    VIEW = "view"


MAX_LISTED = 20  # exceptions offered for removal (buttons)
MAX_WARNINGS = 10
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*(?:-|\u2013|\u2014|to)\s*(\d{1,2}):(\d{2})", re.IGNORECASE)
_RANGE_SEPARATORS = re.compile(r"\s*(?:,|;|\band\b)\s*", re.IGNORECASE)
_TRAILING_WORDS = re.compile(r"(?:[\s,:]+|\b(?:from|at|between|on)\b)+$", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})(?:[./-]\d{2,4})?")
_TWELVE_HOUR = re.compile(r"\d\s*(am|pm)\b|\bnoon\b|\bmidnight\b", re.IGNORECASE)


class AvailabilityFlow(Flow):
    name = NAME
    commands = ("availability",)
    actions = {
        **{a: (Stamp(),) for a in (Act.EDIT_WEEK, Act.ADD_DAY_OFF, Act.ADD_EXTRA_HOURS, Act.REMOVE, Act.SAVE,
                                   Act.TYPE_AGAIN, Act.VIEW)},
        # a day off or extra hours to remove: day, kind, start and end minute ("-": the whole day)
        Act.REMOVE_ONE: (Stamp(), Day(), Choice(("off", "extra")), Either((Choice(("-",)), Int(0, 1440))),
                Either((Choice(("-",)), Int(0, 1440)))),
    }

    def start(self, ctx: Context, args: str) -> None:
        expert = _expert(ctx)
        if expert is None:
            return
        self._show(ctx, expert, _schedule(ctx, expert))

    # ------------------------------------------------------------------ the overview

    def _show(self, ctx: Context, expert: Expert, schedule: Schedule, before: Sequence[str] = ()) -> None:
        t = ctx.t
        tz = schedule.timezone
        lines = [*before, t("Your availability (times in {zone}):", zone=tz), t("Weekly hours:")]
        lines += _week_lines(t, schedule.weekly)
        ahead = _upcoming(schedule, _today(ctx, tz))
        if ahead:
            lines.append(t("Days off and extra hours ahead:"))
            lines += [t("• {item}", item=_exception_text(t, x)) for x in ahead]
        else:
            lines.append(t("No days off or extra hours ahead."))
        lines.append(_rules_text(t, schedule))
        ctx.finish()  # a fresh overview: nothing typed earlier is waiting to be saved
        ctx.goto(NAME, "view")
        ctx.say("\n".join(lines), rows([
            ctx.step_button(t("Edit weekly hours"), NAME, Act.EDIT_WEEK),
            ctx.step_button(t("Add a day off"), NAME, Act.ADD_DAY_OFF),
            ctx.step_button(t("Add extra hours"), NAME, Act.ADD_EXTRA_HOURS),
            ctx.step_button(t("Remove a day off"), NAME, Act.REMOVE),
        ], 2))

    # ------------------------------------------------------------------ presses

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if not ctx.pressed_current(NAME, args):
            outdated(ctx)
            return
        mine = _expert_and_schedule(ctx)
        if mine is None:
            return
        expert, schedule = mine
        rest = args[1:]
        step = ctx.convo.step
        if action in (Act.EDIT_WEEK, Act.ADD_DAY_OFF, Act.ADD_EXTRA_HOURS):
            self._prompt(ctx, action, schedule)
        elif action == Act.REMOVE:
            self._ask_remove(ctx, schedule)
        elif action == Act.REMOVE_ONE and step == "remove" and len(rest) == 4:
            self._remove(ctx, expert, schedule, rest)
        elif action == Act.SAVE and step in ("week_ok", "exc_ok"):
            self._save(ctx, expert, schedule)
        elif action == Act.TYPE_AGAIN and step in ("week_ok", "exc_ok"):
            kind = str(ctx.data.get("kind") or "week")
            self._prompt(ctx, kind if kind in ("week", "off", "extra") else "week", schedule)
        elif action == Act.VIEW:
            self._show(ctx, expert, schedule)
        else:
            outdated(ctx)

    def _prompt(self, ctx: Context, kind: str, schedule: Schedule) -> None:
        """Ask for the weekly hours, a day off or extra hours, in the expert's own zone."""
        t = ctx.t
        zone = schedule.timezone
        back = ((ctx.step_button(t("Back"), NAME, Act.VIEW),),)
        ctx.step(kind)
        if kind == "week":
            ctx.say("\n".join([
                t("Type your whole week in one message, in your time ({zone}). For example:", zone=zone),
                "Mon-Fri 09:00-12:00; Wed 14:00-18:00",
                t("Separate days with “;”. Days: Mon Tue Wed Thu Fri Sat Sun. Times: 24-hour HH:MM."),
                t("Your hours now: {spec}", spec=_spec(schedule.weekly) or t("none")),
            ]), back)
        elif kind == "off":
            ctx.say("\n".join([
                t("Which day are you off? For example “2030-03-12”, “next Friday” or “12 March”."),
                t("For part of a day, add the hours: “12 March 14:00-16:00” (your time, {zone}).", zone=zone),
            ]), back)
        else:
            ctx.say(t("Which day and hours can you add? For example “Saturday 10:00-12:00” or "
                      "“12 March 18:00-20:00” (your time, {zone}).", zone=zone), back)

    # ------------------------------------------------------------------ typing

    def on_text(self, ctx: Context, text: str) -> None:
        step = ctx.convo.step
        if step not in ("week", "off", "extra"):
            ctx.say(ctx.t("Please use the buttons above, or /cancel to stop."))
            return
        mine = _expert_and_schedule(ctx)
        if mine is None:
            return
        expert, schedule = mine
        if step == "week":
            self._read_week(ctx, expert, schedule, text)
        else:
            self._read_exception(ctx, expert, schedule, text, ExceptionKind.OFF if step == "off" else ExceptionKind.EXTRA)

    def _read_week(self, ctx: Context, expert: Expert, schedule: Schedule, text: str) -> None:
        t = ctx.t
        try:
            windows = parse_weekly(text)
        except ValueError as error:
            ctx.say(t("I could not read that: {problem}. Please type the whole week again, for example "
                      "“Mon-Fri 09:00-12:00; Wed 14:00-18:00”.", problem=str(error)))
            return
        new = Schedule(schedule.timezone, windows, schedule.exceptions, schedule.rules)
        ctx.step("week_ok", kind="week", weekly=[[w.weekday, w.start_minute, w.end_minute] for w in windows])
        lines = [t("Your new weekly hours (your time, {zone}):", zone=schedule.timezone)]
        lines += _week_lines(t, windows)
        if not windows:
            lines.append(t("That leaves no weekly hours: clients can book you only on extra hours you add."))
        lines += _stands_notes(ctx, expert, new)
        lines.append(t("Save them?"))
        ctx.say("\n".join(lines), _confirm_buttons(ctx))

    def _read_exception(self, ctx: Context, expert: Expert, schedule: Schedule, text: str,
                        kind: ExceptionKind) -> None:
        t = ctx.t
        tz = schedule.timezone
        read = _read_day(text, tz, ctx.person.locale, ctx.clock.now())
        if read.problem is not None:
            ctx.say(_day_problem(t, read, kind, tz))
            return
        assert read.day is not None
        if kind is ExceptionKind.EXTRA and not read.ranges:
            ctx.say(t("Please add the hours you can give on {day}, like “{example}” (your time, {zone}).",
                      day=_date_text(t, read.day), example=f"{text.strip()} 18:00-20:00", zone=tz))
            return
        new_items = [DateException(read.day, kind, s, e) for s, e in read.ranges] or [DateException(read.day, kind)]
        fresh = [x for x in new_items if x not in schedule.exceptions]
        if not fresh:
            ctx.say(t("That is already in your availability. Type another day, or press Back."),
                    ((ctx.step_button(t("Back"), NAME, Act.VIEW),),))
            return
        new = Schedule(tz, schedule.weekly, tuple(sorted((*schedule.exceptions, *fresh))), schedule.rules)
        ctx.step("exc_ok", kind=kind.value if kind is ExceptionKind.EXTRA else "off",
                 exceptions=[[x.day.isoformat(), x.kind.value, x.start_minute, x.end_minute] for x in fresh])
        lines = [t("{item} (your time, {zone}). Save it?", item=_exception_text(t, x), zone=tz) for x in fresh]
        lines += _stands_notes(ctx, expert, new)
        ctx.say("\n".join(lines), _confirm_buttons(ctx))

    # ------------------------------------------------------------------ saving

    def _save(self, ctx: Context, expert: Expert, schedule: Schedule) -> None:
        t = ctx.t
        if ctx.convo.step == "week_ok":
            weekly = _windows(ctx.data.get("weekly"))
            if weekly is None:
                outdated(ctx)
                return
            new = Schedule(schedule.timezone, weekly, schedule.exceptions, schedule.rules)
            done = t("Saved ✓ Your new weekly hours apply from now on.")
        else:
            fresh = _exceptions(ctx.data.get("exceptions"))
            if fresh is None:
                outdated(ctx)
                return
            merged = tuple(sorted(set(schedule.exceptions) | set(fresh)))
            new = Schedule(schedule.timezone, schedule.weekly, merged, schedule.rules)
            done = t("Saved ✓ {items}", items="; ".join(_exception_text(t, x) for x in fresh))
        ctx.uow.experts.put(expert, new)
        schedule_changed(ctx.uow, expert.id or 0)  # new hours may be what someone on the waitlist waits for
        self._show(ctx, expert, new, [done, *_stands_notes(ctx, expert, new), ""])

    def _ask_remove(self, ctx: Context, schedule: Schedule) -> None:
        t = ctx.t
        ahead = _upcoming(schedule, _today(ctx, schedule.timezone))
        back = ctx.step_button(t("Back"), NAME, Act.VIEW)
        if not ahead:
            ctx.step("view")
            ctx.say(t("You have no days off or extra hours ahead, so there is nothing to remove."), ((back,),))
            return
        ctx.step("remove")
        buttons = [
            ctx.step_button(_exception_label(t, x), NAME, Act.REMOVE_ONE, x.day.isoformat(), x.kind.value,
                            _minute_arg(x.start_minute), _minute_arg(x.end_minute))
            for x in ahead[:MAX_LISTED]
        ]
        text = t("Which one should I remove? (Your time, {zone}.)", zone=schedule.timezone)
        if len(ahead) > MAX_LISTED:
            text += "\n" + t("These are the next {n}; remove one to see more.", n=MAX_LISTED)
        ctx.say(text, rows(buttons, 2) + ((back,),))

    def _remove(self, ctx: Context, expert: Expert, schedule: Schedule, args: Sequence[str]) -> None:
        t = ctx.t
        target = _exception_from_args(args)
        if target is None:
            outdated(ctx)
            return
        if target not in schedule.exceptions:
            ctx.say(t("That one is already gone."))
            self._show(ctx, expert, schedule)
            return
        new = Schedule(schedule.timezone, schedule.weekly,
                       tuple(x for x in schedule.exceptions if x != target), schedule.rules)
        ctx.uow.experts.put(expert, new)
        schedule_changed(ctx.uow, expert.id or 0)  # new hours may be what someone on the waitlist waits for
        self._show(ctx, expert, new, [t("Removed ✓ {item}", item=_exception_text(t, target)),
                                      *_stands_notes(ctx, expert, new), ""])


# ---------------------------------------------------------------------- who and what


def _expert(ctx: Context) -> Expert | None:
    """The person's expert profile; a non-expert is told what this is for."""
    expert = ctx.uow.experts.by_person(ctx.person.id or 0)
    if expert is None or expert.id is None:
        ctx.say(ctx.t("This is for experts: it sets the hours when clients can book you. "
                      "To book a session yourself, use /book."))
        return None
    return expert


def _schedule(ctx: Context, expert: Expert) -> Schedule:
    assert expert.id is not None
    return ctx.uow.experts.schedule(expert.id)


def _expert_and_schedule(ctx: Context) -> tuple[Expert, Schedule] | None:
    """Mid-flow: the person's profile and hours; someone who is no longer an expert is told and leaves the flow."""
    expert = _expert(ctx)
    if expert is None:
        ctx.finish()
        return None
    return expert, _schedule(ctx, expert)


def _today(ctx: Context, tz: str) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(tz)).date()


def _upcoming(schedule: Schedule, today: date) -> list[DateException]:
    return sorted(x for x in schedule.exceptions if x.day >= today)


def _confirm_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    t = ctx.t
    return ((ctx.step_button(t("Save"), NAME, Act.SAVE), ctx.step_button(t("Type it again"), NAME, Act.TYPE_AGAIN),
             ctx.step_button(t("Back"), NAME, Act.VIEW)),)


# ---------------------------------------------------------------------- wording


def _day_names(t: Translator) -> list[str]:
    names = get_day_names("abbreviated", locale=t.locale)
    return [names[i] for i in range(7)]


def _ranges_text(ranges: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{format_minute(a)}–{format_minute(b)}" for a, b in ranges)


def _week_lines(t: Translator, windows: Sequence[WeeklyWindow]) -> list[str]:
    names = _day_names(t)
    lines = []
    for day in range(7):
        ranges = [(w.start_minute, w.end_minute) for w in windows if w.weekday == day]
        lines.append(t("{day}: {hours}", day=names[day], hours=_ranges_text(ranges) if ranges else t("not available")))
    return lines


def _spec(windows: Sequence[WeeklyWindow]) -> str:
    """Windows back in the typed format, shortest first: "Mon-Fri 09:00-12:00; Wed 14:00-18:00"."""
    days_of_range: dict[tuple[int, int], list[int]] = {}
    for w in sorted(windows):
        days_of_range.setdefault((w.start_minute, w.end_minute), []).append(w.weekday)
    ranges_of_days: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for span, days in days_of_range.items():
        ranges_of_days.setdefault(tuple(sorted(set(days))), []).append(span)
    clauses = sorted(ranges_of_days.items(), key=lambda item: (item[0][0], min(item[1])))
    return "; ".join(
        _days_text(days) + " " + " ".join(f"{format_minute(a)}-{format_minute(b)}" for a, b in sorted(spans))
        for days, spans in clauses
    )


def _days_text(days: Sequence[int]) -> str:
    """(0, 1, 2, 4) -> "Mon-Wed,Fri"."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs)


def _date_text(t: Translator, day: date) -> str:
    return format_date(day, "EEE d MMM y", locale=t.locale)


def _exception_text(t: Translator, x: DateException) -> str:
    """A day off or extra hours in a sentence, with the year."""
    day, hours = _date_text(t, x.day), _exception_hours(x)
    if x.kind is ExceptionKind.EXTRA:
        return t("Extra hours on {day}, {hours}", day=day, hours=hours)
    if x.whole_day:
        return t("Day off on {day}", day=day)
    return t("Time off on {day}, {hours}", day=day, hours=hours)


def _exception_label(t: Translator, x: DateException) -> str:
    """The same, short enough for a button."""
    day, hours = format_date(x.day, "EEE d MMM", locale=t.locale), _exception_hours(x)
    if x.kind is ExceptionKind.EXTRA:
        return t("{day} {hours} extra", day=day, hours=hours)
    if x.whole_day:
        return t("{day}: day off", day=day)
    return t("{day} {hours} off", day=day, hours=hours)


def _exception_hours(x: DateException) -> str:
    return _ranges_text([(x.start_minute or 0, x.end_minute or 0)])


def _rules_text(t: Translator, schedule: Schedule) -> str:
    rules = schedule.rules
    notice = int(rules.min_notice.total_seconds() // 60)
    notice_text = (t.plural("{n} hour", "{n} hours", notice // 60) if notice % 60 == 0
                   else t.plural("{n} minute", "{n} minutes", notice))
    parts = [
        t("at least {notice} notice", notice=notice_text),
        t.plural("up to {n} day ahead", "up to {n} days ahead", rules.horizon.days),
        (t.plural("a {n}-minute break between meetings", "a {n}-minute break between meetings",
                  int(rules.buffer.total_seconds() // 60))
         if rules.buffer else t("no break needed between meetings")),
        (t.plural("at most {n} meeting a day", "at most {n} meetings a day", rules.daily_cap)
         if rules.daily_cap is not None else t("no daily limit")),
    ]
    return t("Booking rules: {rules}. Programme staff can change these.", rules="; ".join(parts))


# ---------------------------------------------------------------------- meetings that stand


def _stands_notes(ctx: Context, expert: Expert, schedule: Schedule) -> list[str]:
    """Upcoming held or confirmed meetings the new hours would not cover: they stay booked; say so."""
    t = ctx.t
    now = ctx.clock.now()
    outside: list[tuple[datetime, str, bool, int]] = []
    bookings = [b for b in ctx.uow.bookings.for_person(ctx.person.id or 0) if b.expert_id == expert.id]
    for booking in bookings:
        for m in booking.meetings:
            if not m.active or m.end <= now:
                continue
            if availability_intervals(schedule, m.start, m.end) != [(m.start, m.end)]:
                outside.append((m.start, booking.details.title, m.status is MeetingStatus.CONFIRMED, m.minutes))
    if not outside:
        return []
    outside.sort()
    lines = [t("Note: these meetings fall outside your new hours, and they still stand:")]
    for start, title, confirmed, minutes in outside[:MAX_WARNINGS]:
        if confirmed:
            lines.append(t("• {when}, {minutes} min: “{title}” (confirmed)", when=t.when(start), minutes=minutes,
                           title=title))
        else:
            lines.append(t("• {when}, {minutes} min: “{title}” (a request waiting for your answer)",
                           when=t.when(start), minutes=minutes, title=title))
    if len(outside) > MAX_WARNINGS:
        lines.append(t("…and {n} more.", n=len(outside) - MAX_WARNINGS))
    lines.append(t("If you cannot make a confirmed meeting, cancel it from /sessions; "
                   "answer requests from /requests."))
    return lines


# ---------------------------------------------------------------------- reading a typed day


@dataclass(frozen=True, slots=True)
class _TypedDay:
    day: date | None
    ranges: tuple[tuple[int, int], ...] = ()
    problem: str | None = None  # "unreadable", "no_date", "past", "bad_range", "twelve_hour", "ambiguous"
    piece: str = ""  # the part of the text the problem is about


def _read_day(text: str, tz: str, locale: str, now: datetime) -> _TypedDay:
    """"12 March 14:00-16:00" -> that date (the next one, in the expert's zone) and 14:00-16:00."""
    text = text.strip()
    found = _TIME_OF_DAY.search(text)
    day_text = _TRAILING_WORDS.sub("", text[:found.start()] if found else text).strip()
    range_text = text[found.start():].strip() if found else ""
    if _TWELVE_HOUR.search(day_text):
        return _TypedDay(None, problem="twelve_hour", piece=day_text)
    if not day_text:
        return _TypedDay(None, problem="no_date", piece=text)
    numeric = _NUMERIC_DATE.fullmatch(day_text)
    if numeric and int(numeric[1]) <= 12 and int(numeric[2]) <= 12 and numeric[1] != numeric[2]:
        return _TypedDay(None, problem="ambiguous", piece=day_text)  # 03/12: March or December?
    ranges: list[tuple[int, int]] = []
    if range_text:
        for piece in (p for p in _RANGE_SEPARATORS.split(range_text) if p):
            parsed = _range(piece)
            if parsed is None:
                return _TypedDay(None, problem="bad_range", piece=piece)
            ranges.append(parsed)
    day = _parse_date(day_text, tz, locale, now)
    if day is None:
        return _TypedDay(None, problem="unreadable", piece=day_text)
    if day < now.astimezone(ZoneInfo(tz)).date():
        return _TypedDay(day, problem="past", piece=day_text)
    return _TypedDay(day, tuple(_merged(ranges)))


def _range(piece: str) -> tuple[int, int] | None:
    match = _RANGE.fullmatch(piece.strip())
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return (start, end) if start < end else None


def _merged(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _parse_date(text: str, tz: str, locale: str, now: datetime) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if text.isdigit():  # "1": dateparser reads a month (21 January); a date needs more than a number
        return None
    local_now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    settings: dict[str, Any] = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now}
    languages = list(dict.fromkeys([locale.split("_")[0], "en"]))
    try:
        parsed = dateparser.parse(text, settings=settings, languages=languages)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input
        return None
    return parsed.date() if parsed is not None else None


def _day_problem(t: Translator, read: _TypedDay, kind: ExceptionKind, tz: str) -> str:
    if read.problem == "past":
        assert read.day is not None
        return t("{day} has already passed. Please type a date from today on.", day=_date_text(t, read.day))
    if read.problem == "twelve_hour":
        return t("Please write the hours in 24-hour time, like “12 March 14:00-16:00”.")
    if read.problem == "bad_range":
        return t("I could not read the hours “{piece}”. Write them like 14:00-16:00 (start before end, your time, "
                 "{zone}).", piece=read.piece, zone=tz)
    if read.problem == "ambiguous":
        return t("“{piece}” could be read two ways. Please write the month as a word (“12 March”) or use "
                 "year-month-day (“2030-03-12”).", piece=read.piece)
    if read.problem == "no_date":
        return t("Please start with the date, like “12 March 14:00-16:00”.")
    if kind is ExceptionKind.EXTRA:
        return t("I could not read the date “{piece}”. Try “2030-03-12”, “next Saturday” or “12 March”, "
                 "then the hours.", piece=read.piece)
    return t("I could not read the date “{piece}”. Try “2030-03-12”, “next Friday” or “12 March”.", piece=read.piece)


# ---------------------------------------------------------------------- state (JSON) <-> values


def _windows(raw: object) -> tuple[WeeklyWindow, ...] | None:
    if not isinstance(raw, list):
        return None
    try:
        return tuple(WeeklyWindow(int(d), int(s), int(e)) for d, s, e in raw)
    except (TypeError, ValueError):
        return None


def _exceptions(raw: object) -> list[DateException] | None:
    if not isinstance(raw, list) or not raw:
        return None
    try:
        return [DateException(date.fromisoformat(d), ExceptionKind(k), s, e) for d, k, s, e in raw]
    except (TypeError, ValueError):
        return None


def _minute_arg(minute: int | None) -> str:
    return "-" if minute is None else str(minute)


def _exception_from_args(args: Sequence[str]) -> DateException | None:
    day, kind, start, end = args
    try:
        return DateException(
            date.fromisoformat(day), ExceptionKind(kind),
            None if start == "-" else int(start), None if end == "-" else int(end),
        )
    except ValueError:
        return None

