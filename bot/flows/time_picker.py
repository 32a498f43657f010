"""The time picker: one sub-dialog that chooses the start of each meeting with one expert.

A dialog begins it (TimePicker.begin) with its options: the expert, the length and number of meetings, the
times to leave out, whether it is the first date of a series, whether the caller offers "Change length or
number" and the waitlist, and the form a picked time may lead to. It shows a day picker (days with a free
start, in the person's zone), a day's free times, and reads times typed in words (bot/flows/typed_times.py);
a time is checked against the expert's calendar when it is picked. It ends with one of these results:

- {"slots": [epoch minutes...], "lead": [...]}: every meeting has its time ("lead": what to say first);
- {"first": epoch minutes}: the first date of a series;
- {"none": True, "lead": [...]}: the expert has no free time of that length;
- {"exit": "chl"}: the person asked to change the length or number;
- {"gone": True}: the expert is gone;
- {"slots": [epoch minutes...], "notes": [...]}: the times a host's Wording took (picker.finish, one per
  meeting), with what the typed words left to say.

Its buttons carry the host flow's name and the host's wire codes (`codes`: the picker's actions "day", "days",
"back", "slot", "tyes", "tno", "chl" by default), so payloads are the ones the host declares. Its state is
PickerState, saved in the conversation's data with instants as epoch minutes (bot/flows/dialog.py).

A host with wording of its own (a reschedule, an expert suggesting another time) gives a `Wording`: it shows
the day list, a day's times and what typed words meant, and says whether a time is taken; the picker keeps
the state, the presses, the calendar and the reading of typed words. Options for such hosts: meetings being
moved (not busy), each meeting's own time (not offered for it), per-meeting lengths, meetings in order, and
the day list's start (`since`, "Later dates") and a day's page (`page`, "Later that day") kept as progress.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from core.availability import check_slot, free_slots, local_day_bounds
from core.experts import Expert
from core.schedule import Busy, Schedule, SlotProblem
from bot.flows.base import Context
from bot.flows.dialog import Dialog, Step, begin, end, instant, instants, int_or, minutes_of
from bot.flows.pickers import (
    between_hint,
    day_buttons,
    later_days_start,
    local_day,
    nearest,
    on_day,
    parse_day_arg,
    parse_slot_arg,
    slot_arg,
    slot_buttons,
    slots_text,
    thin,
)
from bot.flows.typed_times import OUTSIDE_HOURS, Ask, Meaning, Passed, Refuse, ShowDay, day_text, meaning
from bot.flows.typed_times import read as read_typed
from bot.flows.waitlist import join_button
from bot.replies import rows

NAME = "time"  # the picker's name on a conversation's dialog stack
STEPS = frozenset({"day", "slot", "typed"})
NEAREST = 6  # free slots offered around a time that did not work
LIST_STEP = timedelta(minutes=30)  # the grid shown as buttons; typed times may use any quarter hour
NEAR_STEP = timedelta(minutes=15)
MARGIN = timedelta(days=1)  # busy time around the horizon, for buffers and the daily cap


@dataclass
class PickerState:
    """What the picker keeps between events. Options (set by the caller) and progress (set by the picker)."""

    expert_id: int
    minutes: int
    count: int = 1  # meetings to pick
    picked: list[datetime] = field(default_factory=list)  # this run's picks, in order
    leave_out: list[tuple[datetime, datetime]] = field(default_factory=list)  # never offered, never taken
    series: bool = False  # picking the first date of a series
    changeable: bool = False  # "chl" leaves the picker to change the length or number
    drafted: bool = False  # the caller's details are written already: no "Change…", no waitlist
    form: str = ""  # the form (bot/forms.py) a press that picks the last time may lead to
    moving: list[int] = field(default_factory=list)  # meetings being moved: not counted as busy
    skip: list[datetime] = field(default_factory=list)  # meeting i's own time (skip[i]): not offered for it
    lengths: list[int] = field(default_factory=list)  # meeting i lasts lengths[i] minutes (empty: `minutes`)
    ordered: bool = False  # each meeting starts after the one before it ends
    day: date | None = None  # the day whose times are on screen
    typed: datetime | None = None  # a typed time said back, waiting for Yes
    since: datetime | None = None  # where the day list begins ("Later dates"); None: from the earliest
    page: datetime | None = None  # where the day's page of times begins ("Later that day")

    def length(self, i: int) -> int:
        """Minutes of meeting i (0-based)."""
        return self.lengths[i] if i < len(self.lengths) else self.minutes

    @property
    def next_minutes(self) -> int:
        """Minutes of the meeting to place next."""
        return self.length(len(self.picked))

    def after(self) -> datetime | None:
        """Meetings in order: the next one starts once the last one picked ends."""
        if not self.ordered or not self.picked:
            return None
        return self.picked[-1] + timedelta(minutes=self.length(len(self.picked) - 1))

    def skipped(self) -> list[datetime]:
        """The starts not offered for the meeting to place next (its own time)."""
        i = len(self.picked)
        return [self.skip[i]] if i < len(self.skip) else []

    @classmethod
    def load(cls, data: Mapping[str, Any], picks: str = "slots") -> PickerState:
        """`picks`: the key this host keeps the picked starts under."""
        out = [(a, b) for pair in data.get("out", []) if isinstance(pair, list) and len(pair) == 2
               and (a := instant(pair[0])) is not None and (b := instant(pair[1])) is not None]
        moving = data.get("mv")  # one meeting id (as saved before several could be), or a list of them
        mv = [int_or(m, 0) for m in moving] if isinstance(moving, list) else [int_or(moving, 0)]
        lengths = data.get("lens")
        return cls(int_or(data.get("x"), 0), int_or(data.get("len"), 0), int_or(data.get("n"), 1),
                   instants(data.get(picks)), out, bool(data.get("series")), bool(data.get("chg")),
                   bool(data.get("drafted")), str(data.get("form") or ""), [m for m in mv if m],
                   instants(data.get("skip")),
                   [int_or(n, 0) for n in lengths] if isinstance(lengths, list) else [], bool(data.get("ord")),
                   parse_day_arg(str(data.get("day", ""))), instant(data.get("typed")), instant(data.get("since")),
                   instant(data.get("page")))

    def save(self, data: dict[str, Any], picks: str = "slots") -> None:
        data.update(x=self.expert_id, len=self.minutes, n=self.count, out=[[minutes_of(a), minutes_of(b)]
                    for a, b in self.leave_out], series=self.series, chg=self.changeable, drafted=self.drafted,
                    form=self.form)
        data[picks] = [minutes_of(s) for s in self.picked]
        if self.moving:
            mv: int | list[int] = self.moving[0] if len(self.moving) == 1 else list(self.moving)  # one: as before
            data.update(mv=mv, skip=[minutes_of(s) for s in self.skip])
        if self.lengths:
            data.update(lens=list(self.lengths), ord=self.ordered)
        for key, value in (("day", self.day.isoformat() if self.day else None),
                           ("typed", minutes_of(self.typed) if self.typed else None),
                           ("since", minutes_of(self.since) if self.since else None),
                           ("page", minutes_of(self.page) if self.page else None)):
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value


@dataclass(frozen=True, slots=True)
class Calendar:
    """The expert's schedule and busy time, loaded once per event (two queries), with this run's picks and
    the times left out counted as busy."""

    schedule: Schedule
    busy: list[Busy]
    now: datetime
    skip: frozenset[datetime] = frozenset()  # free starts not offered
    after: datetime | None = None  # nothing starts before (meetings in order)

    def free(self, minutes: int, *, step: timedelta = LIST_STEP, start: datetime | None = None,
             end: datetime | None = None, limit: int | None = None) -> list[datetime]:
        if self.after is not None:
            start = max(start, self.after) if start else self.after
        slots = free_slots(self.schedule, self.busy, timedelta(minutes=minutes), self.now, start=start, end=end,
                           step=step, limit=limit)
        return [s for s in slots if s not in self.skip] if self.skip else slots

    def problem(self, at: datetime, minutes: int) -> SlotProblem | None:
        return check_slot(self.schedule, self.busy, at, timedelta(minutes=minutes), self.now)


def calendar(ctx: Context, expert_id: int, minutes: int, picked: Sequence[datetime] = (),
             leave_out: Sequence[tuple[datetime, datetime]] = (), *, moving: Sequence[int] = (),
             skip: Sequence[datetime] = (), lengths: Sequence[int] = (), after: datetime | None = None) -> Calendar:
    """`lengths`: the minutes of each picked meeting, when they differ (else `minutes`)."""
    now = ctx.clock.now()
    if moving:  # the meetings being moved do not block their own new times
        schedule = ctx.uow.experts.schedule(expert_id)
        lo, hi = now - MARGIN, now + schedule.rules.horizon + MARGIN
        busy = ctx.uow.experts.busy(expert_id, lo, hi, except_meetings=frozenset(moving))
    else:
        schedule, busy = ctx.uow.experts.availability_ahead(expert_id, now, MARGIN)  # one round trip
    busy.extend(Busy(start, start + timedelta(minutes=lengths[i] if i < len(lengths) else minutes))
                for i, start in enumerate(picked))
    busy.extend(Busy(a, b) for a, b in leave_out)
    return Calendar(schedule, busy, now, frozenset(skip), after)


class Wording(Protocol):
    """A host's own screens for the picker (see the module's docstring). `picker` is the picker calling."""

    def days(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, lead: list[str]) -> None:
        """The day list (there may be no free time at all); the picker is at its step "day"."""

    def day_page(self, picker: TimePicker, ctx: Context, state: PickerState, cal: Calendar, day: date) -> None:
        """One day's free starts (there may be none); the picker is at its step "slot" with that day."""

    def typed(self, picker: TimePicker, ctx: Context, state: PickerState, text: str, found: Meaning,
              cal: Calendar) -> None:
        """What typed words meant (a time found goes on to `pick`)."""

    def pick(self, picker: TimePicker, ctx: Context, state: PickerState, at: datetime, notes: Sequence[str],
             cal: Calendar) -> None:
        """A time pressed or typed: check it and end the picker (picker.finish) or say why not."""


class TimePicker:
    """The picker for one host flow: its buttons carry `flow`; `callers` are the dialogs that begin it."""

    def __init__(self, flow: str, codes: Mapping[str, str] | None = None, wording: Wording | None = None,
                 *, picks: str = "slots") -> None:
        self.flow = flow
        self.picks = picks  # the key the picked starts are kept under in the picker's data
        self.codes = {a: a for a in ("day", "days", "back", "slot", "tyes", "tno", "chl")} | dict(codes or {})
        self.wording = wording
        self.callers: dict[str, Dialog] = {}
        c = self.codes
        shared = {c["day"]: self._press_day, c["days"]: self._press_days, c["back"]: self._press_back,
                  c["slot"]: self._press_slot, c["chl"]: self._press_change}
        self.dialog = Dialog(NAME, flow, [
            Step("day", self.ask_day, shared, text=self._typed),
            Step("slot", self._show_again, shared, text=self._typed),
            Step("typed", self.ask_day, {**shared, c["tyes"]: self._press_yes, c["tno"]: self._press_no},
                 text=self._typed),
        ])

    # ---- beginning and ending

    def begin(self, ctx: Context, caller: str, state: PickerState, *, resume: str,
              lead: list[str] | None = None, at: datetime | None = None) -> None:
        """Put the picker on top of the dialog named `caller` (it resumes at its step `resume`; it must be in
        `callers` by then, to take the result), then show the days, or
        take `at` at once (a time already chosen elsewhere, checked like a pressed one)."""
        data: dict[str, Any] = {}
        state.save(data, self.picks)
        begin(ctx, caller, self.dialog, data, step="day", resume=resume, show=False)
        if at is not None:
            self.take(ctx, at)
        else:
            self.ask_day(ctx, lead)

    def _end(self, ctx: Context, result: Mapping[str, Any]) -> None:
        end(ctx, self.callers, result)

    def finish(self, ctx: Context, at: datetime, notes: Sequence[str] = ()) -> None:
        """A host's wording took `at` for the meeting to place next: the days again for the one after it, or,
        with every meeting placed, the picker ends ({"slots": [every start], "notes": notes})."""
        state = self._state(ctx)
        state.picked.append(at)
        state.day, state.typed, state.since, state.page = None, None, None, None
        if len(state.picked) < state.count:
            self.save(ctx, state)
            self.ask_day(ctx)
            return
        self._end(ctx, {"slots": [minutes_of(s) for s in state.picked], "notes": list(notes)})

    def _state(self, ctx: Context) -> PickerState:
        return PickerState.load(ctx.data, self.picks)

    def save(self, ctx: Context, state: PickerState) -> None:
        state.save(ctx.data, self.picks)

    def _expert(self, ctx: Context, state: PickerState) -> Expert | None:
        return ctx.uow.experts.get(state.expert_id) if state.expert_id else None

    def _calendar(self, ctx: Context, state: PickerState) -> Calendar:
        return calendar(ctx, state.expert_id, state.minutes, state.picked, state.leave_out, moving=state.moving,
                        skip=state.skipped(), lengths=state.lengths, after=state.after())

    def button(self, ctx: Context, label: str, action: str, *args: object, form: str = "") -> Any:
        """A wizard button for the picker's `action` ("day", "slot", "back"...), with the host's wire code."""
        return ctx.step_button(label, self.flow, self.codes[action], *args, form=form)


    def _form(self, state: PickerState) -> str:
        """The form a picked time may lead to (Slack opens it at the press, while its trigger is fresh); none
        when the caller's details are written already (its summary comes next)."""
        return "" if state.drafted else state.form

    def _stale(self, ctx: Context) -> None:
        self.dialog.stale(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        """A current wizard press (stamp checked by the host) while the picker is on top."""
        self.dialog.press(ctx, action, args)

    def on_text(self, ctx: Context, text: str) -> None:
        self.dialog.type(ctx, text)

    # ---- showing

    def _meeting_label(self, ctx: Context, expert: Expert, state: PickerState) -> str:
        if state.series:
            return ctx.t("The first session of the series ({minutes} min) with {expert}; the others follow at the "
                         "same time in {expert}'s zone.", minutes=state.minutes, expert=expert.name)
        i = len(state.picked) + 1
        if state.count > 1:
            return ctx.t("Meeting {i} of {n} ({minutes} min) with {expert}.", i=i, n=state.count,
                         minutes=state.minutes, expert=expert.name)
        return ctx.t("A {minutes}-minute meeting with {expert}.", minutes=state.minutes, expert=expert.name)

    def ask_day(self, ctx: Context, lead: list[str] | None = None, start_from: date | None = None,
                cal: Calendar | None = None) -> None:
        t = ctx.t
        tz = ctx.person.timezone
        state = self._state(ctx)
        expert = self._expert(ctx, state)
        if expert is None:
            return
        ctx.step("day")
        state.day, state.typed = None, None
        self.save(ctx, state)
        cal = cal or self._calendar(ctx, state)
        lines = list(lead or [])
        if self.wording is not None:
            self.wording.days(self, ctx, state, cal, lines)
            return
        slots = cal.free(state.minutes)
        if not slots:
            self._end(ctx, {"none": True, "lead": lines})
            return
        earliest = slots[0]
        if start_from is not None:
            later = [s for s in slots if local_day(s, tz) >= start_from]
            slots = later or slots
        buttons = list(day_buttons(ctx, self.flow, self.codes["day"], slots))
        extra = []
        next_days = later_days_start(slots, tz)
        if next_days is not None:
            extra.append(self.button(ctx, t("Later days"), "days", local_day(next_days, tz).isoformat()))
        if start_from is not None:
            extra.append(self.button(ctx, t("Earliest days"), "back"))
        if state.changeable and not state.picked and not state.drafted:
            extra.append(self.button(ctx, t("Change length or number"), "chl"))
        if extra:
            buttons.append(tuple(extra))
        if self._one_meeting(state):  # none of these suits: the waitlist for an earlier time
            buttons.append((join_button(ctx, expert, state.minutes, before=earliest),))
        lines.append(self._meeting_label(ctx, expert, state))
        lines.append(t("Pick a day (in your timezone, {zone}), or type a time in words, like “tomorrow 3pm”.", zone=tz))
        ctx.say("\n".join(lines), tuple(buttons))

    @staticmethod
    def _one_meeting(state: PickerState) -> bool:
        """The waitlist offers one time: it is offered while a one-meeting request has no time yet."""
        return state.count == 1 and not state.picked and not state.drafted

    def ask_slot(self, ctx: Context, day: date, lead: list[str] | None = None, cal: Calendar | None = None,
                 page: datetime | None = None) -> None:
        t = ctx.t
        tz = ctx.person.timezone
        state = self._state(ctx)
        expert = self._expert(ctx, state)
        if expert is None:
            return
        cal = cal or self._calendar(ctx, state)
        if self.wording is not None:
            ctx.step("slot")
            state.day, state.page = day, page
            self.save(ctx, state)
            self.wording.day_page(self, ctx, state, cal, day)
            return
        start, end_ = local_day_bounds(tz, day)
        slots = on_day(cal.free(state.minutes, start=start, end=end_), tz, day)
        if not slots:
            self.ask_day(ctx, cal=cal, lead=[*(lead or []), t("There is no free time left on {day} ({zone}). "
                                                             "Please pick another day.", day=day_text(t, day), zone=tz)])
            return
        shown = thin(slots, tz)
        ctx.step("slot")
        state.day = day
        self.save(ctx, state)
        lines = list(lead or [])
        lines.append(self._meeting_label(ctx, expert, state))
        lines.append(t("Free times on {day}, in your time ({zone}) with {expert}'s for reference:",
                       day=day_text(t, day), zone=tz, expert=expert.name))
        lines.append(slots_text(ctx, shown, expert.timezone))
        hint = between_hint(ctx, slots, shown)
        if hint:
            lines.append(hint)
        lines.append(t("Pick a time, or type one in words."))
        buttons = list(slot_buttons(ctx, self.flow, self.codes["slot"], shown, form=self._form(state)))
        buttons.append((self.button(ctx, t("Other day"), "back"),))
        ctx.say("\n".join(lines), tuple(buttons))

    def _show_again(self, ctx: Context) -> None:
        self._keep(ctx, [])

    def _keep(self, ctx: Context, lead: list[str]) -> None:
        """Bad input while choosing a time: say what was wrong and show the same choices again."""
        day = self._state(ctx).day if ctx.convo.step == "slot" else None
        if day is not None:
            self.ask_slot(ctx, day, lead=lead)
        else:
            self.ask_day(ctx, lead=lead)

    def again(self, ctx: Context) -> None:
        """The step on screen again (after joining the waitlist from it, or a file attached meanwhile)."""
        self.dialog.again(ctx)

    # ---- presses

    def _press_day(self, ctx: Context, args: tuple[str, ...]) -> None:
        """A day, and optionally the start its page of times begins with ("Later that day")."""
        day = parse_day_arg(args[0]) if len(args) in (1, 2) else None
        page = parse_slot_arg(args[1]) if len(args) == 2 else None
        if day is None or (len(args) == 2 and page is None):
            self._stale(ctx)
            return
        self.ask_slot(ctx, day, page=page)

    def _press_days(self, ctx: Context, args: tuple[str, ...]) -> None:
        """Later days: from a day (YYYY-MM-DD), or from an instant kept as `since` (a start; "": the earliest)."""
        if len(args) != 1:
            self._stale(ctx)
            return
        day = parse_day_arg(args[0])
        since = parse_slot_arg(args[0]) if args[0] and day is None else None
        if args[0] and day is None and since is None:
            self._stale(ctx)
            return
        if day is None:
            state = self._state(ctx)
            state.since = since
            self.save(ctx, state)
        self.ask_day(ctx, start_from=day)

    def _press_back(self, ctx: Context, args: tuple[str, ...]) -> None:
        self.ask_day(ctx)

    def _press_slot(self, ctx: Context, args: tuple[str, ...]) -> None:
        at = parse_slot_arg(args[0]) if len(args) == 1 else None
        if at is None:
            self._stale(ctx)
            return
        self.take(ctx, at)

    def _press_yes(self, ctx: Context, args: tuple[str, ...]) -> None:
        at = self._state(ctx).typed
        if at is None:
            self._stale(ctx)
            return
        self.take(ctx, at)

    def _press_no(self, ctx: Context, args: tuple[str, ...]) -> None:
        self.ask_day(ctx, lead=[ctx.t("No problem. Pick a day, or type another time.")])

    def _press_change(self, ctx: Context, args: tuple[str, ...]) -> None:
        if not self._state(ctx).changeable:
            self._stale(ctx)
            return
        self._end(ctx, {"exit": "chl"})

    # ---- typing

    def _typed(self, ctx: Context, text: str) -> None:
        """A time in words: read in the person's zone and language; anything ambiguous is asked, the rest echoed."""
        t = ctx.t
        text = text.strip()
        state = self._state(ctx)
        expert = self._expert(ctx, state)
        if expert is None:
            self._end(ctx, {"gone": True})
            return
        if not text and self.wording is None:
            self._keep(ctx, [t("Please pick a day, or type a time like “tomorrow 3pm”.")])
            return
        on_screen = state.day if ctx.convo.step == "slot" else None
        cal = self._calendar(ctx, state)
        found = meaning(t, text, read_typed(ctx, text, on_screen),
                        lambda at: cal.problem(at, state.minutes) not in OUTSIDE_HOURS)
        if self.wording is not None:
            self.wording.typed(self, ctx, state, text, found, cal)
            return
        if isinstance(found, Refuse):
            self._keep(ctx, [found.text])
        elif isinstance(found, ShowDay):
            if found.day < local_day(ctx.clock.now(), ctx.person.timezone):
                self.ask_day(ctx, lead=[t("{day} has already passed. Please pick a day ahead.",
                                          day=day_text(t, found.day))])
                return
            self.ask_slot(ctx, found.day, cal=cal,
                          lead=[t("“{text}” is a day without a time. At what time? Pick one of the free times, or type "
                                  "one like “{text} 3pm”.", text=text)])
        elif isinstance(found, Passed):
            if found.at is None:
                self.ask_day(ctx, lead=[t("{day} has already passed. Please pick a day ahead.",
                                          day=day_text(t, found.day))])
                return
            self._offer_nearest(ctx, expert, ctx.clock.now(), [t("{when} has already passed. Please choose a time "
                                                                 "ahead.", when=t.when(found.at))], cal)
        elif isinstance(found, Ask):
            form = self._form(state)
            buttons = [self.button(ctx, c.label, "slot", slot_arg(c.at), form=form) if c.at is not None
                       else self.button(ctx, c.label, "day", c.day.isoformat() if c.day else "")
                       for c in found.choices]
            state.typed = None
            self.save(ctx, state)
            ctx.say(found.question, (tuple(buttons), (self.button(ctx, t("Other day"), "back"),)))
        else:
            self._echo(ctx, expert, found.at, found.notes, cal)

    def _echo(self, ctx: Context, expert: Expert, at: datetime, notes: list[str], cal: Calendar) -> None:
        """Say back the one time we read, with the other side's clock; Yes takes it (checked again at the press)."""
        t = ctx.t
        state = self._state(ctx)
        echo = " ".join([*notes, t("You mean {when}?", when=t.both(at, expert.timezone))])
        own = _overlaps(state, at)
        if own is not None:
            self._offer_nearest(ctx, expert, at, [echo, t("That overlaps meeting {n} of this request.", n=own)], cal)
            return
        problem = cal.problem(at, state.minutes)
        if problem is not None:
            self._offer_nearest(ctx, expert, at, [echo, problem_text(ctx, expert, problem, cal.schedule)], cal)
            return
        ctx.step("typed")
        state.typed = at
        self.save(ctx, state)
        ctx.say(echo, ((self.button(ctx, t("Yes"), "tyes", form=self._form(state)),
                        self.button(ctx, t("No"), "tno")),))

    def _offer_nearest(self, ctx: Context, expert: Expert, target: datetime, lead: list[str], cal: Calendar) -> None:
        """A time that did not work: say why (in lead) and offer the free slots closest to it as buttons."""
        t = ctx.t
        state = self._state(ctx)
        slots = cal.free(state.minutes, step=NEAR_STEP)
        if not slots:
            self.ask_day(ctx, lead=lead, cal=cal)
            return
        closest = nearest(slots, target, NEAREST)
        lines = [*lead, t("The nearest free times, in your time with {expert}'s for reference:", expert=expert.name),
                 slots_text(ctx, closest, expert.timezone), t("Pick one, type another time, or choose a day.")]
        form = self._form(state)
        buttons = [self.button(ctx, f"{t.day(s)} {t.time(s)}", "slot", slot_arg(s), form=form) for s in closest]
        ctx.step("day")
        state.typed = None
        self.save(ctx, state)
        ctx.say("\n".join(lines), (*rows(buttons, 3), (self.button(ctx, t("Other day"), "back"),)))

    # ---- taking a time

    def take(self, ctx: Context, at: datetime) -> None:
        """Re-checked at press time: someone may have booked it since it was shown."""
        t = ctx.t
        state = self._state(ctx)
        expert = self._expert(ctx, state)
        if expert is None:
            self._stale(ctx)
            return
        cal = self._calendar(ctx, state)
        if self.wording is not None:
            self.wording.pick(self, ctx, state, at, (), cal)
            return
        own = _overlaps(state, at)
        if own is not None:
            self._offer_nearest(ctx, expert, at, [t("That overlaps meeting {n} of this request.", n=own)], cal)
            return
        problem = cal.problem(at, state.minutes)
        if problem is not None:
            self._offer_nearest(ctx, expert, at, [problem_text(ctx, expert, problem, cal.schedule)], cal)
            return
        if state.series:
            self._end(ctx, {"first": minutes_of(at)})
            return
        state.picked.append(at)
        state.day, state.typed = None, None
        self.save(ctx, state)
        n = len(state.picked)
        noted = t("Meeting {i}: {when}.", i=n, when=t.both(at, expert.timezone)) if state.count > 1 else \
            t("Time: {when}.", when=t.both(at, expert.timezone))
        if n < state.count:
            cal.busy.append(Busy(at, at + timedelta(minutes=state.minutes)))
            self.ask_day(ctx, lead=[noted], cal=cal)
        else:
            self._end(ctx, {"slots": [minutes_of(s) for s in state.picked], "lead": [noted]})


def _overlaps(state: PickerState, at: datetime) -> int | None:
    """Which meeting of this run (1-based) a new one would overlap, if any."""
    length = timedelta(minutes=state.minutes)
    for n, start in enumerate(state.picked, start=1):
        if at < start + length and start < at + length:
            return n
    return None


def problem_text(ctx: Context, expert: Expert, problem: SlotProblem, schedule: Schedule) -> str:
    t = ctx.t
    if problem is SlotProblem.PAST:
        return t("That time has already passed.")
    if problem is SlotProblem.TOO_SOON:
        hours = int(schedule.rules.min_notice.total_seconds() // 3600)
        if hours >= 1:
            notice = t.plural("{n} hour", "{n} hours", hours)
        else:
            notice = t.plural("{n} minute", "{n} minutes", int(schedule.rules.min_notice.total_seconds() // 60))
        return t("That is too soon: {expert} needs {notice} notice.", expert=expert.name, notice=notice)
    if problem is SlotProblem.BEYOND_HORIZON:
        return t.plural("That is too far ahead: {expert} takes bookings up to {n} day ahead.",
                        "That is too far ahead: {expert} takes bookings up to {n} days ahead.",
                        schedule.rules.horizon.days, expert=expert.name)
    if problem is SlotProblem.OUTSIDE_AVAILABILITY:
        return t("{expert} is not available then.", expert=expert.name)
    if problem is SlotProblem.OFF_GRID:
        return t("Meetings start on the quarter hour (:00, :15, :30, :45), so that time cannot be booked.")
    if problem is SlotProblem.DAY_FULL:
        return t("{expert}'s day is already full.", expert=expert.name)
    return t("{expert} already has a meeting then.", expert=expert.name)
