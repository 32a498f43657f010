"""Day and slot pickers shared by booking, rescheduling and the expert's "suggest another time".

Slots are shown in the person's timezone with the other side's for reference;
a slot travels in a payload as minutes since the Unix epoch (short, exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.flows.base import Context
from bot.replies import Button, rows

MAX_DAYS = 12
MAX_SLOTS = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_arg(at: datetime) -> str:
    return str(int((at - _EPOCH).total_seconds() // 60))


def parse_slot_arg(arg: str) -> datetime | None:
    if not arg.isdigit() or len(arg) > 10:
        return None
    return _EPOCH + timedelta(minutes=int(arg))


def days_of(slots: Sequence[datetime], tz: str) -> list[date]:
    zone = ZoneInfo(tz)
    return list(dict.fromkeys(s.astimezone(zone).date() for s in slots))


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


def day_buttons(ctx: Context, flow: str, action: str, slots: Sequence[datetime]) -> tuple[tuple[Button, ...], ...]:
    """One button per local day that has a free slot (the person's timezone), soonest first."""
    firsts = first_per_day(slots, ctx.person.timezone)
    return rows([ctx.step_button(ctx.t.day(s), flow, action, d.isoformat()) for d, s in firsts.items()], 3)


def slot_buttons(ctx: Context, flow: str, action: str, slots: Sequence[datetime]) -> tuple[tuple[Button, ...], ...]:
    buttons = [ctx.step_button(ctx.t.time(s), flow, action, slot_arg(s)) for s in slots[:MAX_SLOTS]]
    return rows(buttons, 4)


def slots_text(ctx: Context, slots: Sequence[datetime], other_tz: str, limit: int = MAX_SLOTS) -> str:
    """The list behind the buttons: every time in both zones, so nobody has to convert."""
    return "\n".join(f"• {ctx.t.both(s, other_tz)}" for s in slots[:limit])


def parse_day_arg(arg: str) -> date | None:
    try:
        return date.fromisoformat(arg)
    except ValueError:
        return None
