"""Choosing times: the booking puts the time picker (bot/flows/time_picker.py) on top of itself at its step
"times"; the picker's result comes back to BookFlow (bot/flows/book.py). Also the waitlist's ways back in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.booking_service import affordability
from core.errors import NotAllowed
from core.experts import Expert
from bot.flows.base import Context
from bot.flows.dialog import begin
from bot.flows.errors import out_of_credits_options
from bot.flows.time_picker import PickerState
from bot.flows.time_picker import STEPS as TIME_STEPS
from bot.flows.booking.draft import DETAILS_FORM, DIALOG, NAME, PICKER, client_id, draft_expert, picking, reset


def choose_times(ctx: Context, expert: Expert, lead: list[str] | None = None, *, at: datetime | None = None) -> None:
    """The time picker on top of this booking; its result comes back to the step "times" (BookFlow)."""
    assert expert.id is not None
    series = bool(ctx.data.get("rep"))
    state = PickerState(expert.id, int(ctx.data["len"]), count=1 if series else int(ctx.data.get("n", 1)),
                        series=series, changeable=not expert.is_pro_bono,
                        drafted=ctx.data.get("title") is not None, form=DETAILS_FORM)
    ctx.data.pop("typed", None)
    ctx.data.pop("day", None)
    ctx.step("times")
    PICKER.begin(ctx, DIALOG, state, resume="times", lead=lead, at=at)


def times_again(ctx: Context) -> None:
    expert = draft_expert(ctx)
    if expert is not None:
        choose_times(ctx, expert)


def show_days_again(ctx: Context, expert_id: int) -> None:
    """After joining the waitlist from the day picker, the picker again (with fresh buttons): a later time
    may still do meanwhile."""
    if picking(ctx) and ctx.convo.step in TIME_STEPS and ctx.data.get("x") == expert_id:
        PICKER.ask_day(ctx)


def book_offered(ctx: Context, expert: Expert, minutes: int, at: datetime, *, offer_id: int) -> None:
    """A waitlist offer's Book: the normal booking, with the expert, the length and the time already chosen.
    The time is checked again now and at Confirm, like any time picked from the list."""
    t = ctx.t
    assert expert.id is not None
    if expert.person_id == ctx.person.id:
        raise NotAllowed("experts cannot book themselves", reason="self_booking")
    can = affordability(ctx.uow, client_id(ctx), expert.id)
    if not can.ok:
        reset(ctx, "broke", x=expert.id, q="", f={})
        ctx.say(t.plural("You have {available} credit, and the shortest session with {expert} costs {needed}.",
                         "You have {available} credits, and the shortest session with {expert} costs {needed}.",
                         t.credits_n(can.available_milli),
                         available=t.credits(can.available_milli), expert=expert.name,
                         needed=t.credits(can.cheapest_milli))
                + "\n" + out_of_credits_options(t, ctx.person))
        return
    reset(ctx, "times", x=expert.id, len=minutes, n=1, slots=[], wo=offer_id, q="", f={})
    choose_times(ctx, expert, at=at)


def adopt_saved_draft(ctx: Context) -> None:
    """A draft saved before the time picker became a sub-dialog sits at "day", "slot" or "typed" with the
    picker's keys in its own data: put the picker on top of it, at the same step, as if begun there, so a
    conversation in progress at the upgrade carries on."""
    if ctx.convo.flow != NAME or picking(ctx) or ctx.convo.step not in TIME_STEPS:
        return
    expert = draft_expert(ctx)
    if expert is None or expert.id is None or not isinstance(ctx.data.get("len"), int):
        return
    step = ctx.convo.step
    saved = PickerState.load(ctx.data)
    series = bool(ctx.data.get("rep"))
    state = PickerState(expert.id, saved.minutes, count=1 if series else saved.count, picked=saved.picked,
                        series=series, changeable=not expert.is_pro_bono,
                        drafted=ctx.data.get("title") is not None, form=DETAILS_FORM, day=saved.day,
                        typed=saved.typed)
    for key in ("typed", "day"):
        ctx.data.pop(key, None)
    ctx.data["slots"] = []
    ctx.step("times")
    data: dict[str, Any] = {}
    state.save(data)
    begin(ctx, DIALOG, PICKER.dialog, data, step=step, resume="times", show=False)
