"""Day and slot pickers shared by booking, rescheduling and the expert's "suggest another time".

Slots are shown in the person's timezone with the other side's for reference;
a slot travels in a payload as minutes since the Unix epoch (short, exact).
A day picker shows MAX_DAYS days (later_days_start says where the next ones begin); a day with more
free starts than MAX_SLOTS buttons is either paged (slot_page) or thinned (thin, with between_hint
saying the rest can be typed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.flows.actions import iso_day, slot_minutes
from bot.flows.base import Context
from bot.replies import Button, rows

MAX_DAYS = 12
MAX_SLOTS = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Wider than any clock a test or a deployment runs on, narrower than what makes datetime overflow
# (9999-12-31 plus a timezone offset); the dispatcher holds presses to a much closer range (actions.Slot).
_FIRST = datetime(2000, 1, 1, tzinfo=UTC)
_LAST = datetime(2200, 1, 1, tzinfo=UTC)


def slot_arg(at: datetime) -> str:
    return str(int((at - _EPOCH).total_seconds() // 60))


def parse_slot_arg(arg: str) -> datetime | None:
    """A slot from a payload (or the draft): ASCII epoch minutes within a sane range (see bot/flows/actions.py).

    The range is fixed (2000-2200), not the clock's, so a draft saved before the clock moved still parses;
    whether the instant is free and on the expert's grid is the caller's question (Availability.problem)."""
    at = slot_minutes(arg)
    return at if at is not None and _FIRST <= at <= _LAST else None


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def on_day(slots: Sequence[datetime], tz: str, day: date) -> list[datetime]:
    zone = ZoneInfo(tz)
    return [s for s in slots if s.astimezone(zone).date() == day]


def first_per_day(slots: Sequence[datetime], tz: str, limit: int = MAX_DAYS) -> dict[date, datetime]:
    """The first slot of each local day, in one pass (slots are sorted)."""
    zone = ZoneInfo(tz)
    firsts: dict[date, datetime] = {}
    for s in slots:
        day = s.astimezone(zone).date()
        if day not in firsts:
            if len(firsts) == limit:
                break
            firsts[day] = s
    return firsts


def later_days_start(slots: Sequence[datetime], tz: str, days: int = MAX_DAYS) -> datetime | None:
    """The first free start of the first local day the day picker leaves out; None when every day fits."""
    firsts = list(first_per_day(slots, tz, limit=days + 1).values())
    return firsts[days] if len(firsts) > days else None


def slot_page(slots: Sequence[datetime], limit: int = MAX_SLOTS) -> tuple[list[datetime], datetime | None]:
    """A page of one day's free starts, and the start the next page begins with (None on the last page)."""
    return list(slots[:limit]), (slots[limit] if len(slots) > limit else None)


def thin(slots: Sequence[datetime], tz: str, limit: int = MAX_SLOTS) -> list[datetime]:
    """A day with more free starts than buttons: those on the half hour, else on the hour, else evenly spread.

    Round times are easier to read; the ones left out can still be typed (see between_hint).
    """
    if len(slots) <= limit:
        return list(slots)
    zone = ZoneInfo(tz)
    pool = list(slots)
    for every in (30, 60):
        kept = [s for s in pool if s.astimezone(zone).minute % every == 0]
        if not kept:  # a grid that never meets the mark (windows from :10): spread what there is
            break
        pool = kept
        if len(pool) <= limit:
            return pool
    return pool[::-(-len(pool) // limit)]


def between_hint(ctx: Context, slots: Sequence[datetime], shown: Sequence[datetime]) -> str:
    """Under thinned buttons: the other free starts can be typed. Empty when nothing was left out.

    The example names the day as well, because a time typed alone is read as the next such time.
    """
    showing = set(shown)
    hidden = next((s for s in slots if s not in showing), None)
    if hidden is None:
        return ""
    return ctx.t("More times are free in between: type one, for example “{example}”.",
                 example=f"{ctx.t.day(hidden)} {ctx.t.time(hidden)}")


def nearest(slots: Sequence[datetime], target: datetime, n: int) -> list[datetime]:
    """The n free starts closest to a time that did not work, in time order."""
    return sorted(sorted(slots, key=lambda s: abs(s - target))[:n])


def day_buttons(ctx: Context, flow: str, action: str, slots: Sequence[datetime]) -> tuple[tuple[Button, ...], ...]:
    """One button per local day that has a free slot (the person's timezone), soonest first."""
    firsts = first_per_day(slots, ctx.person.timezone)
    return rows([ctx.step_button(ctx.t.day(s), flow, action, d.isoformat()) for d, s in firsts.items()], 3)


def slot_buttons(ctx: Context, flow: str, action: str, slots: Sequence[datetime], *,
                 form: str = "") -> tuple[tuple[Button, ...], ...]:
    buttons = [ctx.step_button(ctx.t.time(s), flow, action, slot_arg(s), form=form) for s in slots[:MAX_SLOTS]]
    return rows(buttons, 4)


def slots_text(ctx: Context, slots: Sequence[datetime], other_tz: str, limit: int = MAX_SLOTS) -> str:
    """The list behind the buttons: every time in both zones, so nobody has to convert."""
    return "\n".join(f"• {ctx.t.both(s, other_tz)}" for s in slots[:limit])


def parse_day_arg(arg: str) -> date | None:
    """A day from a payload: YYYY-MM-DD in ASCII digits, within the years a booking can touch."""
    day = iso_day(arg)
    return day if day is not None and _FIRST.date() <= day <= _LAST.date() else None
